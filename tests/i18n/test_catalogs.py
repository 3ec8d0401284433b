"""The catalogs of the family pages (DEVELOPERS.md, "Languages"; issue 16 part 2).

A string a family reads must be translated in every catalog (not missing, not empty, not
fuzzy), with the same placeholders; the template must hold what the code marks today; and
`make catalogs` must build loadable catalogs from a tree without any `.mo`.
"""

from __future__ import annotations

import gettext
import re
import shutil
import subprocess
from io import BytesIO
from pathlib import Path

import pytest
from babel import Locale
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_file
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from domain.vocabulary import (
    CATEGORIES,
    FAFSA_STATUSES,
    ISO_639_1,
    NSC_CONTROLS,
    NSC_ENROLLMENT_STATUSES,
    ROLES,
    SERVICE_TYPES,
    SUBJECTS,
)
from ui.i18n import (
    DOMAIN,
    FAMILY_MODULES,
    LOCALE_DIR,
    SOURCE_LANGUAGE,
    VOCABULARY_WORDS,
    catalog_languages,
)

ROOT = Path(__file__).resolve().parents[2]
#: What `make messages` extracts (the Makefile's I18N_SOURCES).
SOURCES = ("app.py", "pages", "ui")
TRANSLATED = [code for code in catalog_languages() if code != SOURCE_LANGUAGE]
PLACEHOLDER = re.compile(r"\{(\w*)\}")


def messages(paths: list[Path]) -> dict[str, str]:
    """msgid -> where it is, for every marked string of `paths` (Babel's extractor with
    the default keywords, which include `_`, `ngettext`, `gettext` and `N_`)."""
    found: dict[str, str] = {}
    for path in paths:
        for line, message, _comments, _context in extract_from_file(
            "python", path, keywords=DEFAULT_KEYWORDS
        ):
            for msgid in message if isinstance(message, tuple) else (message,):
                if msgid:
                    found.setdefault(msgid, f"{path.relative_to(ROOT)}:{line}")
    return found


def catalog(code: str):
    with (LOCALE_DIR / code / "LC_MESSAGES" / f"{DOMAIN}.po").open("rb") as source:
        return read_po(source, locale=code)


def compiled(code: str) -> gettext.GNUTranslations:
    """The catalog compiled as `make catalogs` compiles it (fuzzy entries left out)."""
    buffer = BytesIO()
    write_mo(buffer, catalog(code))
    buffer.seek(0)
    return gettext.GNUTranslations(buffer)


def test_spanish_has_a_catalog() -> None:
    assert "es" in TRANSLATED


@pytest.mark.parametrize("code", TRANSLATED)
def test_every_string_a_family_reads_is_translated_and_not_fuzzy(code: str) -> None:
    family = messages([ROOT / module for module in FAMILY_MODULES])
    assert len(family) > 50, "the extraction found too few messages to be the family pages"
    po = catalog(code)
    translations = compiled(code)
    problems = []
    for msgid, where in sorted(family.items(), key=lambda item: item[1]):
        entry = po.get(msgid) or next(
            (m for m in po if isinstance(m.id, tuple) and msgid in m.id), None
        )
        strings = entry.string if entry is not None else None
        if entry is None:
            problems.append(f"{where}: {msgid!r} is not in the {code} catalog (make messages)")
        elif entry.fuzzy:
            problems.append(f"{where}: {msgid!r} is fuzzy in the {code} catalog")
        elif not all(strings if isinstance(strings, tuple) else (strings,)):
            problems.append(f"{where}: {msgid!r} has no {code} translation")
        elif not isinstance(entry.id, tuple) and msgid not in translations._catalog:  # type: ignore[attr-defined]
            problems.append(f"{where}: {msgid!r} is missing from the compiled {code} catalog")
    assert problems == []


@pytest.mark.parametrize("code", TRANSLATED)
def test_each_translation_keeps_the_placeholders_of_its_english(code: str) -> None:
    wrong = [
        (entry.id, entry.string)
        for entry in catalog(code)
        if entry.id
        and isinstance(entry.id, str)
        and entry.string
        and sorted(PLACEHOLDER.findall(entry.id)) != sorted(PLACEHOLDER.findall(entry.string))
    ]
    assert wrong == []


def test_the_template_holds_exactly_what_the_code_marks() -> None:
    """`make messages` was run after the last change of a marked string."""
    paths = [
        ROOT / "app.py",
        *sorted((ROOT / "pages").rglob("*.py")),
        *sorted((ROOT / "ui").rglob("*.py")),
    ]
    with (LOCALE_DIR / f"{DOMAIN}.pot").open("rb") as source:
        template = {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(source) if m.id}
    marked = set(messages(paths))
    assert marked - template == set(), "marked in the code but not in the template: make messages"
    assert template - marked == set(), "in the template but no longer in the code: make messages"


@pytest.mark.parametrize("code", TRANSLATED)
def test_a_catalog_holds_no_message_the_code_no_longer_has(code: str) -> None:
    with (LOCALE_DIR / f"{DOMAIN}.pot").open("rb") as source:
        template = {m.id for m in read_po(source) if m.id}
    assert {m.id for m in catalog(code) if m.id} == template
    assert not catalog(code).obsolete


def test_every_vocabulary_value_a_family_reads_has_its_words_in_the_catalog() -> None:
    values = [
        *SERVICE_TYPES,
        *CATEGORIES,
        *SUBJECTS,
        *FAFSA_STATUSES,
        *NSC_ENROLLMENT_STATUSES.values(),
        *NSC_CONTROLS,
        *ROLES,
    ]
    missing = [v for v in values if v.replace("_", " ") not in VOCABULARY_WORDS]
    assert missing == []


def test_every_iso_639_1_code_is_a_language_cldr_knows() -> None:
    names = Locale("en").languages
    assert len(ISO_639_1) == 183  # the ISO 639-1 list since "bh" was withdrawn (2021)
    assert [code for code in sorted(ISO_639_1) if code not in names] == []


def test_make_catalogs_builds_the_catalogs_from_a_clean_tree(tmp_path: Path) -> None:
    """A fresh clone has `.po` files and no `.mo`: `make catalogs` (which `make install`,
    `install-dev`, `run` and `test` run) compiles each, and the result translates."""
    for name in (
        "Makefile",
        "babel.cfg",
        "pyproject.toml",
        "requirements.lock",
        "requirements-dev.lock",
    ):
        shutil.copy2(ROOT / name, tmp_path / name)
    shutil.copytree(LOCALE_DIR, tmp_path / "locale", ignore=shutil.ignore_patterns("*.mo"))
    venv = ROOT / ".venv"
    assert not list((tmp_path / "locale").rglob("*.mo"))
    planned = subprocess.run(
        ["make", "-n", "install", f"VENV={venv}"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "pybabel -q compile" in planned, planned
    subprocess.run(
        ["make", "catalogs", f"VENV={venv}"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    )
    for code in TRANSLATED:
        mo = tmp_path / "locale" / code / "LC_MESSAGES" / f"{DOMAIN}.mo"
        with mo.open("rb") as built:
            translations = gettext.GNUTranslations(built)
        assert (
            translations.gettext("My record") == compiled(code).gettext("My record") != "My record"
        )
