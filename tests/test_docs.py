"""The documentation checked against the code, after datasette's `tests/test_docs.py`.

Every fact below is read from the code itself, never from a list kept by hand, so adding a
file, a column, a command, an option, a definition or a setting without documenting it
fails here, one test per missing item, naming it:

- every import file and column of `domain/import_format.py` is in the table of
  `docs/import-format.md`, in bold exactly when it is required, and every value of its
  vocabularies is written there (roles: in `docs/access-rules.md`);
- every `pathwise` command (from the argparse parser of `cli/main.py`) has its row in the
  table of `docs/command-line.md` and a section of its own there; each of its arguments
  and options is in both, and its choices and fixed defaults are in its section;
- every definition key of `indicators/definitions.py` is in `docs/indicators.md`, and every
  setting (`indicators/settings.py` and `indicators/defaults.toml`) has a row there with
  its default;
- every Markdown file cited in a comment, docstring or string of the Python code exists in
  the repository.

Pure text and introspection: no database, no app.
"""

from __future__ import annotations

import argparse
import os
import re
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass, fields
from functools import cache
from pathlib import Path
from typing import Any, Final

import pytest

from cli.main import build_parser
from domain.import_format import FILE_FORMATS, ColumnFormat, FileFormat
from exports.formats import FLAGS_HEADER
from indicators.definitions import definitions
from indicators.settings import _LAYOUT, DEFAULTS_PATH, Settings

ROOT: Final = Path(__file__).resolve().parents[1]
DOCS: Final = ROOT / "docs"


@cache
def _doc(path: str) -> str:
    """A documentation file by its path in the repository (`docs/indicators.md`)."""
    return (ROOT / path).read_text(encoding="utf-8")


def _table_rows(text: str, first_cell: str) -> list[str]:
    """The lines of Markdown tables whose first cell starts with `first_cell`."""
    return [line for line in text.splitlines() if line.startswith(f"| {first_cell}")]


def _has_word(text: str, word: str) -> bool:
    """`word` in `text` as a whole token (`--as` is not found in `--as-of`)."""
    return re.search(rf"(?<![\w-]){re.escape(word)}(?![\w-])", text) is not None


# ---------------------------------------------------------------------------------------
# docs/import-format.md: every file and every column of domain/import_format.py
# ---------------------------------------------------------------------------------------

IMPORT_DOC: Final = "docs/import-format.md"


def _file_row(file: FileFormat) -> str:
    rows = _table_rows(_doc(IMPORT_DOC), f"`{file.name}` |")
    assert rows, f"import file `{file.name}` has no row in the table of {IMPORT_DOC}"
    assert len(rows) == 1, f"import file `{file.name}` has {len(rows)} rows in {IMPORT_DOC}"
    return rows[0]


@pytest.mark.parametrize("file", FILE_FORMATS.values(), ids=lambda f: f.name)
def test_every_import_file_has_a_row_in_the_import_format_doc(file: FileFormat) -> None:
    _file_row(file)


@pytest.mark.parametrize(
    ("file", "column"),
    [(f, c) for f in FILE_FORMATS.values() for c in f.columns],
    ids=lambda item: item.name,
)
def test_every_import_column_is_in_its_files_row_bold_when_required(
    file: FileFormat, column: ColumnFormat
) -> None:
    """The doc's rule: "Required columns are in **bold**"."""
    columns = _file_row(file).split("|")[3]
    bold = f"**{column.name}**" in columns
    assert _has_word(columns, column.name), (
        f"column {column.name} of `{file.name}` is not in {IMPORT_DOC}"
    )
    if column.required:
        assert bold, (
            f"column {column.name} of `{file.name}` is required but not bold in {IMPORT_DOC}"
        )
    else:
        assert not bold, (
            f"column {column.name} of `{file.name}` is optional but bold in {IMPORT_DOC}"
        )


@pytest.mark.parametrize(
    ("file", "column", "choice"),
    [(f, c, v) for f in FILE_FORMATS.values() for c in f.columns for v in c.choices],
    ids=lambda item: item if isinstance(item, str) else item.name,
)
def test_every_vocabulary_value_of_an_import_column_is_in_the_docs(
    file: FileFormat, column: ColumnFormat, choice: str
) -> None:
    """Vocabulary values are written in backticks in the import format, or, for `role`,
    in the roles table of docs/access-rules.md that the import format points to."""
    where = "docs/access-rules.md" if column.name == "role" else IMPORT_DOC
    assert f"`{choice}`" in _doc(where), (
        f"value `{choice}` of column {column.name} of `{file.name}` is not in {where}"
    )


