"""The language of the family pages: gettext catalogs managed with Babel (issue 16, part 2).

Every page a family sees (sign-in, My record, and the release pages of part 1) is written
in English in the code, each string wrapped in `_()` (or `ngettext`), and translated by
the catalog `locale/<ll>/LC_MESSAGES/pathwise.po` (DEVELOPERS.md, "Languages"). Adding a
language is a catalog, not code: `catalog_languages()` offers every language that has one.

Which language a run uses (`language_for`):

1. the language chosen with the switch (`language_switch`) in this session;
2. for a parent, the guardian's `language` on file (the `guardians` import file), when a
   catalog exists for it;
3. the browser's: its `Accept-Language` header (`st.context.headers`), then
   `st.context.locale`;
4. English.

Staff pages stay in English in this issue: a signed-in user who is neither a parent nor a
student always gets English (the strings routed through `_()` there are ready for later).
The run's language is set once at the start of each run (`activate`, from `app.main` and
from each family page) and read by `_()`; it lives in a context variable of the script
thread, so two sessions never see each other's language.

Dates, numbers and percentages on the family pages go through `format_date`,
`format_decimal` and `format_percent` (Babel, CLDR data): `3 mar 2026` and `7 %` in Spanish.
"""

from __future__ import annotations

import gettext
import logging
import re
from collections.abc import Iterable
from contextvars import ContextVar
from datetime import date, datetime
from functools import lru_cache
from io import BytesIO
from pathlib import Path

import streamlit as st
from babel import Locale
from babel import dates as babel_dates
from babel import numbers as babel_numbers
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from data_access.api import Principal, guardian_language
from domain.languages import DOMAIN, LOCALE_DIR, SOURCE_LANGUAGE, catalog_languages

log = logging.getLogger("pathwise.i18n")

#: The language chosen with the switch in this session (absent until the family chooses).
CHOICE_KEY = "pathwise_language"
_SWITCH_KEY = "language_switch"

#: The modules whose every string a family may read: `tests/i18n` fails when one of their
#: messages has no translation in a catalog.
FAMILY_MODULES: tuple[str, ...] = (
    "app.py",
    "pages/account.py",
    "pages/my_record.py",
    "pages/release_sign.py",
    "ui/college_timeline.py",
    "ui/components.py",
    "ui/guard.py",
    "ui/i18n.py",
    "ui/record_view.py",
    "ui/release_text.py",
)

_active: ContextVar[str] = ContextVar("pathwise_language", default=SOURCE_LANGUAGE)


def N_(message: str) -> str:  # noqa: N802  (the gettext convention Babel extracts)
    """Marks a string for the catalog without translating it (module-level constants,
    translated with `_()` where they are shown)."""
    return message


def translations(language: str) -> gettext.NullTranslations:
    """The compiled catalog of `language` (nothing to translate for English or a language
    without a catalog). A `.mo` older than its `.po` (a catalog changed since the last
    `make catalogs`) is not trusted: the `.po` is compiled in memory instead, so the page
    never shows stale words."""
    folder = LOCALE_DIR / language / "LC_MESSAGES"
    po, mo = folder / f"{DOMAIN}.po", folder / f"{DOMAIN}.mo"
    if language == SOURCE_LANGUAGE or not po.exists():
        return gettext.NullTranslations()
    return _load(po, mo, po.stat().st_mtime_ns, mo.stat().st_mtime_ns if mo.exists() else None)


@lru_cache(maxsize=16)
def _load(po: Path, mo: Path, po_time: int, mo_time: int | None) -> gettext.NullTranslations:
    if mo_time is not None and mo_time >= po_time:
        with mo.open("rb") as compiled:
            return gettext.GNUTranslations(compiled)
    log.warning("%s is missing or older than its catalog: run `make catalogs`", mo)
    with po.open("rb") as source:
        catalog = read_po(source, locale=po.parents[1].name)
    buffer = BytesIO()
    write_mo(buffer, catalog)  # fuzzy entries are left out, as msgfmt does
    buffer.seek(0)
    return gettext.GNUTranslations(buffer)


