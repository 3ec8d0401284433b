"""The student profile's "Ask the family for a release" (ui/release_requests.py, AppTest).

Each test works on its own copy of the demo district (tests/app/conftest.py builds it once):
a counselor and a student of their caseload below grade 12 whose first guardian reads
Spanish (set on the copy), so that the request goes to a guardian by email.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import text
from streamlit.testing.v1 import AppTest

from data_access.engine import make_engine
from data_access.identity import sign_in
from data_access.mail import MailSettings
from data_access.referrals import create_referral
from data_access.releases import request_partners
from tests.app.conftest import demo_url  # noqa: F401  (the demo district, built once)
from tests.releases.release_world import Inbox, smtp_server  # noqa: F401  (a real SMTP server)
from ui.release_requests import (
    CATEGORIES_KEY,
    ORG_KEY,
    PURPOSE_KEY,
    SECTION,
    SEND_LABEL,
)

PAGE = (
    "from pages.student import student_page\nfrom ui.guard import guarded\n"
    "guarded(student_page)()\n"
)


@dataclass(frozen=True)
class District:
    url: str
    counselor: str
    student_id: str
    guardian: str


@pytest.fixture
def district(demo_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[District]:  # noqa: F811
    copy = tmp_path / "demo.db"
    shutil.copy2(Path(demo_url.removeprefix("sqlite:///")), copy)
    url = f"sqlite:///{copy}"
    engine = make_engine(url)
    with engine.begin() as connection:
        counselor, student_id, guardian = connection.execute(
            text(
                "SELECT c.user_email, s.student_id, MIN(g.guardian_email) FROM caseload c "
                "JOIN app_user u ON u.email = c.user_email AND u.role = 'counselor' AND u.active "
                "JOIN student s ON s.student_id = c.student_id "
                "JOIN guardian g ON g.student_id = s.student_id "
                "WHERE s.grade_level < 12 GROUP BY c.user_email, s.student_id "
                "ORDER BY c.user_email, s.student_id LIMIT 1"
            )
        ).one()
        connection.execute(
            text("UPDATE guardian SET language = 'es' WHERE guardian_email = :g"),
            {"g": guardian},
        )
    engine.dispose()
    monkeypatch.setenv("PATHWISE_DATABASE_URL", url)
    monkeypatch.setenv("PATHWISE_DEMO_SIGNIN", "1")
    yield District(url, counselor, student_id, guardian)


def profile(who: str, student_id: str, **secrets: object) -> AppTest:
    at = AppTest.from_string(PAGE, default_timeout=60)
    at.user = {"is_logged_in": False}
    at.session_state["demo_email"] = who
    at.session_state["profile_student"] = student_id
    for name, value in secrets.items():
        at.secrets[name] = value
    return at.run()


def send(at: AppTest) -> AppTest:
    return next(b for b in at.button if b.label == SEND_LABEL).click().run()


def rows(url: str, sql: str, **params: object) -> list[tuple[object, ...]]:
    engine = make_engine(url)
    with engine.connect() as connection:
        found = [tuple(r) for r in connection.execute(text(sql), params).all()]
    engine.dispose()
    return found


def plain(markdown: object) -> str:
    """Markdown written with ui.text.md, as the reader sees it (without the escapes)."""
    return re.sub(r"\\(.)", r"\1", str(markdown))


def messages(at: AppTest) -> str:
    return " ".join(plain(m.value) for m in [*at.success, *at.warning, *at.error, *at.info])


def test_the_counselor_requests_a_release_and_reads_that_it_waits_in_the_outbox(
    district: District,
) -> None:
    at = profile(district.counselor, district.student_id)
    assert not at.exception, at.exception
    assert SECTION in [s.value for s in at.subheader]
    org = at.selectbox(key=ORG_KEY).value
    categories = at.multiselect(key=CATEGORIES_KEY).value
    assert categories, "the organisation's agreement categories are chosen by default"
    assert str(at.text_area(key=PURPOSE_KEY).value).strip()

    at = send(at)

    assert not at.exception, at.exception
    made = rows(
        district.url,
        "SELECT org_id, categories, requested_by FROM release_request WHERE student_id = :s",
        s=district.student_id,
    )
    assert made == [(org, ";".join(sorted(categories)), district.counselor)]
    said = messages(at)
    assert "SMTP is not configured" in said and "outbox for the data steward" in said
    assert "Spanish" in said
    assert any(b.proto.label == "Print this release" for b in at.get("download_button"))
    assert any("sent, not opened yet" in plain(m.value) for m in at.markdown)
    assert any("is already open" in plain(w.value) for w in at.warning), "no second email unawares"


def test_with_smtp_the_guardian_is_emailed_in_spanish(
    district: District,
    smtp_server: tuple[MailSettings, Inbox],  # noqa: F811
) -> None:
    settings, inbox = smtp_server
    smtp = {"host": settings.host, "port": settings.port, "sender": settings.sender}
    at = send(profile(district.counselor, district.student_id, smtp=smtp))
    assert not at.exception, at.exception
    assert "Emailed to" in messages(at) and "(Spanish)" in messages(at)
    received = [m for m in inbox.messages if district.guardian in str(m["To"])]
    assert len(received) == 1
    assert "token=" in received[0].get_content()


def test_a_release_cannot_ask_beyond_the_agreement_or_without_a_purpose(
    district: District,
) -> None:
    at = profile(district.counselor, district.student_id)
    at.text_area(key=PURPOSE_KEY).set_value("   ")
    at = send(at)
    assert not at.exception, at.exception
    assert any("purpose" in plain(e.value) for e in at.error)
    assert rows(district.url, "SELECT request_id FROM release_request WHERE student_id = :s", s=district.student_id) == []  # fmt: skip


def test_cancelling_an_open_request(district: District) -> None:
    at = send(profile(district.counselor, district.student_id))
    at = next(b for b in at.button if b.label == "Cancel").click().run()
    assert not at.exception, at.exception
    assert rows(
        district.url,
        "SELECT status FROM release_request WHERE student_id = :s",
        s=district.student_id,
    ) == [("cancelled",)]
    assert any("cancelled" in plain(i.value) for i in at.info)
    assert not [b for b in at.button if b.label == "Cancel"]


@pytest.mark.parametrize("who", ["teacher.hs01", "viewer", "staff.org01"])
def test_who_may_not_request_gets_no_form(district: District, who: str) -> None:
    at = profile(f"{who}@demo.pathwise.example", district.student_id)
    assert not at.exception, at.exception
    assert SECTION not in [s.value for s in at.subheader]
    assert not [b for b in at.button if b.label == SEND_LABEL]


def test_a_referral_waiting_for_a_release_fills_the_request_in(district: District) -> None:
    engine = make_engine(district.url)
    counselor = sign_in(engine, district.counselor, date.today())
    released = {
        r[0]
        for r in rows(
            district.url, "SELECT org_id FROM consent WHERE student_id = :s", s=district.student_id
        )
    }
    partner = next(
        p
        for p in request_partners(engine, counselor).iter_rows(named=True)
        if p["org_id"] not in released
    )
    referral_id = create_referral(
        engine, counselor, district.student_id, partner["org_id"], "Needs a <b>mentor</b> now"
    )
    engine.dispose()
    at = profile(district.counselor, district.student_id)
    at = next(b for b in at.button if b.key == f"release_for_referral_{referral_id}").click().run()
    assert not at.exception, at.exception
    assert at.selectbox(key=ORG_KEY).value == partner["org_id"]
    assert at.multiselect(key=CATEGORIES_KEY).value == partner["categories"]
    assert "Needs a <b>mentor</b> now" in str(at.text_area(key=PURPOSE_KEY).value)
    at = send(at)
    assert not at.exception, at.exception
    assert rows(
        district.url,
        "SELECT org_id, referral_id FROM release_request WHERE student_id = :s",
        s=district.student_id,
    ) == [(partner["org_id"], referral_id)]


def test_without_an_email_on_file_the_release_goes_on_paper(district: District) -> None:
    engine = make_engine(district.url)
    with engine.begin() as connection:
        connection.execute(
            text("DELETE FROM guardian WHERE student_id = :s"), {"s": district.student_id}
        )
    engine.dispose()
    at = send(profile(district.counselor, district.student_id))
    assert not at.exception, at.exception
    said = messages(at)
    assert "No email on file — print the release" in said
    assert "Emailed" not in said and "outbox" not in said
    assert any(b.proto.label == "Print this release" for b in at.get("download_button"))
