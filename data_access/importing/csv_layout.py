"""Where each CSV record starts and how many fields it has, found without parsing it.

Polars parses the cells (fast), but it fills a short row's missing fields with blanks and
counts records, not lines. This scan supplies what it cannot: for every record, the
physical line it starts on (header = line 1; a quoted field holding a newline makes the
record span several lines, so the next record starts further down) and its number of
fields, so that a truncated or overlong row is an error on the right line.

The rules are RFC 4180's: records end at a newline outside quotes (`\\r\\n` or `\\n`), fields
are separated by commas outside quotes, a quoted field starts at the start of a field and
its closing quote is followed by a comma, a line end or the end of the file; `""` inside
a quoted field is one quote. A quote anywhere else, or a quote never closed, makes the
layout of the rest of the file unknowable: the scan reports the first such quote and stops.

Everything is vectorised with NumPy over the raw bytes: a few passes, no Python loop per
row. The file is UTF-8 without BOM by the time it gets here (checked in `reading`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

QUOTE, COMMA, LF, CR = ord('"'), ord(","), ord("\n"), ord("\r")


@dataclass(frozen=True)
class Layout:
    """Records of a CSV file (the header is record 0)."""

    #: Physical line on which each record starts.
    lines: np.ndarray
    #: Number of fields of each record.
    fields: np.ndarray
    #: Byte offset at which each record starts.
    starts: np.ndarray = field(default_factory=lambda: np.zeros(1, dtype=np.int64))
    #: The first misplaced or unclosed quote: (line, message), or None.
    quote_problem: tuple[int, str] | None = None


def _line_of(newlines: np.ndarray, position: int) -> int:
    """The physical line (from 1) holding byte `position`."""
    return int(np.searchsorted(newlines, position, side="left")) + 1


def _quote_problem(
    buf: np.ndarray, quotes: np.ndarray, newlines: np.ndarray
) -> tuple[int, str] | None:
    """The first quote that breaks the RFC 4180 rules, as (line, message)."""
    n = len(buf)
    opening, closing = quotes[0::2], quotes[1::2]
    # An opening quote starts a field: at the start of the file, after a separator or line
    # end, or right after a closing quote (the second quote of an escaped `""`).
    before = buf[np.maximum(opening - 1, 0)]
    after_closing = np.zeros(len(opening), dtype=bool)
    if len(opening) > 1:
        after_closing[1:] = closing[: len(opening) - 1] == opening[1:] - 1
    bad_open = ~((opening == 0) | (before == COMMA) | (before == LF) | after_closing)
    # A closing quote ends a field: a separator, a line end, the end of the file, or the
    # first quote of an escaped `""` follows it.
    nxt = buf[np.minimum(closing + 1, n - 1)]
    bad_close = ~((closing == n - 1) | (nxt == COMMA) | (nxt == LF) | (nxt == CR) | (nxt == QUOTE))
    problems: list[tuple[int, str]] = []
    if bad_open.any():
        position = int(opening[np.argmax(bad_open)])
        problems.append(
            (
                position,
                'a quote inside an unquoted field (quote the field and write the quote as "")',
            )
        )
    if bad_close.any():
        position = int(closing[np.argmax(bad_close)])
        problems.append(
            (position, "text after the closing quote of a field (quote the whole field)")
        )
    if len(quotes) % 2:
        problems.append((int(quotes[-1]), "a quoted field is never closed"))
    if not problems:
        return None
    position, message = min(problems)
    return _line_of(newlines, position), message


#: Bytes looked at in one NumPy pass: keeps the temporary arrays small for a large file.
BLOCK = 1 << 23


def _positions(buf: np.ndarray, byte: int) -> np.ndarray:
    """Sorted positions of `byte` in `buf`, found block by block."""
    parts = [
        np.flatnonzero(buf[start : start + BLOCK] == byte) + start
        for start in range(0, len(buf), BLOCK)
    ]
    return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)


def _count_before(buf: np.ndarray, byte: int, positions: np.ndarray) -> np.ndarray:
    """For each of the sorted `positions` (0..len(buf)), how many `byte`s precede it."""
    counts = np.empty(len(positions), dtype=np.int64)
    block_starts = np.arange(0, len(buf), BLOCK)
    edges = np.searchsorted(positions, block_starts, side="left").tolist() + [len(positions)]
    total = 0
    for index, start in enumerate(block_starts.tolist()):
        found = np.flatnonzero(buf[start : start + BLOCK] == byte)
        low, high = edges[index], edges[index + 1]
        counts[low:high] = total + np.searchsorted(found, positions[low:high] - start)
        total += len(found)
    if len(block_starts) == 0:
        counts[:] = 0
    else:  # positions at the very end of a buffer whose length is a multiple of BLOCK
        at_end = positions >= len(buf)
        counts[at_end] = total
    return counts


def scan(data: bytes) -> Layout:
    """The record layout of `data` (UTF-8 CSV bytes, no BOM)."""
    buf = np.frombuffer(data, dtype=np.uint8)
    n = len(buf)
    if n == 0:
        return Layout(np.array([1]), np.array([1]))
    newlines = _positions(buf, LF)
    quotes = _positions(buf, QUOTE)
    if len(quotes):
        problem = _quote_problem(buf, quotes, newlines)
        if problem is not None:
            return Layout(np.array([1]), np.array([1]), quote_problem=problem)
        # A newline is inside a quoted field when an odd number of quotes precede it.
        ends_index = np.flatnonzero((np.searchsorted(quotes, newlines) % 2) == 0)
    else:
        ends_index = np.arange(len(newlines))
    ends = newlines[ends_index]
    starts = np.concatenate(([0], ends + 1))
    lines = np.concatenate(([1], ends_index + 2))
    if starts[-1] >= n:  # the file ends with a line end: no record after it
        starts, lines = starts[:-1], lines[:-1]
    bounds = np.concatenate((starts, [n]))
    before = _count_before(buf, COMMA, bounds)
    commas = np.diff(before)
    if len(quotes):
        # Commas inside quoted fields are text: take them off their record's count.
        at_quotes = _count_before(buf, COMMA, quotes)
        inside = at_quotes[1::2] - at_quotes[0::2]
        if inside.any():
            record = np.searchsorted(starts, quotes[0::2], side="right") - 1
            commas -= np.bincount(record, weights=inside, minlength=len(starts)).astype(np.int64)
    return Layout(lines.astype(np.int64), commas + 1, starts.astype(np.int64))
