"""The realignment section (ui/realignment.py) drawn by itself in a tiny page script, on the
small world of tests/worlds.py with the stored need and capacity written as the refresh
and the steward would: HS2 has 50 students failing a course that no academic or
mentoring service reaches (70 flagged, 20 served for it) and 80 chronically absent
students no attendance-type service reaches (120 flagged, 40 served for it); Mentors A
(ORGA) has 25 open mentoring slots at HS1 (40 offered, 15 taken) and none anywhere else.

A leader reads the exact sentences; in meeting mode and for a partner the unmet need is
the coverage page's own protected figures: HS2's 40 served for absence are `*` there
(HS1's 5 are `<10` and the district's 45 are shown), so its unmet need is `*` too, never
80 (120 - 80 would give the 40 away), and Mentors A's slots are the 40 it offers, never
the 25 open (40 - 25 would give its 15 students away). The steward's section ends in
"edit capacity".
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import insert
from streamlit.testing.v1 import AppTest

from data_access import schema
from data_access.engine import make_engine
from data_access.meta import DEMO_KEY, set_meta
from data_access.models import Capacity, CoverageNeed, CoverageServedNow, table_of
from domain.school_year import school_year_of
from tests.worlds import build_small_world
from ui.realignment import TITLE

#: The app signs in with the real date; capacity is read for its school year.
YEAR = school_year_of(date.today())

SCRIPT = """
from ui.guard import guarded
from ui.realignment import render_realignment
from ui.session import require_principal

def page():
    render_realignment(require_principal(), meeting={meeting})

guarded(page)()
"""


def _need(school: str, need: str, flagged: int, addressing: int, other: int) -> dict[str, object]:
    return {
        "school_id": school, "need": need, "flagged": flagged, "served_addressing": addressing,
        "served_addressing_with_release": 0, "served_other": other,
        "unserved": flagged - addressing - other, "duplicated": 0,
    }  # fmt: skip


@pytest.fixture
def world_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    url = f"sqlite:///{tmp_path / 'world.db'}"
    engine = make_engine(url)
    schema.upgrade(engine)
    build_small_world(engine)
    with engine.begin() as connection:
        connection.execute(
            insert(table_of(CoverageNeed)),
            [
                _need("HS2", "course_failure", 70, 20, 15),
                _need("HS1", "course_failure", 60, 30, 12),
                _need("HS1", "chronic_absence", 140, 5, 35),
                _need("HS2", "chronic_absence", 120, 40, 10),
            ],
        )
        connection.execute(
            insert(table_of(Capacity)),
            [
                {"org_id": "ORGA", "school_id": "HS1", "service_type": "mentoring",
                 "school_year": YEAR, "slots": 40, "accepting_referrals": True},
            ],
        )  # fmt: skip
        connection.execute(
            insert(table_of(CoverageServedNow)),
            [{"org_id": "ORGA", "school_id": "HS1", "service_type": "mentoring",
              "students": 15, "students_with_release": 1}],
        )  # fmt: skip
        # Demo sign-in (choosing a user) is allowed only on a database marked as the demo.
        set_meta(connection, {DEMO_KEY: "true"})
    engine.dispose()
    monkeypatch.setenv("PATHWISE_DATABASE_URL", url)
    monkeypatch.setenv("PATHWISE_DEMO_SIGNIN", "1")
    yield url


@pytest.fixture
def section_as(world_url: str) -> Callable[..., AppTest]:
    def run(email: str, *, meeting: bool = False) -> AppTest:
        at = AppTest.from_string(SCRIPT.format(meeting=meeting), default_timeout=60)
        at.user = {"is_logged_in": False}
        at.session_state["demo_email"] = email
        at.run()
        assert not at.exception, at.exception
        return at

    return run


def _said(at: AppTest) -> list[str]:
    return [m.value for m in at.markdown]


def test_a_leader_reads_where_open_slots_could_meet_unmet_need(
    section_as: Callable[..., AppTest],
) -> None:
    at = section_as("leader@d.org")
    assert TITLE in [s.value for s in at.subheader]
    (table,) = at.dataframe
    rows = table.value.to_dict("records")
    assert [(r["school_name"], r["need"], r["unmet_display"], r["open_display"]) for r in rows] == [
        ("Second High", "chronic absence", "80", "25"),
        ("Second High", "course failure", "50", "25"),
    ]  # HS1's own needs have no partner with open slots elsewhere
    said = " ".join(_said(at)).replace("\\", "")
    assert "Mentors A has 25 open mentoring slots at First High" in said
    assert "Second High has 50 students failing a course" in said
    assert not any("Administration" in s.value for s in at.info)


def test_the_steward_is_pointed_to_edit_capacity(section_as: Callable[..., AppTest]) -> None:
    at = section_as("admin@d.org")
    assert any("Edit capacity" in s.value for s in at.info)
    at = section_as("admin@d.org", meeting=True)
    assert not any("Edit capacity" in s.value for s in at.info)


def test_meeting_mode_and_partners_see_the_unmet_need_the_coverage_page_shows(
    section_as: Callable[..., AppTest],
) -> None:
    for email, meeting in (("leader@d.org", True), ("viewer@city.org", False)):
        at = section_as(email, meeting=meeting)
        (table,) = at.dataframe
        rows = table.value.to_dict("records")
        # Course failure: 70 and 20 are both shown on the coverage page, so 50 is shown.
        # Chronic absence: 40 is `*` there, so the unmet need is `*` (the row appears only
        # because no open slot can be at HS2, a shown figure), sorted after the shown ones.
        # Mentors A's open slots (40 less the 15 it serves) would tell the 15: only the 40
        # slots it offers are shown.
        assert [(r["need"], r["unmet_display"], r["open_display"]) for r in rows] == [
            ("course failure", "50", "up to 40"),
            ("chronic absence", "*", "up to 40"),
        ]
        said = " ".join(_said(at)).replace("\\", "")
        assert "a protected number (*) of chronically absent students" in said
        assert "Mentors A offers up to 40 mentoring slots at First High" in said
        for hidden in ("80", "25", "15"):
            assert hidden not in said
            assert hidden not in {str(v) for r in rows for v in r.values()}
    partner = section_as("a@orga.org")
    (table,) = partner.dataframe
    # Its own organisation counts only the 1 student with a release: 39 open, exactly.
    assert [r["open_display"] for r in table.value.to_dict("records")] == ["39", "39"]


def test_a_role_without_district_figures_is_told_so(section_as: Callable[..., AppTest]) -> None:
    at = section_as("teacher@d.org")
    assert any("does not see district figures" in i.value for i in at.info)
    assert not at.dataframe
