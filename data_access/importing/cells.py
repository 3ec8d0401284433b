"""Reading one column's text cells as typed values, with a message for each bad cell.

One function per `Kind` of `domain.import_format`, each a pair of Polars expressions over
the trimmed cell text (null when blank): the typed value (null when blank or bad) and the
problem message (null when the cell is fine or blank; blank required cells are checked in
`checks`). The rules are import-format.md's "General rules":

- whole numbers are digits with an optional sign, and must fit the database's integer
  (-2147483648..2147483647); grade levels are -1..12;
- numbers are decimals (an exponent is allowed) and must be finite;
- dates are `YYYY-MM-DD` and must exist;
- Y/N cells accept `Y`/`N`, `yes`/`no`, `true`/`false`, `1`/`0` in any case;
- vocabulary cells must be one of the listed values exactly (case matters: `F`, `math`);
- list cells are split on `;`, each item trimmed and checked, and stored sorted and unique
  (`domain.vocabulary.format_list`);
- a mark is a letter `A`..`D` or `F` with an optional `+`/`-`, `P`, `NP`, or a number
  from 0 to 100;
- emails must look like `name@domain` and are stored in lower case;
- text may not be longer than its database column, nor hold a NUL character.
"""

from __future__ import annotations

from collections.abc import Callable

import polars as pl

from domain.import_format import GRADE_RANGE, YES_NO_VALUES, ColumnFormat, Kind

INT_RANGE = (-(2**31), 2**31 - 1)
_INT = r"^[+-]?[0-9]+$"
_NUMBER = r"^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?$"
_DATE = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
_LETTER_MARK = r"^([ABCDF][+-]?|P|NP)$"
_NUMBER_MARK = r"^[0-9]+(\.[0-9]+)?$"
_EMAIL = r"^[^@\s]+@[^@\s]+$"

Parsed = tuple[pl.Expr, pl.Expr]


def _error(condition: pl.Expr, message: str | pl.Expr) -> pl.Expr:
    text = pl.lit(message) if isinstance(message, str) else message
    return pl.when(condition).then(text).otherwise(pl.lit(None, dtype=pl.String))


def _first_error(*pairs: tuple[pl.Expr, str | pl.Expr]) -> pl.Expr:
    """The message of the first true condition (null when none holds)."""
    return pl.coalesce(*(_error(condition, message) for condition, message in pairs))


def _text(text: pl.Expr, _column: ColumnFormat, max_length: int | None) -> Parsed:
    return text, _first_error(
        (text.str.contains("\x00", literal=True), "contains a NUL character"),
        (
            text.str.len_chars() > (max_length or 2**31),
            f"longer than {max_length} characters",
        ),
    )


def _email(text: pl.Expr, column: ColumnFormat, max_length: int | None) -> Parsed:
    lower = text.str.to_lowercase()
    _, too_long = _text(text, column, max_length)
    return lower, pl.coalesce(
        _error(~text.str.contains(_EMAIL), "not an email address (name@domain)"), too_long
    )


def _int(text: pl.Expr, _column: ColumnFormat, _max_length: int | None) -> Parsed:
    shaped = text.str.contains(_INT)
    # Longer than 12 characters cannot fit the range; leaves Int64 parsing out of trouble.
    number = (
        pl.when(shaped & (text.str.len_chars() <= 12))
        .then(text.str.strip_prefix("+"))
        .otherwise(None)
        .str.to_integer(strict=False)
    )
    fits = number.is_between(*INT_RANGE)
    value = pl.when(fits).then(number).otherwise(None).cast(pl.Int64)
    return value, _first_error(
        (~shaped, "not a whole number"),
        (~fits.fill_null(False), f"whole number out of range ({INT_RANGE[0]}..{INT_RANGE[1]})"),
    )


def _grade(text: pl.Expr, column: ColumnFormat, max_length: int | None) -> Parsed:
    number, error = _int(text, column, max_length)
    low, high = GRADE_RANGE
    fits = number.is_between(low, high)
    return pl.when(fits).then(number).otherwise(None), pl.coalesce(
        error,
        _error(
            number.is_not_null() & ~fits,
            f"not a grade level ({low} pre-K, 0 kindergarten, 1..{high})",
        ),
    )