def language() -> str:
    """The language of this run (`activate`)."""
    return _active.get()


def activate(code: str) -> None:
    """Use `code` for this run's strings and formats (English when it has no catalog)."""
    _active.set(code if code in catalog_languages() else SOURCE_LANGUAGE)


def _(message: str) -> str:
    """`message` in this run's language."""
    return translations(_active.get()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """The singular or plural form of a message for `n`, in this run's language (Spanish,
    like English, has two forms; the catalog's `Plural-Forms` says which is which)."""
    return translations(_active.get()).ngettext(singular, plural, n)


def word(value: str) -> str:
    """A vocabulary value in words (`college_access` -> "college access"), translated when
    the catalog has it (`VOCABULARY_WORDS`)."""
    return _(value.replace("_", " "))


#: The words of the vocabularies a family reads (service types, data categories, subjects,
#: FAFSA statuses, the Clearinghouse's enrollment statuses and college kinds, roles), marked for
#: the catalog; `word` translates them. `tests/i18n` checks that every value of those
#: vocabularies is here.
VOCABULARY_WORDS: tuple[str, ...] = (
    # SERVICE_TYPES
    N_("attendance"),
    N_("academic"),
    N_("college access"),
    N_("mentoring"),
    N_("behavioral health"),
    N_("family support"),
    N_("career"),
    N_("other"),
    # CATEGORIES
    N_("grades"),
    N_("tests"),
    N_("fafsa"),
    N_("outcomes"),
    N_("demographics"),
    N_("notes"),
    # SUBJECTS
    N_("ela"),
    N_("math"),
    N_("science"),
    N_("social studies"),
    # FAFSA_STATUSES
    N_("not started"),
    N_("submitted"),
    N_("incomplete"),
    N_("completed"),
    # NSC_ENROLLMENT_STATUSES
    N_("full-time"),
    N_("three-quarter time"),
    N_("half-time"),
    N_("less than half-time"),
    N_("withdrawn"),
    N_("leave of absence"),
    N_("deceased"),
    # NSC_CONTROLS
    N_("public"),
    N_("private"),
    # ROLES (the author of a note shared with the family)
    N_("admin"),
    N_("district leader"),
    N_("counselor"),
    N_("teacher"),
    N_("org staff"),
    N_("viewer"),
    N_("parent"),
    N_("student"),
)


def browser_languages(accept_language: str | None) -> list[str]:
    """The primary language subtags of an `Accept-Language` header, most preferred first
    (RFC 9110 section 12.5.4: `es-MX,es;q=0.9,en;q=0.8` -> es, es, en); entries with
    `q=0` or a malformed weight are left out."""
    weighted: list[tuple[float, int, str]] = []
    for position, item in enumerate((accept_language or "").split(",")):
        tag, _semicolon, parameters = item.strip().partition(";")
        weight = 1.0
        for parameter in parameters.split(";"):
            name, _equals, value = parameter.strip().partition("=")
            if name.strip().lower() == "q":
                try:
                    weight = float(value)
                except ValueError:
                    weight = 0.0
        primary = tag.strip().split("-")[0].lower()
        if primary and primary != "*" and weight > 0:
            weighted.append((-weight, position, primary))
    return [code for _weight, _position, code in sorted(weighted)]


def _first_with_catalog(codes: Iterable[str | None]) -> str | None:
    available = catalog_languages()
    return next((c for c in codes if c is not None and c in available), None)


def _browser_language() -> str | None:
    """The browser's preferred language that has a catalog, if Streamlit tells us."""
    try:
        header = st.context.headers.get("Accept-Language")
        locale = getattr(st.context, "locale", None)
    except Exception:  # noqa: BLE001  (no browser behind this run: AppTest, bare mode)
        return None
    codes = browser_languages(header)
    if isinstance(locale, str) and locale:
        codes.append(locale.split("-")[0].lower())
    return _first_with_catalog(codes)


def language_for(principal: Principal | None) -> str:
    """The language of this session's pages for `principal` (None before sign-in), in the
    order of the module's docstring. Staff get English."""
    if principal is not None and not principal.family:
        return SOURCE_LANGUAGE
    chosen = st.session_state.get(CHOICE_KEY)
    if chosen in catalog_languages():
        return str(chosen)
    on_file = guardian_language(principal) if principal is not None else None
    return _first_with_catalog([on_file]) or _browser_language() or SOURCE_LANGUAGE


def activate_for(principal: Principal | None) -> str:
    """`activate(language_for(principal))`, returning the language."""
    code = language_for(principal)
    activate(code)
    return code


def language_name(code: str) -> str:
    """A language's name in itself ("English", "Español"), from CLDR."""
    name = Locale.parse(code).get_display_name(code) or code
    return name[:1].upper() + name[1:]


def _remember(key: str) -> None:
    st.session_state[CHOICE_KEY] = st.session_state[key]


def language_switch() -> None:
    """The family's language switch: each language in its own name, labelled in every
    language offered (a reader of either finds it). The choice is kept for the session."""
    languages = catalog_languages()
    if len(languages) < 2:
        return
    current = language()
    label = " / ".join(dict.fromkeys(translations(code).gettext("Language") for code in languages))
    # The key names the language shown, so the switch always starts on it (a widget keeps
    # its own state across runs, which could disagree with a default from the guardian).
    key = f"{_SWITCH_KEY}_{current}"
    st.segmented_control(
        f":material/translate: {label}",
        languages,
        default=current,
        format_func=language_name,
        key=key,
        on_change=_remember,
        args=(key,),
        required=True,
    )


def _babel_locale() -> Locale:
    return Locale.parse(language())


def format_date(value: date | datetime | None, format: str = "medium") -> str:  # noqa: A002
    """A date for this run's locale: `Mar 3, 2026` / `3 mar 2026` (medium), `March 3,
    2026` / `3 de marzo de 2026` (long); a CLDR pattern (`MMM y`) is accepted too. Blank
    for no date."""
    if value is None:
        return ""
    day = value.date() if isinstance(value, datetime) else value
    return babel_dates.format_date(day, format=format, locale=_babel_locale())


def format_datetime(value: datetime | None) -> str:
    """A moment for this run's locale, to the minute: `Mar 3, 2026, 2:05 PM` /
    `3 mar 2026, 14:05` (the time as stored: UTC)."""
    if value is None:
        return ""
    time = babel_dates.format_time(value, format="short", locale=_babel_locale())
    return f"{format_date(value)}, {time}"


def number_symbols() -> str:
    """The decimal then the grouping symbol of this run's locale (`.,` / `,.`), as Plotly's
    `layout.separators` wants them."""
    locale = _babel_locale()
    return babel_numbers.get_decimal_symbol(locale) + babel_numbers.get_group_symbol(locale)


def format_decimal(value: float | int | None, digits: int | None = None) -> str:
    """A number for this run's locale (`1,234.5` / `1234,5`); `digits` fixes the decimals."""
    if value is None:
        return ""
    pattern = None if digits is None else "#,##0" + ("." + "0" * digits if digits else "")
    return babel_numbers.format_decimal(value, format=pattern, locale=_babel_locale())


def format_percent(share: float | None, digits: int = 0) -> str:
    """A share (0.07) as a percentage for this run's locale (`7%` / `7 %`, the locale's own
    pattern), with `digits` decimals."""
    if share is None:
        return ""
    locale = _babel_locale()
    pattern = locale.percent_formats[None].pattern
    if digits:
        pattern = re.sub(r"0(?=[^0#,.]*%)", "0." + "0" * digits, pattern, count=1)
    return babel_numbers.format_percent(share, format=pattern, locale=locale)
