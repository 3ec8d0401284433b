"""Suggested partners on the list and the profile, and the one-click referral (AppTest).

A small demo district of its own (the referrals these tests make must not reach the
other page tests), with capacity filed for every partner at every school
(tests/capacity_rows.py).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date
from typing import Any

import polars as pl
import pytest
from sqlalchemy import Engine, select
from streamlit.testing.v1 import AppTest

from data_access.demo_build import build_demo
from data_access.engine import make_engine
from data_access.identity import sign_in
from data_access.models import Consent, Referral, School, Student, table_of
from data_access.policy import consent_active
from data_access.roster import ListFilters, at_risk_list
from data_access.suggestions import suggested_partners
from demo_district.generate import DemoSpec
from indicators.suggestions import SUGGESTED
from tests.app.conftest import email
from tests.capacity_rows import add_capacity

TODAY = date.today()
COUNSELOR = "counselor.hs01"


@pytest.fixture(scope="module")
def district(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Engine]]:
    url = f"sqlite:///{tmp_path_factory.mktemp('suggestions') / 'demo.db'}"
    engine = make_engine(url)
    build_demo(engine, DemoSpec(students=600, seed=9, today=TODAY))
    add_capacity(engine, TODAY)
    yield url, engine
    engine.dispose()


@pytest.fixture
def page_as(
    district: tuple[str, Engine], monkeypatch: pytest.MonkeyPatch
) -> Callable[..., AppTest]:
    monkeypatch.setenv("PATHWISE_DATABASE_URL", district[0])
    monkeypatch.setenv("PATHWISE_DEMO_SIGNIN", "1")

    def run(page: str, who: str, **state: object) -> AppTest:
        module, function = page.split(".")
        at = AppTest.from_string(
            f"from pages.{module} import {function}\nfrom ui.guard import guarded\nguarded({function})()\n",
            default_timeout=60,
        )
        at.user = {"is_logged_in": False}
        at.session_state["demo_email"] = email(who)
        for key, value in state.items():
            at.session_state[key] = value
        at.run()
        return at

    return run


def table(at: AppTest) -> pl.DataFrame:
    return pl.from_pandas(at.dataframe[0].value)


def toggle(at: AppTest, label: str) -> Any:
    return next((t for t in at.toggle if t.label == label), None)


def _unreleased_suggestion(engine: Engine) -> tuple[str, str, str]:
    """A student of the counselor's school and a suggested partner without an active
    release for them: (student_id, org_id, service_type)."""
    counselor = sign_in(engine, email(COUNSELOR), TODAY)
    ids = at_risk_list(engine, counselor, ListFilters(tiers=(3, 2))).rows["student_id"].to_list()
    partners = suggested_partners(engine, principal=counselor, student_ids=ids).partners
    consent = table_of(Consent)
    with engine.connect() as connection:
        released = set(
            connection.execute(
                select(consent.c.student_id, consent.c.org_id).where(consent_active(TODAY))
            ).all()
        )
    for row in partners.filter(pl.col("status") == SUGGESTED).iter_rows(named=True):
        if (row["student_id"], row["org_id"]) not in released:
            return row["student_id"], row["org_id"], row["service_type"]
    raise AssertionError("the demo district has no suggestion without a release")


def test_the_list_shows_who_could_help_each_student(page_as: Callable[..., AppTest]) -> None:
    at = page_as("at_risk.at_risk_page", COUNSELOR)
    assert not at.exception, at.exception
    help_column = table(at)["help"].drop_nulls().to_list()
    assert help_column and any("open)" in text for text in help_column)


def test_the_no_support_filter_keeps_students_nobody_serves_for_their_flags(
    page_as: Callable[..., AppTest],
) -> None:
    at = page_as("at_risk.at_risk_page", COUNSELOR)
    everyone = table(at)
    at = toggle(at, "No support for their flags").set_value(True).run()
    assert not at.exception, at.exception
    kept = table(at)
    assert 0 < kept.height < everyone.height
    assert not any(text.startswith("Already served") for text in kept["help"].drop_nulls())
    assert all(flags for flags in kept["flags"].to_list())


def test_a_teacher_gets_no_support_filter_and_learns_no_service(
    page_as: Callable[..., AppTest],
) -> None:
    at = page_as("at_risk.at_risk_page", "teacher.hs01")
    assert not at.exception, at.exception
    assert toggle(at, "No support for their flags") is None
    if at.dataframe:
        assert not any(t.startswith("Already served") for t in table(at)["help"].drop_nulls())


def test_one_click_refers_the_student_and_says_it_waits_for_a_release(
    page_as: Callable[..., AppTest], district: tuple[str, Engine]
) -> None:
    engine = district[1]
    student_id, org_id, service_type = _unreleased_suggestion(engine)
    referral = table_of(Referral)

    def made() -> set[tuple[int, str, str, str]]:
        with engine.connect() as connection:
            rows = connection.execute(
                select(
                    referral.c.referral_id,
                    referral.c.org_id,
                    referral.c.referred_by,
                    referral.c.reason,
                ).where(referral.c.student_id == student_id)
            ).all()
        return {tuple(r) for r in rows}

    before = made()
    at = page_as("student.student_page", COUNSELOR, profile_student=student_id)
    assert not at.exception, at.exception
    assert "Who could help" in [s.value for s in at.subheader]
    at = at.button(key=f"refer_{org_id}_{service_type}").click().run()
    assert not at.exception, at.exception
    new = made() - before
    assert [(o, by) for _, o, by, _ in new] == [(org_id, email(COUNSELOR))]
    assert next(iter(new))[3].startswith("Suggested by Pathwise: ")
    assert any("waiting for a release" in s.value for s in at.success)
    newest = pl.from_pandas(at.dataframe[-1].value).row(0, named=True)
    assert newest["status"] == "waiting for a release"


def test_a_partner_sees_suggestions_but_no_referral_button(
    page_as: Callable[..., AppTest], district: tuple[str, Engine]
) -> None:
    engine = district[1]
    partner = sign_in(engine, email("staff.org02"), TODAY)
    listed = at_risk_list(engine, partner).rows["student_id"].to_list()
    assert listed
    at = page_as("student.student_page", "staff.org02", profile_student=listed[0])
    assert not at.exception, at.exception
    assert "Who could help" in [s.value for s in at.subheader]
    assert not [b for b in at.button if str(b.label).startswith("Refer to")]


def test_the_profile_shows_each_referrals_path(
    page_as: Callable[..., AppTest], district: tuple[str, Engine]
) -> None:
    engine = district[1]
    referral = table_of(Referral)
    counselor = sign_in(engine, email(COUNSELOR), TODAY)
    ids = set(at_risk_list(engine, counselor).rows["student_id"])
    with engine.connect() as connection:
        referred = connection.execute(select(referral.c.student_id)).scalars().all()
    student_id = next(s for s in referred if s in ids)
    at = page_as("student.student_page", COUNSELOR, profile_student=student_id)
    assert not at.exception, at.exception
    paths = pl.from_pandas(at.dataframe[-1].value)["path"].to_list()
    assert paths and all(p.startswith("referred ") for p in paths)


def loop_as(
    district: tuple[str, Engine], monkeypatch: pytest.MonkeyPatch, who: str, meeting: bool
) -> AppTest:
    monkeypatch.setenv("PATHWISE_DATABASE_URL", district[0])
    monkeypatch.setenv("PATHWISE_DEMO_SIGNIN", "1")
    at = AppTest.from_string(
        "from ui.referral_loop import render_referral_loop\n"
        "from ui.session import require_principal\n"
        f"render_referral_loop(require_principal(), meeting={meeting})\n",
        default_timeout=60,
    )
    at.user = {"is_logged_in": False}
    at.session_state["demo_email"] = email(who)
    at.run()
    return at


def test_the_referral_loop_is_exact_for_the_steward_and_protected_in_meeting_mode(
    district: tuple[str, Engine], monkeypatch: pytest.MonkeyPatch
) -> None:
    exact = loop_as(district, monkeypatch, "steward", meeting=False)
    assert not exact.exception, exact.exception
    made = pl.from_pandas(exact.dataframe[0].value)["made"].to_list()
    assert all(m.isdigit() for m in made)
    assert exact.info and "Next step" not in exact.info[-1].value
    assert not any(s.value.startswith("**Next step.**") for s in exact.success)
    schools = set(pl.from_pandas(exact.dataframe[0].value)["school"].to_list())
    assert "All schools" in schools and not any(s.startswith("HS") for s in schools), schools
    protected = loop_as(district, monkeypatch, "steward", meeting=True)
    assert not protected.exception, protected.exception
    shown = pl.from_pandas(protected.dataframe[0].value)
    small = [m for m in shown["made"].to_list() if m.isdigit() and int(m) < 10]
    assert not small and "<10" in shown["made"].to_list() + shown["accepted"].to_list()


def test_the_profile_names_the_school_where_the_slots_are_not_its_id(
    page_as: Callable[..., AppTest], district: tuple[str, Engine]
) -> None:
    """Capacity filed at the student's own school reads with the school's name."""
    student_id, _, _ = _unreleased_suggestion(district[1])
    at = page_as("student.student_page", COUNSELOR, profile_student=student_id)
    assert not at.exception, at.exception
    slots = [m.value for m in at.markdown if "open" in m.value and "slots at" in m.value]
    assert slots, [m.value for m in at.markdown]
    with district[1].connect() as connection:
        school_id, school_name = connection.execute(
            select(table_of(School).c.school_id, table_of(School).c.school_name)
            .join(table_of(Student), table_of(Student).c.school_id == table_of(School).c.school_id)
            .where(table_of(Student).c.student_id == student_id)
        ).one()
    assert all(s.endswith(f"at {school_name}") or s.endswith("at any school") for s in slots)
    assert not any(s.endswith(f"at {school_id}") for s in slots)
