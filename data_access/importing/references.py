"""References between files: every student_id, school_id, org_id and user_email must exist.

docs/import-format.md: "a reference to an id that exists neither in the database nor in the same
import is an error". A reference resolves when its value is a key in the database's table
or a key of the referenced file in this import (whatever that file's other problems).
Files refer only to files before them in dependency order, so each file is checked as
soon as it is read, against the keys of the files read before it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import polars as pl

from data_access.importing.checks import CheckedFile
from data_access.importing.reading import LINE
from domain.import_format import FILE_FORMATS

NOUNS = {
    "students": "student",
    "schools": "school",
    "organizations": "organization",
    "users": "user",
}


def referenced_files() -> set[str]:
    """The files (kinds) whose keys some file refers to."""
    return {
        column.references
        for fmt in FILE_FORMATS.values()
        for column in fmt.columns
        if column.references
    }


def check_references(
    checked: CheckedFile,
    in_import: Mapping[str, pl.Series],
    in_database: Callable[[str], pl.Series],
) -> list[pl.DataFrame]:
    """Problems for the references of `checked` that resolve nowhere.

    `in_import[kind]` holds the keys of that file in this import (if it is part of it);
    `in_database(kind)` returns the keys of its table."""
    found = []
    for column in checked.format.columns:
        target = column.references
        if target is None or column.name not in checked.ranks:
            continue
        (key,) = FILE_FORMATS[target].key
        known = [in_database(target)]
        if target in in_import:
            known.append(in_import[target])
        keys = pl.concat([k.cast(pl.String).rename(key) for k in known]).unique()
        noun = NOUNS[target]
        given = pl.col(column.name).is_not_null()
        if column.default is not None:  # a blank cell's default names nothing
            given &= pl.col(column.name) != pl.lit(column.default)
        found.append(
            checked.rows.filter(given & ~pl.col(column.name).is_in(keys.implode())).select(
                pl.lit(checked.file).alias("file"),
                pl.col(LINE).alias("line"),
                pl.lit(column.name).alias("column"),
                pl.lit(f"no {noun} with this {key} in the database or in this import").alias(
                    "message"
                ),
                pl.col(column.name).alias("value"),
                pl.lit(checked.ranks[column.name], dtype=pl.Int64).alias("rank"),
            )
        )
    return [f for f in found if f.height]