# ---------------------------------------------------------------------------------------
# docs/command-line.md: every command and option of the argparse parser
# ---------------------------------------------------------------------------------------

CLI_DOC: Final = "docs/command-line.md"


@dataclass(frozen=True)
class Argument:
    """One argument of one `pathwise` command, as its documentation must write it."""

    command: str  # "pathwise export flags"
    word: str  # "--as-of", or the metavar of a positional argument ("EMAIL")
    choices: tuple[str, ...]
    default: Any

    @property
    def kind(self) -> str:
        return "option" if self.word.startswith("-") else "argument"

    def __str__(self) -> str:
        return f"{self.command} {self.word}"


def _commands(
    parser: argparse.ArgumentParser, path: tuple[str, ...] = ("pathwise",)
) -> Iterator[tuple[str, argparse.ArgumentParser]]:
    """Every runnable command (a parser without sub-commands), with its full name."""
    groups = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not groups:
        yield " ".join(path), parser
    for group in groups:
        for name, sub in group.choices.items():
            yield from _commands(sub, (*path, name))


COMMANDS: Final = dict(_commands(build_parser()))


def _arguments(command: str, parser: argparse.ArgumentParser) -> Iterator[Argument]:
    for action in parser._actions:
        if isinstance(action, argparse._HelpAction):
            continue
        if action.option_strings:
            word = max(action.option_strings, key=len)
        else:
            word = str(action.metavar or action.dest.upper())
        choices = tuple(str(c) for c in action.choices or ())
        yield Argument(command, word, choices, action.default)


ARGUMENTS: Final = [a for c, p in COMMANDS.items() for a in _arguments(c, p)]


def _overview_rows(command: str) -> str:
    """The rows of the command table whose synopsis starts with `command`."""
    words = command.split()
    rows = [
        row
        for row in _table_rows(_doc(CLI_DOC), f"`{command}")
        if row.split("|")[1].strip(" `").split()[: len(words)] == words
    ]
    assert rows, f"command `{command}` has no row in the command table of {CLI_DOC}"
    return "\n".join(rows)


def _section(command: str) -> str:
    """The text under the heading "### `command`", up to the next heading."""
    text = _doc(CLI_DOC)
    match = re.search(rf"^### `{re.escape(command)}`\n(.*?)(?=^#|\Z)", text, re.M | re.S)
    assert match, f"command `{command}` has no section (### `{command}`) in {CLI_DOC}"
    return match.group(1)


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_a_row_and_a_section_in_the_command_line_doc(command: str) -> None:
    _overview_rows(command)
    _section(command)


@pytest.mark.parametrize("argument", ARGUMENTS, ids=str)
def test_every_option_is_in_its_commands_row_and_section(argument: Argument) -> None:
    where = f"{argument.kind} {argument.word} of `{argument.command}`"
    assert _has_word(_overview_rows(argument.command), argument.word), (
        f"{where} is not in the command table of {CLI_DOC}"
    )
    assert _has_word(_section(argument.command), argument.word), (
        f"{where} is not in its section of {CLI_DOC}"
    )


@pytest.mark.parametrize(
    ("argument", "choice"),
    [(a, c) for a in ARGUMENTS for c in a.choices],
    ids=lambda item: str(item),
)
def test_every_choice_of_an_option_is_in_its_commands_section(
    argument: Argument, choice: str
) -> None:
    assert f"`{choice}`" in _section(argument.command), (
        f"value `{choice}` of {argument.kind} {argument.word} of `{argument.command}` "
        f"is not in its section of {CLI_DOC}"
    )


@pytest.mark.parametrize(
    "argument",
    [a for a in ARGUMENTS if a.default is not None and not isinstance(a.default, bool)],
    ids=str,
)
def test_every_fixed_default_is_in_its_commands_section(argument: Argument) -> None:
    """A default that is a value (not "none" or "off") is written as "default VALUE"."""
    assert f"default {argument.default}" in _section(argument.command), (
        f"the default {argument.default} of {argument.kind} {argument.word} of "
        f"`{argument.command}` is not in its section of {CLI_DOC}"
    )


