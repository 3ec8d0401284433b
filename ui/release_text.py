"""What a family reads about a release: the email, the page's elements, the printable release.

FERPA (34 CFR 99.30(b)) requires a written release to "(1) specify the records that may be
disclosed; (2) state the purpose of the disclosure; and (3) identify the party or class of
parties to whom the disclosure may be made". `release_elements` words those three for a
family, in plain words and in a given language, and adds what a family must also know
before it signs (issue 16 part 1): that it may refuse and nothing changes at school, that
it may withdraw the release later (in My record, or by telling the school), and until when
the release lasts.

- **Which records**: each category of `domain.vocabulary.CATEGORIES` in plain words
  (`attendance` -> "School attendance: the days present and absent").
- **The purpose**: the request's own words, shown as the text they are (never markup).
- **The party**: the organisation's name and what it does, worded from its type
  (`domain.vocabulary.ORG_TYPES`) and the service types it offers.

The same words serve the email (`compose_email`, plain text in the recipient's language),
the release page (pages/release_sign.py) and the printable release (`printable_release`,
HTML, every language with a catalog, English first, every value HTML-escaped).

Pure functions: no Streamlit at import, no database. Strings go through the gettext
catalogs (`ui.i18n.translations(code).gettext`, which works outside Streamlit), dates and
lists through Babel for the language's locale.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Protocol

from babel import Locale
from babel import dates as babel_dates
from babel.lists import format_list

from domain.releases import ReleaseEmail
from ui.i18n import N_, SOURCE_LANGUAGE, catalog_languages, translations

Gettext = Callable[[str], str]

#: Each data category in plain words for a family ("what this includes").
CATEGORY_WORDS: dict[str, str] = {
    "attendance": N_("School attendance: the days present and absent"),
    "grades": N_("Grades: the marks in each class and the credits earned"),
    "tests": N_("Test scores: state tests and college-entrance tests"),
    "fafsa": N_(
        "Financial aid for college: whether the FAFSA (the federal student aid form) was "
        "started, submitted or completed"
    ),
    "outcomes": N_(
        "After high school: college enrollment, from the National Student Clearinghouse"
    ),
    "demographics": N_(
        "Background information: birth date, gender, race and ethnicity, English learner, "
        "special education and low-income status, and the names and emails of the family "
        "on file"
    ),
    "notes": N_("Notes school staff wrote about the support the student receives"),
}

#: What an organisation of each type is, for the "party" element.
ORG_TYPE_WORDS: dict[str, str] = {
    "district": N_("a program of the school district"),
    "community": N_("a community organisation"),
    "hub": N_("an organisation that connects students and families with services"),
}

#: Each service type as what the organisation offers.
SERVICE_WORDS: dict[str, str] = {
    "attendance": N_("help with attendance"),
    "academic": N_("tutoring and help with schoolwork"),
    "college_access": N_("help applying to college"),
    "mentoring": N_("mentoring"),
    "behavioral_health": N_("counseling and mental health support"),
    "family_support": N_("support for families"),
    "career": N_("career preparation"),
    "other": N_("other support"),
}

#: How a signer may be related to the student (`domain.vocabulary.SIGNER_RELATIONSHIPS`).
RELATIONSHIP_WORDS: dict[str, str] = {
    "parent": N_("Parent"),
    "guardian": N_("Legal guardian"),
    "eligible_student": N_("The student (18 or older)"),
}


class ReleaseFacts(Protocol):
    """What a release is about: `domain.releases.ReleaseEmail`, the page's `LinkView` and
    the printout's data all carry these."""

    @property
    def student_first_name(self) -> str: ...
    @property
    def school_name(self) -> str: ...
    @property
    def org_name(self) -> str: ...
    @property
    def org_type(self) -> str: ...
    @property
    def org_service_types(self) -> tuple[str, ...]: ...
    @property
    def categories(self) -> tuple[str, ...]: ...
    @property
    def purpose(self) -> str: ...
    @property
    def release_expires(self) -> date | None: ...


@dataclass(frozen=True)
class ReleaseElements:
    """The words of one release in one language: the three elements of 99.30 and the
    family's rights. Values from the data (names, the purpose) are plain text here; each
    reader (page, email, printout) escapes them for its own medium."""

    language: str
    title: str
    asks: str
    records_heading: str
    records: tuple[str, ...]
    purpose_heading: str
    purpose: str
    party_heading: str
    party: str
    rights_heading: str
    refuse: str
    withdraw: str
    lasts: str


def gettext_for(language: str) -> Gettext:
    """The gettext of `language` (English when it has no catalog)."""
    return translations(_known(language)).gettext


def _known(language: str) -> str:
    return language if language in catalog_languages() else SOURCE_LANGUAGE


def long_date(day: date, language: str) -> str:
    """`June 30, 2027` / `30 de junio de 2027` (Babel, the language's locale)."""
    return babel_dates.format_date(day, format="long", locale=Locale.parse(_known(language)))


def word_list(items: Sequence[str], language: str) -> str:
    """`a, b, and c` / `a, b y c` (Babel's list patterns for the locale)."""
    return format_list(list(items), locale=Locale.parse(_known(language))) if items else ""


