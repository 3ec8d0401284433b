"""Which languages Pathwise speaks: English (the code's own) and every language with a
gettext catalog in `locale/` (issue 16: a third language is a catalog, not code).

Here, not in `ui.i18n`, because the data layer asks it too (a release email goes out in the
guardian's language only when Pathwise has a catalog for it) and may not import `ui`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

DOMAIN: Final = "pathwise"
#: The catalogs: `locale/<ll>/LC_MESSAGES/pathwise.po` (written by translators) and the
#: `.mo` compiled from it by `make catalogs` (built on install, never committed).
LOCALE_DIR: Final = Path(__file__).resolve().parents[1] / "locale"
#: The language the code is written in (no catalog).
SOURCE_LANGUAGE: Final = "en"


def catalog_languages() -> tuple[str, ...]:
    """English, then every language with a catalog in `locale/`, in code order."""
    found = sorted(path.parents[1].name for path in LOCALE_DIR.glob(f"*/LC_MESSAGES/{DOMAIN}.po"))
    return (SOURCE_LANGUAGE, *(code for code in found if code != SOURCE_LANGUAGE))
