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

from dataclasses import dataclass

import numpy as np

QUOTE, COMMA, LF, CR = ord('"'), ord(","), ord("\n"), ord("\r")


@dataclass(frozen=True)
class Layout:
    """Records of a CSV file (the header is record 0)."""

    #: Physical line on which each record starts.
    lines: np.ndarray
    #: Number of fields of each record.
    fields: np.ndarray
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
            (position, 'a quote inside a field that does not start with one (write it as "")')
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


def scan(data: bytes) -> Layout:
    """The record layout of `data` (UTF-8 CSV bytes, no BOM)."""
    buf = np.frombuffer(data, dtype=np.uint8)
    n = len(buf)
    newlines = np.flatnonzero(buf == LF)
    quotes = np.flatnonzero(buf == QUOTE)
    if len(quotes):
        problem = _quote_problem(buf, quotes, newlines)
        if problem is not None:
            return Layout(np.array([1]), np.array([1]), problem)
        # A newline or comma is inside quotes when an odd number of quotes precede it.
        outside = (np.searchsorted(quotes, newlines) % 2) == 0
    else:
        outside = np.ones(len(newlines), dtype=bool)
    ends_index = np.flatnonzero(outside)  # index into `newlines` of each record end
    ends = newlines[ends_index]
    starts = np.concatenate(([0], ends + 1))
    lines = np.concatenate(([1], ends_index + 2))
    if n and starts[-1] >= n:  # the file ends with a line end: no record after it
        starts, lines = starts[:-1], lines[:-1]
    if len(starts) == 0:
        return Layout(np.array([1]), np.array([1]))
    commas = buf == COMMA
    per_record = np.add.reduceat(commas, starts, dtype=np.int64) if n else np.zeros(1, np.int64)
    if len(quotes):
        # Commas inside quoted fields are text: subtract them from their record's count.
        opening, closing = quotes[0::2], quotes[1::2]
        inside = np.add.reduceat(commas, quotes, dtype=np.int64)[0::2]
        inside = inside[: len(closing)]
        if inside.any():
            record = np.searchsorted(starts, opening[: len(inside)], side="right") - 1
            per_record -= np.bincount(record, weights=inside, minlength=len(starts)).astype(
                np.int64
            )
    return Layout(lines.astype(np.int64), per_record + 1)