def category_words(category: str, language: str) -> str:
    """A data category in plain words for a family; an unknown value as itself."""
    words = CATEGORY_WORDS.get(category)
    return gettext_for(language)(words) if words else category.replace("_", " ")


def category_name(category: str, language: str) -> str:
    """A data category's short name ("attendance" / "asistencia"; `ui.i18n.VOCABULARY_WORDS`
    holds them for the catalog), for a sentence that lists several."""
    return gettext_for(language)(category.replace("_", " "))


def relationship_words(relationship: str, language: str) -> str:
    words = RELATIONSHIP_WORDS.get(relationship)
    return gettext_for(language)(words) if words else relationship.replace("_", " ")


def party_words(org_name: str, org_type: str, service_types: Sequence[str], language: str) -> str:
    """The party of 99.30: the organisation's name and what it does ("Bright Futures, a
    community organisation that offers mentoring and help applying to college")."""
    _ = gettext_for(language)
    kind = ORG_TYPE_WORDS.get(org_type)
    what = _(kind) if kind else _("an organisation")
    offers = [_(SERVICE_WORDS[s]) for s in service_types if s in SERVICE_WORDS]
    if not offers:
        return _("{org}, {what}").format(org=org_name, what=what)
    return _("{org}, {what} that offers {services}").format(
        org=org_name, what=what, services=word_list(offers, language)
    )


def release_elements(
    facts: ReleaseFacts, language: str, *, signer_is_student: bool = False
) -> ReleaseElements:
    """The three elements of 34 CFR 99.30 and the family's rights, in `language`.

    `signer_is_student`: the student is 18 or older and signs their own release, so the
    words speak to them ("your records") rather than to a parent ("Ana's records")."""
    _ = gettext_for(language)
    first, org = facts.student_first_name, facts.org_name
    if signer_is_student:
        asks = _(
            "{school} asks for your permission to share some of your school records with "
            "{org}. Please read what it covers before you decide."
        ).format(school=facts.school_name, org=org)
        refuse = _(
            "You do not have to agree. If you say no, nothing changes for you at school: the "
            "same classes, the same help."
        )
    else:
        asks = _(
            "{school} asks for your permission to share some of {student}'s school records "
            "with {org}. Please read what it covers before you decide."
        ).format(school=facts.school_name, student=first, org=org)
        refuse = _(
            "You do not have to agree. If you say no, nothing changes for {student} at "
            "school: the same classes, the same help."
        ).format(student=first)
    withdraw = _(
        "You can withdraw this permission at any time: in My record in Pathwise, or by "
        "telling the school. From then on, {org} no longer sees these records."
    ).format(org=org)
    if facts.release_expires is None:
        lasts = _("This permission lasts until you withdraw it.")
    else:
        lasts = _("This permission lasts until {day}, unless you withdraw it sooner.").format(
            day=long_date(facts.release_expires, language)
        )
    return ReleaseElements(
        language=_known(language),
        title=_("Permission to share school records"),
        asks=asks,
        records_heading=_("Which records"),
        records=tuple(category_words(c, language) for c in facts.categories),
        purpose_heading=_("Why (in the words of the request)"),
        purpose=facts.purpose,
        party_heading=_("With whom"),
        party=party_words(org, facts.org_type, facts.org_service_types, language),
        rights_heading=_("Your rights"),
        refuse=refuse,
        withdraw=withdraw,
        lasts=lasts,
    )


def elements_as_text(elements: ReleaseElements) -> str:
    """The elements as plain text (the email's middle)."""
    lines = [elements.records_heading + ":"]
    lines += [f"  - {item}" for item in elements.records]
    lines += ["", elements.purpose_heading + ":", f"  {elements.purpose}"]
    lines += ["", elements.party_heading + ":", f"  {elements.party}"]
    lines += ["", elements.rights_heading + ":"]
    lines += [f"  - {item}" for item in (elements.refuse, elements.withdraw, elements.lasts)]
    return "\n".join(lines)


def compose_email(mail: ReleaseEmail) -> tuple[str, str]:
    """The subject and plain-text body of the email asking `mail.recipient_name` to sign,
    in `mail.language`: who asks, the elements, the single-use link and until when it
    works, the paper code for a family that prefers paper, and that they may ignore it.
    (`data_access.releases.create_request`'s `compose`.)"""
    language = mail.language
    _ = gettext_for(language)
    elements = release_elements(mail, language)
    subject = _("{school}: may we share {student}'s records with {org}?").format(
        school=mail.school_name, student=mail.student_first_name, org=mail.org_name
    )
    paragraphs = [
        _("Hello {name},").format(name=mail.recipient_name),
        elements.asks,
        elements_as_text(elements),
        _(
            "To read this and answer (sign or say no), open this link. It works only once, "
            "and only until {day}:"
        ).format(day=long_date(mail.link_expires, language))
        + "\n"
        + mail.link,
        _(
            "Prefer paper? Ask the school for a paper copy of this permission, sign it and "
            "bring it back. Give them this code: {code}"
        ).format(code=mail.paper_code),
        _(
            "If you do not want to share these records, you can ignore this email: nothing "
            "is shared without your signature."
        ),
        _("Thank you,\n{school}").format(school=mail.school_name),
    ]
    return subject, "\n\n".join(paragraphs) + "\n"