def _number(text: pl.Expr, _column: ColumnFormat, _max_length: int | None) -> Parsed:
    shaped = text.str.contains(_NUMBER)
    number = pl.when(shaped).then(text).otherwise(None).cast(pl.Float64, strict=False)
    finite = number.is_finite()
    return pl.when(finite).then(number).otherwise(None), _first_error(
        (~shaped, "not a number"),
        (~finite.fill_null(False), "number out of range"),
    )


def _date(text: pl.Expr, _column: ColumnFormat, _max_length: int | None) -> Parsed:
    shaped = text.str.contains(_DATE)
    day = pl.when(shaped).then(text).otherwise(None).str.to_date("%Y-%m-%d", strict=False)
    return day, _first_error(
        (~shaped, "not a date (YYYY-MM-DD)"),
        (day.is_null(), "no such date"),
    )


def _yes_no(text: pl.Expr, _column: ColumnFormat, _max_length: int | None) -> Parsed:
    value = text.str.to_lowercase().replace_strict(
        YES_NO_VALUES, default=None, return_dtype=pl.Boolean
    )
    return value, _error(value.is_null(), "not Y or N (also yes/no, true/false, 1/0)")


def _choice(text: pl.Expr, column: ColumnFormat, _max_length: int | None) -> Parsed:
    known = text.is_in(list(column.choices))
    return pl.when(known).then(text).otherwise(None), _error(
        ~known, f"not one of: {', '.join(column.choices)}"
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
    value = pl.when(unknown.is_null() & (stored != "")).then(stored).otherwise(None)
    return value, _error(
        unknown.is_not_null(),
        pl.format("item '{}' is not one of: {}", unknown, pl.lit(", ".join(column.choices))),
    )


def _mark(text: pl.Expr, column: ColumnFormat, max_length: int | None) -> Parsed:
    letter = text.str.contains(_LETTER_MARK)
    shaped_number = text.str.contains(_NUMBER_MARK)
    number = pl.when(shaped_number).then(text).otherwise(None).cast(pl.Float64, strict=False)
    valid = letter | (number <= 100).fill_null(False)
    _, too_long = _text(text, column, max_length)
    return pl.when(valid).then(text).otherwise(None), pl.coalesce(
        _error(
            ~valid,
            "not a mark (A, B, C, D or F with an optional + or -, P, NP, or a number 0..100)",
        ),
        too_long,
    )


_PARSERS: dict[Kind, Callable[[pl.Expr, ColumnFormat, int | None], Parsed]] = {
    Kind.TEXT: _text,
    Kind.EMAIL: _email,
    Kind.INT: _int,
    Kind.GRADE: _grade,
    Kind.NUMBER: _number,
    Kind.DATE: _date,
    Kind.YES_NO: _yes_no,
    Kind.CHOICE: _choice,
    Kind.LIST: _list,
    Kind.MARK: _mark,
}

#: The Polars type of each kind's values (as `data_access.bulk.polars_dtype` reads them back).
DTYPES: dict[Kind, pl.DataType | type[pl.DataType]] = {
    Kind.TEXT: pl.String,
    Kind.EMAIL: pl.String,
    Kind.INT: pl.Int64,
    Kind.GRADE: pl.Int64,
    Kind.NUMBER: pl.Float64,
    Kind.DATE: pl.Date,
    Kind.YES_NO: pl.Boolean,
    Kind.CHOICE: pl.String,
    Kind.LIST: pl.String,
    Kind.MARK: pl.String,
}


def parse(text: pl.Expr, column: ColumnFormat, max_length: int | None) -> Parsed:
    """(typed value, problem message) expressions for one column's trimmed text cells."""
    value, error = _PARSERS[column.kind](text, column, max_length)
    return value.cast(DTYPES[column.kind]), pl.when(text.is_not_null()).then(error)
