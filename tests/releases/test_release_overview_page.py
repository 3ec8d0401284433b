"""Administration's minimal "Release requests" section (pages/release_overview.py): the
steward sees the consent gap and a partner's ask, and matches or sets the ask aside.

Each test works on its own copy of the demo district, with one ask from a partner about a
real student (the first student served by the partner, by id)."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import text
from streamlit.testing.v1 import AppTest

from data_access.engine import make_engine
from data_access.identity import sign_in
from data_access.release_asks import ask_for_release
from pages.release_overview import GAP_ROWS_KEY, REQUEST_THESE
from tests.app.conftest import demo_url  # noqa: F401  (the demo district, built once)

PAGE = (
    "from pages.administration import administration_page\nfrom ui.guard import guarded\n"
    "guarded(administration_page)()\n"
)
STEWARD = "steward@demo.pathwise.example"


@pytest.fixture
def district(demo_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:  # noqa: F811
    copy = tmp_path / "demo.db"
    shutil.copy2(Path(demo_url.removeprefix("sqlite:///")), copy)
    url = f"sqlite:///{copy}"
    engine = make_engine(url)
    with engine.connect() as connection:
        partner, first, last, school = connection.execute(
            text(
                "SELECT u.email, s.first_name, s.last_name, s.school_id FROM app_user u "
                "JOIN service v ON v.org_id = u.org_id JOIN student s ON s.student_id = v.student_id "
                "WHERE u.role = 'org_staff' AND u.confidentiality_signed_date IS NOT NULL "
                "ORDER BY s.student_id, u.email LIMIT 1"
            )
        ).one()
    ask_for_release(
        engine,
        sign_in(engine, partner, date.today()),
        first_name=first,
        last_name=last,
        school_id=school,
    )
    engine.dispose()
    monkeypatch.setenv("PATHWISE_DATABASE_URL", url)
    monkeypatch.setenv("PATHWISE_DEMO_SIGNIN", "1")
    return url


def _section() -> AppTest:
    at = AppTest.from_string(PAGE, default_timeout=60)
    at.user = {"is_logged_in": False}
    at.session_state["demo_email"] = STEWARD
    at.session_state["admin_section"] = "Release requests"
    return at.run()


def _ask_status(url: str) -> str:
    engine = make_engine(url)
    with engine.connect() as connection:
        status = connection.execute(text("SELECT status FROM release_ask")).scalar_one()
    engine.dispose()
    return str(status)


def test_the_steward_sees_the_gap_and_the_partners_ask(district: str) -> None:
    at = _section()
    assert not at.exception, at.exception
    assert [s.value for s in at.subheader] == [
        "Release requests by organisation and school",
        "Served or referred without a release (the consent gap)",
        "Partners' asks",
    ]
    gap = next(f.value for f in at.dataframe if "why" in f.value.columns)
    assert len(gap) > 0
    assert any(" asks about " in m.value for m in at.markdown)


def test_matching_an_ask_says_what_to_request(district: str) -> None:
    at = _section()
    at = next(b for b in at.button if b.label == "Match").click().run()
    assert not at.exception, at.exception
    assert any(s.value.startswith("Matched to ") for s in at.success)
    assert _ask_status(district) == "matched"
    assert any(c.value == "No open ask from a partner." for c in at.caption)


def test_setting_an_ask_aside(district: str) -> None:
    at = next(b for b in _section().button if b.label == "Set aside").click().run()
    assert not at.exception, at.exception
    assert _ask_status(district) == "rejected"


def _gap_requests(url: str) -> list[tuple[str, str, int | None]]:
    engine = make_engine(url)
    with engine.connect() as connection:
        found = connection.execute(
            text("SELECT student_id, org_id, ask_id FROM release_request ORDER BY request_id")
        ).all()
    engine.dispose()
    return [(str(s), str(o), a) for s, o, a in found]


def test_request_releases_for_the_chosen_gap_rows_makes_one_request_each(district: str) -> None:
    at = AppTest.from_string(PAGE, default_timeout=60)
    at.user = {"is_logged_in": False}
    at.session_state["demo_email"] = STEWARD
    at.session_state["admin_section"] = "Release requests"
    at.session_state[GAP_ROWS_KEY] = {"selection": {"rows": [0, 1, 2], "columns": []}}
    at.run()
    assert not at.exception, at.exception
    gap = next(f.value for f in at.dataframe if "why" in f.value.columns)
    chosen = {
        (r["student_id"], r["org_name"])
        for _, r in gap.iloc[[0, 1, 2]].iterrows()
        if not r["request"]
    }
    button = next(b for b in at.button if b.label.startswith(REQUEST_THESE))
    assert button.label == f"{REQUEST_THESE} ({len(chosen)})"

    at = button.click().run()

    assert not at.exception, at.exception
    made = _gap_requests(district)
    assert len(made) == len(chosen)
    assert {s for s, _, _ in made} == {s for s, _ in chosen}
    said = " ".join(s.value for s in at.success)
    assert f"{len(chosen)} release request" in said.replace("\\", "")
    assert "waiting in the outbox" in said


def test_a_matched_ask_is_requested_in_one_click(district: str) -> None:
    at = next(b for b in _section().button if b.label == "Match").click().run()
    at = next(b for b in at.button if b.label == "Request the release").click().run()
    assert not at.exception, at.exception
    made = _gap_requests(district)
    assert len(made) == 1 and made[0][2] is not None
    assert any("Not sent" in s.value for s in at.success)
