"""Reading one column's text cells as typed values, with a message for each bad cell.

One function per `Kind` of `domain.import_format`. Each returns three Polars expressions
over the trimmed cell text (null when blank):

- `value`: the typed value, null when the cell is blank or bad;
- `suspect`: true for every cell that may be bad (cheap: a cast, a set lookup);
- `error`: the message for a bad cell (null when it is fine or blank), evaluated only on
  the suspect cells, so that a clean million-row file never pays for the messages.

The rules are docs/import-format.md's "General rules":

- whole numbers are digits with an optional sign, and must fit the database's integer
  (-2147483648..2147483647); grade levels are -1..12;
- numbers are decimals (an exponent is allowed) and must be finite;
- dates are `YYYY-MM-DD` and must exist (year 1 or later);
- Y/N cells accept `Y`/`N`, `yes`/`no`, `true`/`false`, `1`/`0` in any case;
- vocabulary cells must be one of the listed values exactly (case matters: `F`, `math`);
- list cells are split on `;`, each item trimmed and checked, and stored sorted and unique
  (`domain.vocabulary.format_list`);
- a mark is a letter `A`..`D` or `F` with an optional `+`/`-`, `P`, `NP`, or a number
  from 0 to 100;
- emails must look like `name@domain` and are stored in lower case;
- a language is an ISO 639-1 two-letter code (`domain.vocabulary.ISO_639_1`) in any
  case, stored in lower case;
- ids are printable ASCII without spaces (`!`..`~`): a zero-width space, a no-break space
  or a Cyrillic look-alike letter would otherwise make `S1000001` a second student; the
  message names the first such character and its position;
- text may not be longer than its database column, nor hold a NUL character.
"""

from __future__ import annotations

import itertools
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import polars as pl

from domain.import_format import GRADE_RANGE, YES_NO_VALUES, ColumnFormat, Kind
from domain.vocabulary import ISO_639_1

INT_RANGE = (-(2**31), 2**31 - 1)
_INT = r"^[+-]?[0-9]+$"
_NUMBER = r"^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?$"
_DATE = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
_NUMBER_MARK = r"^[0-9]+(\.[0-9]+)?$"
_EMAIL = r"^[^@\s]+@[^@\s]+$"
_NOT_ID_CHARACTER = r"[^!-~]"  # anything but printable ASCII without the space
LETTER_MARKS = tuple(f"{letter}{sign}" for letter in "ABCDF" for sign in ("", "+", "-")) + (
    "P",
    "NP",
)


def _casings(words: Iterable[str]) -> list[str]:
    """Every upper/lower-case spelling of each word (`yes`, `Yes`, `yES`, ...)."""
    return [
        "".join(chars)
        for word in words
        for chars in itertools.product(*({c.lower(), c.upper()} for c in word))
    ]


_TRUE = _casings(w for w, v in YES_NO_VALUES.items() if v)
_FALSE = _casings(w for w, v in YES_NO_VALUES.items() if not v)


@dataclass(frozen=True)
class Parsed:
    value: pl.Expr
    suspect: pl.Expr
    error: pl.Expr


def _error(condition: pl.Expr, message: str | pl.Expr) -> pl.Expr:
    text = pl.lit(message) if isinstance(message, str) else message
    return pl.when(condition).then(text).otherwise(pl.lit(None, dtype=pl.String))


def _first_error(*pairs: tuple[pl.Expr, str | pl.Expr]) -> pl.Expr:
    """The message of the first true condition (null when none holds)."""
    return pl.coalesce(*(_error(condition, message) for condition, message in pairs))


def _bad_value(text: pl.Expr, value: pl.Expr) -> pl.Expr:
    return text.is_not_null() & value.is_null()


