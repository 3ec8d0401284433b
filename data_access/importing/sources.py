"""Recognising import files by their names (docs/import-format.md: `students.csv`, `students.xlsx`).

A name is `<kind>.csv` or `<kind>.xlsx`, case-insensitively, where kind is one of the
files of `domain.import_format`. Anything else offered for import is an error, and so is
a second file of the same kind. In a folder, hidden files (names starting with `.`, such
as `.DS_Store`) and sub-folders are not looked at.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path, PurePath

from data_access.importing.problems import Problem
from domain.import_format import FILE_FORMATS

SUFFIXES = (".csv", ".xlsx")


@dataclass(frozen=True)
class ImportFile:
    name: str  # as shown in messages: the file's own name
    kind: str  # a key of FILE_FORMATS

    @property
    def workbook(self) -> bool:
        return self.name.lower().endswith(".xlsx")


def kind_of(name: str) -> str | None:
    """The file kind a name stands for (`Students.CSV` -> `students`), or None."""
    path = PurePath(name)
    if path.suffix.lower() not in SUFFIXES:
        return None
    stem = path.stem.strip().lower()
    return stem if stem in FILE_FORMATS else None


def _name_problem(name: str) -> Problem:
    suffix = PurePath(name).suffix.lower()
    if suffix == ".xls":
        message = "old Excel workbooks (.xls) are not read; save it as .xlsx or CSV UTF-8"
    else:
        message = (
            "not an import file name; expected one of "
            + ", ".join(FILE_FORMATS)
            + " with .csv or .xlsx"
        )
    return Problem(name, None, None, message)


def recognise(names: Iterable[str]) -> tuple[list[ImportFile], list[Problem]]:
    """The import files among `names`, in dependency order, and the problems with the rest."""
    found: dict[str, ImportFile] = {}
    problems: list[Problem] = []
    for name in names:
        kind = kind_of(name)
        if kind is None:
            problems.append(_name_problem(name))
        elif kind in found:
            problems.append(
                Problem(name, None, None, f"a second file for {kind} (also {found[kind].name})")
            )
        else:
            found[kind] = ImportFile(name, kind)
    ordered = [found[kind] for kind in FILE_FORMATS if kind in found]
    return ordered, problems


def files_at(path: Path) -> dict[str, Path]:
    """The files offered for import at `path` (one file, or the files of a folder) by name.

    Raises FileNotFoundError when `path` does not exist."""
    if not path.exists():
        raise FileNotFoundError(f"no such file or folder: {path}")
    if path.is_file():
        return {path.name: path}
    return {
        child.name: child
        for child in sorted(path.iterdir())
        if child.is_file() and not child.name.startswith(".")
    }


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