_PRINT_STYLE = """
body { font-family: Georgia, 'Times New Roman', serif; font-size: 12pt; color: #111;
       max-width: 44em; margin: 2em auto; line-height: 1.45; }
h1 { font-size: 18pt; margin-bottom: 0.2em; }
h2 { font-size: 13pt; margin: 1.2em 0 0.3em; }
.code { border: 3px solid #111; padding: 0.4em 0.8em; display: inline-block;
        font-family: 'Courier New', monospace; font-size: 20pt; letter-spacing: 0.15em; }
.purpose { white-space: pre-wrap; border-left: 3px solid #888; padding-left: 0.8em; }
.line { border-bottom: 1px solid #111; height: 2.2em; margin-bottom: 0.2em; }
.label { font-size: 10pt; color: #333; margin-bottom: 1em; }
.box { display: inline-block; width: 0.9em; height: 0.9em; border: 1px solid #111;
       margin-right: 0.4em; vertical-align: middle; }
section + section { page-break-before: always; break-before: page; margin-top: 3em; }
@media print { body { margin: 0; } }
"""


def _signer_is_student(facts: ReleaseFacts) -> bool:
    return bool(getattr(facts, "signer_is_student", False))


def _printable_section(
    facts: ReleaseFacts, language: str, paper_code: str | None, student_name: str | None
) -> str:
    _ = gettext_for(language)
    e = release_elements(facts, language, signer_is_student=_signer_is_student(facts))
    esc = html.escape
    student = student_name or facts.student_first_name
    parts = [
        f'<section lang="{esc(e.language)}">',
        f"<h1>{esc(e.title)}</h1>",
        "<p>"
        + esc(_("Student: {student}, {school}").format(student=student, school=facts.school_name))
        + "</p>",
        "<p>"
        + esc(_("Paper code"))
        + (
            f': <span class="code">{esc(paper_code)}</span></p>'
            if paper_code
            else ': <span class="code">&emsp;&emsp;&emsp;&emsp;&emsp;&emsp;</span> '
            + esc(_("(write the code from your email)"))
            + "</p>"
        ),
        f"<p>{esc(e.asks)}</p>",
        f"<h2>{esc(e.records_heading)}</h2>",
        "<ul>" + "".join(f"<li>{esc(item)}</li>" for item in e.records) + "</ul>",
        f"<h2>{esc(e.purpose_heading)}</h2>",
        f'<p class="purpose">{esc(e.purpose)}</p>',
        f"<h2>{esc(e.party_heading)}</h2>",
        f"<p>{esc(e.party)}</p>",
        f"<h2>{esc(e.rights_heading)}</h2>",
        "<ul>" + "".join(f"<li>{esc(t)}</li>" for t in (e.refuse, e.withdraw, e.lasts)) + "</ul>",
        "<h2>" + esc(_("Your answer")) + "</h2>",
        "<p>"
        + esc(
            _(
                "By signing, I agree that the school may share the records listed above with "
                "the organisation named above, for the purpose stated, until the date stated."
            )
        )
        + "</p>",
        '<div class="line"></div>',
        '<div class="label">' + esc(_("Signature")) + "</div>",
        '<div class="line"></div>',
        '<div class="label">' + esc(_("Full name of the person signing")) + "</div>",
        '<p class="label">'
        + esc(_("Relationship to the student:"))
        + " "
        + " ".join(
            f'<span class="box"></span>{esc(relationship_words(r, language))}&emsp;'
            for r in RELATIONSHIP_WORDS
        )
        + "</p>",
        '<div class="line"></div>',
        '<div class="label">' + esc(_("Date")) + "</div>",
        "<p>"
        + esc(
            _(
                "Return this page to the school. Keep the code above: the school types it in "
                "when your signed page comes back."
            )
        )
        + "</p>",
        "</section>",
    ]
    return "\n".join(parts)


def printable_release(
    facts: ReleaseFacts, paper_code: str | None, *, student_name: str | None = None
) -> str:
    """A self-contained printable HTML page of the release: the same text in every language
    with a catalog (English first, then Spanish), each on its own printed page, with the
    paper code prominent and lines for the signature, the signer's name, the relationship
    and the date. Every value from the data is HTML-escaped. `student_name` (the full name,
    for the steward's printout) defaults to the first name. Without a `paper_code` (the
    family's own printout from the release page, whose link does not carry it) the code
    box is left for the family to fill in from its email."""
    languages = catalog_languages()
    title = " / ".join(
        dict.fromkeys(gettext_for(c)("Permission to share school records") for c in languages)
    )
    sections = "\n".join(
        _printable_section(facts, code, paper_code, student_name) for code in languages
    )
    return (
        "<!DOCTYPE html>\n"
        f'<html lang="{SOURCE_LANGUAGE}">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{html.escape(title)}</title>\n<style>{_PRINT_STYLE}</style>\n</head>\n"
        f"<body>\n{sections}\n</body>\n</html>\n"
    )