def test_the_export_flags_header_in_the_doc_is_the_one_written() -> None:
    """The header `pathwise export flags` writes (`FLAGS_HEADER`), column for column."""
    match = re.search(r"^- \*\*`export flags`\*\*: header `([^`]*)`", _doc(CLI_DOC), re.M)
    assert match, f"the export flags header is not in {CLI_DOC} (What the exports contain)"
    assert match.group(1).split(",") == list(FLAGS_HEADER)


# ---------------------------------------------------------------------------------------
# docs/indicators.md: every definition key and every setting
# ---------------------------------------------------------------------------------------

INDICATORS_DOC: Final = "docs/indicators.md"
DEFAULTS: Final = tomllib.loads(DEFAULTS_PATH.read_text(encoding="utf-8"))
SETTING_KEYS: Final = sorted(
    {f"{section}.{key}" for section, key in _LAYOUT}
    | {f"{section}.{key}" for section, table in DEFAULTS.items() for key in table}
)


@pytest.mark.parametrize("key", definitions(Settings()))
def test_every_definition_key_is_in_the_indicators_doc(key: str) -> None:
    assert f"`{key}`" in _doc(INDICATORS_DOC), (
        f"definition `{key}` of indicators/definitions.py is not in {INDICATORS_DOC}"
    )


def test_every_settings_field_is_read_from_the_settings_file() -> None:
    """So that the keys of the layout, checked below, are all the settings there are."""
    assert {field for field, _ in _LAYOUT.values()} == {f.name for f in fields(Settings)}


@pytest.mark.parametrize("key", SETTING_KEYS)
def test_every_setting_has_a_row_with_its_default_in_the_indicators_doc(key: str) -> None:
    section, name = key.split(".")
    assert (section, name) in _LAYOUT, f"setting {key} of defaults.toml is unknown to settings.py"
    assert name in DEFAULTS.get(section, {}), f"setting {key} has no default in defaults.toml"
    rows = _table_rows(_doc(INDICATORS_DOC), f"`{key}` |")
    assert rows, f"setting {key} has no row in the settings table of {INDICATORS_DOC}"
    written = re.findall(r"`([^`]*)`", rows[0].split("|")[2])
    assert written, f"the row of setting {key} in {INDICATORS_DOC} gives no default"
    assert tomllib.loads(f"value = {written[0]}")["value"] == DEFAULTS[section][name], (
        f"the default of setting {key} in {INDICATORS_DOC} is {written[0]}, "
        f"not that of defaults.toml ({DEFAULTS[section][name]!r})"
    )


# ---------------------------------------------------------------------------------------
# Citations: every Markdown file a Python file names exists in the repository
# ---------------------------------------------------------------------------------------

#: A Markdown file name, with the folders written before it (`docs/access-rules.md`).
CITATION: Final = re.compile(r"(?<![\w./-])((?:\.\./|[\w.-]+/)*[\w-]+\.md)\b")
#: Cited on purpose outside the repository: the research notes shared beside it
#: (DEVELOPERS.md), which have no copy in the repository to point to instead.
OUTSIDE: Final = ("../shared/research/",)
SKIPPED_FOLDERS: Final = {"__pycache__", "node_modules"}


def _python_files() -> Iterator[Path]:
    """The project's Python files (hidden folders such as `.venv` are not walked into)."""
    for folder, subfolders, files in os.walk(ROOT):
        subfolders[:] = sorted(
            d for d in subfolders if not d.startswith(".") and d not in SKIPPED_FOLDERS
        )
        yield from (Path(folder, name) for name in sorted(files) if name.endswith(".py"))


def _citations() -> Iterator[tuple[str, str]]:
    for path in _python_files():
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            for cited in CITATION.findall(line):
                yield f"{path.relative_to(ROOT)}:{number}", cited


@pytest.mark.parametrize(
    ("where", "cited"), [(w, c) for w, c in _citations() if not c.startswith(OUTSIDE)]
)
def test_every_markdown_file_cited_in_the_code_is_in_the_repository(where: str, cited: str) -> None:
    found = [
        path.resolve()
        for path in (ROOT / cited, DOCS / cited)
        if path.is_file() and path.resolve().is_relative_to(ROOT)
    ]
    assert found, (
        f"{where} cites {cited}, which is neither in docs/ nor at the root of the "
        "repository (the in-repo docs: "
        + ", ".join(f"docs/{p.name}" for p in sorted(DOCS.glob("*.md")))
        + ")"
    )
