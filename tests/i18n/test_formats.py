"""The language rules and the locale formats of ui/i18n.py, outside a page."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime

import pytest

from data_access.policy import Principal
from domain.vocabulary import Role
from ui import i18n


@pytest.fixture
def spanish() -> Iterator[None]:
    i18n.activate("es")
    yield
    i18n.activate("en")


def test_accept_language_is_read_by_weight_then_order() -> None:
    assert i18n.browser_languages("en;q=0.5, es-MX, fr;q=0, *;q=0.1, de;q=0.5") == [
        "es",
        "en",
        "de",
    ]
    assert i18n.browser_languages(None) == []
    assert i18n.browser_languages("es;q=abc, vi") == ["vi"]


def test_a_language_without_a_catalog_falls_back_to_english() -> None:
    i18n.activate("vi")
    assert i18n.language() == "en"
    assert i18n._("My record") == "My record"


def test_spanish_dates_numbers_and_percentages(spanish: None) -> None:
    assert i18n._("My record") == "Mi expediente"
    assert i18n.format_date(date(2026, 3, 3)) == "3 mar 2026"
    assert i18n.format_date(date(2026, 3, 3), "long") == "3 de marzo de 2026"
    assert i18n.format_datetime(datetime(2026, 3, 3, 14, 5)) == "3 mar 2026, 14:05"
    assert i18n.format_decimal(0.5, 1) == "0,5"
    assert i18n.format_percent(0.07) == "7\xa0%"
    assert i18n.format_percent(0.075, 1) == "7,5\xa0%"
    assert i18n.number_symbols() == ",."
    assert i18n.word("college_access") == "preparación para la universidad"


def test_english_formats_are_the_ones_the_pages_had() -> None:
    i18n.activate("en")
    assert i18n.format_date(date(2026, 3, 3)) == "Mar 3, 2026"
    assert i18n.format_percent(0.1) == "10%"
    assert i18n.format_decimal(1.0, 1) == "1.0"
    assert i18n.format_date(None) == ""


def test_the_switch_names_each_language_in_itself() -> None:
    assert [i18n.language_name(code) for code in i18n.catalog_languages()] == [
        "English",
        "Español",
    ]


def test_staff_get_english_whatever_the_session_chose() -> None:
    counselor = Principal("c@d.org", "C", Role.COUNSELOR, date(2026, 11, 22), school_id="HS1")
    assert i18n.language_for(counselor) == "en"