def _too_long(text: pl.Expr, max_length: int | None) -> tuple[pl.Expr, pl.Expr]:
    """(suspect, error) for text longer than `max_length` characters or holding NUL."""
    nul = text.str.contains("\x00", literal=True)
    if max_length is None:
        return nul, _error(nul, "contains a NUL character")
    # Bytes are at least characters: a cheap first look, characters counted only if needed.
    return nul | (text.str.len_bytes() > max_length), _first_error(
        (nul, "contains a NUL character"),
        (text.str.len_chars() > max_length, f"longer than {max_length} characters"),
    )


def _text(text: pl.Expr, _column: ColumnFormat, max_length: int | None) -> Parsed:
    suspect, error = _too_long(text, max_length)
    return Parsed(text, suspect, error)


def describe_character(character: str) -> str:
    """`U+200B ZERO WIDTH SPACE`: the code point and its Unicode name."""
    name = unicodedata.name(character, "") or unicodedata.category(character)
    return f"U+{ord(character):04X} {name}"


def _id(text: pl.Expr, _column: ColumnFormat, max_length: int | None) -> Parsed:
    odd = text.str.extract(f"({_NOT_ID_CHARACTER})", 1)
    # Every character before the first odd one is ASCII: its byte offset is its position.
    position = text.str.find(_NOT_ID_CHARACTER) + 1
    named = odd.map_elements(describe_character, return_dtype=pl.String)
    long_suspect, too_long = _too_long(text, max_length)
    return Parsed(
        text,
        text.str.contains(_NOT_ID_CHARACTER) | long_suspect,
        pl.coalesce(
            _error(
                odd.is_not_null(),
                pl.format(
                    "not an id: {} at position {}; ids are printable ASCII without spaces",
                    named,
                    position,
                ),
            ),
            too_long,
        ),
    )


def _email(text: pl.Expr, _column: ColumnFormat, max_length: int | None) -> Parsed:
    shaped = text.str.contains(_EMAIL)
    long_suspect, too_long = _too_long(text, max_length)
    return Parsed(
        text.str.to_lowercase(),
        ~shaped | long_suspect,
        pl.coalesce(_error(~shaped, "not an email address (name@domain)"), too_long),
    )


def _whole(text: pl.Expr, low: int, high: int, message: str | None) -> Parsed:
    number = text.cast(pl.Int64, strict=False)  # digits with an optional sign, as _INT
    value = pl.when(number.is_between(low, high)).then(number)
    shaped = text.str.contains(_INT)
    out_of_range = message or f"whole number out of range ({low}..{high})"
    return Parsed(
        value,
        _bad_value(text, value),
        _first_error((~shaped, "not a whole number"), (value.is_null(), out_of_range)),
    )


def _int(text: pl.Expr, _column: ColumnFormat, _max_length: int | None) -> Parsed:
    return _whole(text, *INT_RANGE, None)


def _grade(text: pl.Expr, _column: ColumnFormat, _max_length: int | None) -> Parsed:
    low, high = GRADE_RANGE
    return _whole(text, low, high, f"not a grade level ({low} pre-K, 0 kindergarten, 1..{high})")


def _number(text: pl.Expr, _column: ColumnFormat, _max_length: int | None) -> Parsed:
    number = text.cast(pl.Float64, strict=False)
    value = pl.when(number.is_finite()).then(number)
    return Parsed(
        value,
        _bad_value(text, value),
        _first_error(
            (~text.str.contains(_NUMBER), "not a number"), (value.is_null(), "number out of range")
        ),
    )


def _date(text: pl.Expr, _column: ColumnFormat, _max_length: int | None) -> Parsed:
    shaped = text.str.contains(_DATE)
    day = pl.when(shaped).then(text).str.to_date("%Y-%m-%d", strict=False)
    value = pl.when(day.dt.year() >= 1).then(day)
    return Parsed(
        value,
        _bad_value(text, value),
        _first_error((~shaped, "not a date (YYYY-MM-DD)"), (value.is_null(), "no such date")),
    )


