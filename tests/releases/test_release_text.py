"""What a family reads about a release (ui/release_text.py): the three elements of FERPA
34 CFR 99.30 (which records, the purpose, the party) and the family's rights, in English
and Spanish; the email; the printable release, escaped."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date
from html.parser import HTMLParser

import pytest

from domain.releases import ReleaseEmail
from domain.vocabulary import CATEGORIES, ORG_TYPES, SERVICE_TYPES, SIGNER_RELATIONSHIPS
from ui.i18n import catalog_languages, translations
from ui.release_text import (
    CATEGORY_WORDS,
    ORG_TYPE_WORDS,
    RELATIONSHIP_WORDS,
    SERVICE_WORDS,
    compose_email,
    printable_release,
    release_elements,
)

LANGUAGES = ("en", "es")
HOSTILE = "<script>alert('x')</script> & \"Friends\""


def mail(**changes: object) -> ReleaseEmail:
    base = ReleaseEmail(
        language="en",
        recipient_name="Rosa Díaz",
        student_first_name="Ana",
        school_name="Lincoln High",
        org_name="Bright Futures",
        org_type="community",
        org_service_types=("mentoring", "college_access"),
        categories=CATEGORIES,
        purpose="To match Ana with a mentor and follow her attendance.",
        release_expires=date(2027, 6, 30),
        link="https://pathwise.example/?release=tok3n-ABC",
        link_expires=date(2026, 12, 15),
        paper_code="K7PQ-4MXD",
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def in_language(language: str, english: str) -> str:
    return translations(language).gettext(english)


def test_both_languages_have_a_catalog() -> None:
    assert set(LANGUAGES) <= set(catalog_languages())


def test_every_vocabulary_value_has_family_words() -> None:
    assert set(CATEGORY_WORDS) == set(CATEGORIES)
    assert set(ORG_TYPE_WORDS) == set(ORG_TYPES)
    assert set(SERVICE_WORDS) == set(SERVICE_TYPES)
    assert set(RELATIONSHIP_WORDS) == set(SIGNER_RELATIONSHIPS)


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("category", CATEGORIES)
def test_each_category_is_named_in_plain_words_in_each_language(
    category: str, language: str
) -> None:
    elements = release_elements(mail(categories=(category,)), language)
    expected = in_language(language, CATEGORY_WORDS[category])
    assert elements.records == (expected,)
    if language != "en":
        assert expected != CATEGORY_WORDS[category], "no translation"


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_elements_carry_purpose_party_rights_and_end_date(language: str) -> None:
    elements = release_elements(mail(), language)
    assert elements.purpose == "To match Ana with a mentor and follow her attendance."
    assert elements.party.startswith("Bright Futures, ")
    assert in_language(language, "a community organisation") in elements.party
    assert in_language(language, "mentoring") in elements.party
    assert in_language(language, "help applying to college") in elements.party
    assert "Ana" in elements.refuse  # nothing changes for her at school
    assert "Bright Futures" in elements.withdraw
    assert in_language(language, "My record") in elements.withdraw
    june = "June 30, 2027" if language == "en" else "30 de junio de 2027"
    assert june in elements.lasts
    assert "Lincoln High" in elements.asks and "Bright Futures" in elements.asks


def test_the_spanish_words_differ_from_the_english_ones() -> None:
    english, spanish = release_elements(mail(), "en"), release_elements(mail(), "es")
    for field in ("title", "asks", "party", "refuse", "withdraw", "lasts", "records_heading"):
        assert getattr(english, field) != getattr(spanish, field), field
    assert "y" in spanish.party.split() and "and" in english.party.split()


def test_an_eligible_student_is_spoken_to_about_their_own_records() -> None:
    elements = release_elements(mail(), "en", signer_is_student=True)
    assert "your school records" in elements.asks
    assert "Ana" not in elements.asks and "Ana" not in elements.refuse


def test_a_release_without_an_end_date_lasts_until_withdrawn() -> None:
    elements = release_elements(mail(release_expires=None), "es")
    assert elements.lasts == in_language("es", "This permission lasts until you withdraw it.")


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_email_carries_the_link_its_expiry_the_paper_code_and_the_elements(
    language: str,
) -> None:
    subject, body = compose_email(mail(language=language))
    assert "Ana" in subject and "Bright Futures" in subject
    assert "https://pathwise.example/?release=tok3n-ABC" in body.split()
    assert "K7PQ-4MXD" in body
    assert "Rosa Díaz" in body.splitlines()[0]
    assert ("December 15, 2026" if language == "en" else "15 de diciembre de 2026") in body
    elements = release_elements(mail(), language)
    for text in (*elements.records, elements.purpose, elements.party, elements.refuse):
        assert text in body
    assert in_language(language, CATEGORY_WORDS["attendance"]) in body
    ignore = "ignore this email" if language == "en" else "puede ignorar este correo"
    assert ignore in body


def test_the_spanish_email_is_in_spanish() -> None:
    subject, body = compose_email(mail(language="es"))
    assert "¿nos permite compartir" in subject
    assert "Hello" not in body and "Estimado/a Rosa Díaz:" in body


class _Text(HTMLParser):
    """The text and the tags of an HTML page, as a browser would parse them."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parsed(page: str) -> _Text:
    parser = _Text()
    parser.feed(page)
    return parser


def test_the_printable_release_has_both_languages_english_first_and_the_code() -> None:
    page = printable_release(mail(), "K7PQ-4MXD", student_name="Ana Reyes")
    text = " ".join(parsed(page).text)
    english = text.index("Permission to share school records")
    spanish = text.index("Permiso para compartir el expediente escolar")
    assert english < spanish
    assert text.count("K7PQ-4MXD") == 2
    assert page.count('class="code"') == 2
    for language in LANGUAGES:
        for english_words in (
            "Signature",
            "Full name of the person signing",
            "Date",
            "Relationship to the student:",
            *RELATIONSHIP_WORDS.values(),
            *CATEGORY_WORDS.values(),
        ):
            assert in_language(language, english_words) in text
    assert "Ana Reyes" in text
    assert re.search(r"June 30, 2027", text) and "30 de junio de 2027" in text


@pytest.mark.parametrize(
    "field", ["org_name", "purpose", "school_name", "student_first_name", "recipient_name"]
)
def test_hostile_values_are_escaped_in_the_printable_release(field: str) -> None:
    page = printable_release(mail(**{field: HOSTILE}), "<b>CODE</b>")
    result = parsed(page)
    assert "script" not in result.tags and "b" not in result.tags
    assert "<script>" not in page and "<b>CODE" not in page
    if field != "recipient_name":  # the printout is not addressed to anyone by name
        assert HOSTILE in "".join(result.text)
    assert "<b>CODE</b>" in "".join(result.text)


def test_the_email_is_plain_text_carrying_values_as_they_are() -> None:
    """An email body is text, not HTML: a hostile value is shown, never interpreted, and
    no escaping mangles an honest name such as "Smith & Sons"."""
    subject, body = compose_email(mail(org_name="Smith & Sons", purpose=HOSTILE))
    assert "Smith & Sons" in subject and HOSTILE in body
