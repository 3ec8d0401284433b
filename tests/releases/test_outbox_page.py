"""Administration, "Outbox and paper releases" (pages/release_overview.py, AppTest): the
messages not sent are marked and shown whole; a paper release is recorded by its code.

Each test works on its own copy of the demo district with one release request the steward
made without SMTP settings (its emails wait in the outbox), for the first student below
grade 12 with a guardian on file and a partner with an active agreement."""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import text
from streamlit.testing.v1 import AppTest

from data_access.engine import make_engine
from data_access.identity import sign_in
from data_access.releases import NewRequest, create_request, request_partners
from domain.release_tokens import printed_paper_code
from pages.release_overview import PAPER_CODE_LABEL, RECORD_PAPER
from tests.app.conftest import demo_url  # noqa: F401  (the demo district, built once)
from ui.release_text import compose_email

PAGE = (
    "from pages.administration import administration_page\nfrom ui.guard import guarded\n"
    "guarded(administration_page)()\n"
)
STEWARD = "steward@demo.pathwise.example"


@dataclass(frozen=True)
class Made:
    url: str
    request_id: int
    paper_code: str
    guardians: tuple[str, ...]


@pytest.fixture
def made(demo_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Made:  # noqa: F811
    copy = tmp_path / "demo.db"
    shutil.copy2(Path(demo_url.removeprefix("sqlite:///")), copy)
    url = f"sqlite:///{copy}"
    engine = make_engine(url)
    with engine.connect() as connection:
        student_id = connection.execute(
            text(
                "SELECT s.student_id FROM student s JOIN guardian g ON g.student_id = s.student_id "
                "WHERE s.grade_level < 12 ORDER BY s.student_id LIMIT 1"
            )
        ).scalar_one()
    steward = sign_in(engine, STEWARD, date.today())
    partner = request_partners(engine, steward).row(0, named=True)
    created = create_request(
        engine,
        steward,
        NewRequest(student_id, partner["org_id"], tuple(partner["categories"]), "Mentoring"),
        link_base="http://localhost:8501/",
        compose=compose_email,
        mail=None,
    )
    engine.dispose()
    monkeypatch.setenv("PATHWISE_DATABASE_URL", url)
    monkeypatch.setenv("PATHWISE_DEMO_SIGNIN", "1")
    return Made(
        url, created.request_id, created.paper_code, tuple(e for e, _, _ in created.recipients)
    )


def _section() -> AppTest:
    at = AppTest.from_string(PAGE, default_timeout=60)
    at.user = {"is_logged_in": False}
    at.session_state["demo_email"] = STEWARD
    at.session_state["admin_section"] = "Outbox and paper releases"
    return at.run()


def plain(markdown: object) -> str:
    return re.sub(r"\\(.)", r"\1", str(markdown))


def test_the_outbox_marks_each_message_not_sent_and_shows_it_whole(made: Made) -> None:
    at = _section()
    assert not at.exception, at.exception
    assert [s.value for s in at.subheader] == ["A paper release came back", "The outbox"]
    marked = [plain(m.value) for m in at.markdown if "NOT SENT" in m.value]
    assert len(marked) == len(made.guardians) > 0
    for guardian in made.guardians:
        assert any(guardian in m for m in marked)
    assert any("token=" in str(c.value) for c in at.code), "the body carries the link to deliver"
    assert any(f"{len(made.guardians)} message" in w.value for w in at.warning)


def _engine_rows(url: str, sql: str) -> list[tuple[object, ...]]:
    engine = make_engine(url)
    with engine.connect() as connection:
        found = [tuple(r) for r in connection.execute(text(sql)).all()]
    engine.dispose()
    return found


def test_a_paper_release_is_recorded_by_its_code(made: Made) -> None:
    at = _section()
    at.text_input(key="paper_code").set_value(printed_paper_code(made.paper_code).lower())
    at.text_input(key="paper_signed_by").set_value("Rosa Testcase")
    at = next(b for b in at.button if b.label == RECORD_PAPER).click().run()
    assert not at.exception, at.exception
    consent = _engine_rows(
        made.url, f"SELECT signed_by, method FROM consent WHERE consent_id = 'P-{made.request_id}'"
    )
    assert consent == [("Rosa Testcase", "paper")]
    assert any(f"P-{made.request_id}" in plain(s.value) for s in at.success)


def test_a_wrong_paper_code_is_said_in_words(made: Made) -> None:
    at = _section()
    assert at.text_input(key="paper_code").label == PAPER_CODE_LABEL
    at.text_input(key="paper_code").set_value("ZZZZ-ZZZZ")
    at.text_input(key="paper_signed_by").set_value("Rosa Testcase")
    at = next(b for b in at.button if b.label == RECORD_PAPER).click().run()
    assert not at.exception, at.exception
    assert at.error and "code" in plain(at.error[0].value).lower()
    assert (
        _engine_rows(
            made.url, f"SELECT consent_id FROM consent WHERE request_id = {made.request_id}"
        )
        == []
    )