def _yes_no(text: pl.Expr, _column: ColumnFormat, _max_length: int | None) -> Parsed:
    value = pl.when(text.is_in(_TRUE)).then(True).when(text.is_in(_FALSE)).then(False)
    return Parsed(
        value,
        _bad_value(text, value),
        pl.lit("not Y or N (also yes/no, true/false, 1/0)"),
    )


def _choice(text: pl.Expr, column: ColumnFormat, _max_length: int | None) -> Parsed:
    value = pl.when(text.is_in(list(column.choices))).then(text)
    return Parsed(
        value, _bad_value(text, value), pl.lit(f"not one of: {', '.join(column.choices)}")
    )


def _list(text: pl.Expr, column: ColumnFormat, _max_length: int | None) -> Parsed:
    items = (
        text.str.split(";")
        .list.eval(pl.element().str.strip_chars())
        .list.eval(pl.element().filter(pl.element() != ""))
    )
    unknown = items.list.eval(
        pl.element().filter(~pl.element().is_in(list(column.choices)))
    ).list.first()
    stored = items.list.unique().list.sort().list.join(";")
    value = pl.when(unknown.is_null() & (stored != "")).then(stored)
    return Parsed(
        value,
        unknown.is_not_null(),
        pl.format("item '{}' is not one of: {}", unknown, pl.lit(", ".join(column.choices))),
    )


def _mark(text: pl.Expr, _column: ColumnFormat, max_length: int | None) -> Parsed:
    number = pl.when(text.str.contains(_NUMBER_MARK)).then(text).cast(pl.Float64, strict=False)
    valid = text.is_in(list(LETTER_MARKS)) | (number <= 100).fill_null(False)
    long_suspect, too_long = _too_long(text, max_length)
    return Parsed(
        pl.when(valid).then(text),
        (text.is_not_null() & ~valid) | long_suspect,
        pl.coalesce(
            _error(
                ~valid,
                "not a mark (A, B, C, D or F with an optional + or -, P, NP, or a number 0..100)",
            ),
            too_long,
        ),
    )


def _language(text: pl.Expr, _column: ColumnFormat, _max_length: int | None) -> Parsed:
    code = text.str.to_lowercase()
    value = pl.when(code.is_in(sorted(ISO_639_1))).then(code)
    return Parsed(
        value,
        _bad_value(text, value),
        pl.lit("not an ISO 639-1 language code (two letters: en, es, vi, zh...)"),
    )


_PARSERS: dict[Kind, Callable[[pl.Expr, ColumnFormat, int | None], Parsed]] = {
    Kind.TEXT: _text,
    Kind.ID: _id,
    Kind.EMAIL: _email,
    Kind.INT: _int,
    Kind.GRADE: _grade,
    Kind.NUMBER: _number,
    Kind.DATE: _date,
    Kind.YES_NO: _yes_no,
    Kind.CHOICE: _choice,
    Kind.LIST: _list,
    Kind.MARK: _mark,
    Kind.LANGUAGE: _language,
}

#: The Polars type of each kind's values (as `data_access.bulk.polars_dtype` reads them back).
DTYPES: dict[Kind, pl.DataType | type[pl.DataType]] = {
    Kind.TEXT: pl.String,
    Kind.ID: pl.String,
    Kind.EMAIL: pl.String,
    Kind.INT: pl.Int64,
    Kind.GRADE: pl.Int64,
    Kind.NUMBER: pl.Float64,
    Kind.DATE: pl.Date,
    Kind.YES_NO: pl.Boolean,
    Kind.CHOICE: pl.String,
    Kind.LIST: pl.String,
    Kind.MARK: pl.String,
    Kind.LANGUAGE: pl.String,
}


def parse(text: pl.Expr, column: ColumnFormat, max_length: int | None) -> Parsed:
    """Value, suspect and message expressions for one column's trimmed text cells."""
    parsed = _PARSERS[column.kind](text, column, max_length)
    return Parsed(
        parsed.value.cast(DTYPES[column.kind]),
        parsed.suspect.fill_null(False),
        pl.when(text.is_not_null()).then(parsed.error),
    )
