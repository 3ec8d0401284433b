"""The early-warning list, pipeline figures and consent coverage, scoped and audited."""

from __future__ import annotations

import polars as pl
import pytest
from sqlalchemy import Engine, select

from data_access import aggregates, roster
from data_access.audit import AUDIT_EVENT, AUDIT_STUDENT
from data_access.derived import refresh_derived
from data_access.identity import sign_in
from data_access.policy import AccessDenied, Principal
from data_access.roster import ListFilters
from indicators.observable import NOT_YET
from tests.worlds import TODAY, YEAR, build_small_world


@pytest.fixture
def world(engine: Engine) -> Engine:
    build_small_world(engine)
    refresh_derived(engine, as_of=TODAY)
    return engine


def who(engine: Engine, email: str) -> Principal:
    return sign_in(engine, email, TODAY)


def test_a_counselor_lists_their_school_and_can_narrow_to_the_caseload(world: Engine) -> None:
    counselor = who(world, "counselor@d.org")
    assert sorted(roster.at_risk_list(world, counselor).rows["student_id"]) == ["S1", "S2", "S3"]
    mine = roster.at_risk_list(world, counselor, ListFilters(caseload_only=True))
    assert mine.rows["student_id"].to_list() == ["S1"]


def test_a_partner_gets_only_consented_students_and_only_agreed_categories(world: Engine) -> None:
    rows = roster.at_risk_list(world, who(world, "a@orga.org")).rows.sort("student_id")
    assert rows["student_id"].to_list() == ["S1", "S3"]
    ana = rows.row(0, named=True)
    assert ana["absence_rate"] == pytest.approx(6 / 40)  # attendance: in release and agreement
    assert (
        ana["core_fails"] is None and ana["course_failure"] is None
    )  # grades: not in the agreement
    assert ana["below_proficient"] is None  # tests: not in the release
    assert ana["flag_count"] == 1 and ana["tier"] == 2  # only the attendance flag counts


def test_the_masking_happens_in_sql(world: Engine) -> None:
    partner = who(world, "a@orga.org")
    with world.connect() as connection:
        raw = connection.execute(roster._statement(partner, YEAR, ListFilters())).mappings().all()
    assert {r["student_id"] for r in raw} == {"S1", "S3"}
    assert all(r["core_fails"] is None and r["fafsa_status"] is None for r in raw)


def test_the_tier_never_reveals_a_hidden_category(world: Engine) -> None:
    full = (
        roster.at_risk_list(world, who(world, "admin@d.org"))
        .rows.filter(pl.col("student_id") == "S1")
        .row(0, named=True)
    )
    partial = (
        roster.at_risk_list(world, who(world, "a@orga.org"))
        .rows.filter(pl.col("student_id") == "S1")
        .row(0, named=True)
    )
    assert full["flag_count"] > partial["flag_count"]


def test_a_teacher_sees_the_caseload_without_fafsa(world: Engine) -> None:
    rows = roster.at_risk_list(world, who(world, "teacher@d.org")).rows
    assert sorted(rows["student_id"]) == ["S1", "S4"]
    assert rows["fafsa_status"].null_count() == rows.height


def test_viewers_get_no_list(world: Engine) -> None:
    with pytest.raises(AccessDenied):
        roster.at_risk_list(world, who(world, "viewer@city.org"))


def test_every_listed_student_is_audited_with_its_basis(world: Engine) -> None:
    roster.at_risk_list(world, who(world, "a@orga.org"))
    with world.connect() as connection:
        rows = connection.execute(
            select(
                AUDIT_EVENT.c.action, AUDIT_STUDENT.c.student_id, AUDIT_STUDENT.c.legal_basis
            ).join(AUDIT_STUDENT, AUDIT_STUDENT.c.event_id == AUDIT_EVENT.c.event_id)
        ).all()
    assert sorted(tuple(r) for r in rows) == [
        ("flags.list", "S1", "consent:C1"),
        ("flags.list", "S3", "consent:C3"),
    ]


def test_filters_on_tier_and_flags_use_the_visible_values(world: Engine) -> None:
    partner = who(world, "a@orga.org")
    assert (
        roster.at_risk_list(world, partner, ListFilters(flags=("course_failure",))).rows.height == 0
    )
    admin = who(world, "admin@d.org")
    failing = roster.at_risk_list(world, admin, ListFilters(flags=("course_failure",))).rows
    assert failing["student_id"].to_list() == ["S1"]


def test_leaders_get_exact_pipelines_and_others_protected_ones(world: Engine) -> None:
    exact = aggregates.pipeline(world, who(world, "leader@d.org"), 2026)
    assert exact.exact and exact.rows["display"].to_list()[0] == "0"
    protected = aggregates.pipeline(world, who(world, "counselor@d.org"), 2026)
    assert not protected.exact
    # As of 2026-11-22 the class of 2026 has no second year yet (indicators.observable).
    assert set(protected.rows["display"]) == {"<10", NOT_YET}
    assert protected.rows["shown"].null_count() == protected.rows.height
    assert (
        aggregates.pipeline(world, who(world, "admin@d.org").in_meeting_mode(), 2026).exact is False
    )


def test_roles_without_aggregate_rights_get_no_figures(world: Engine) -> None:
    for email in ("teacher@d.org", "mom@family.org", "eli@student.org"):
        with pytest.raises(AccessDenied):
            aggregates.pipeline(world, who(world, email), 2026)


def test_meeting_mode_never_gives_figures_to_a_role_without_them(world: Engine) -> None:
    for email in ("teacher@d.org", "mom@family.org", "eli@student.org"):
        in_meeting = who(world, email).in_meeting_mode()
        assert not in_meeting.sees_aggregates and not in_meeting.sees_students
        with pytest.raises(AccessDenied):
            aggregates.pipeline(world, in_meeting, 2026)
        with pytest.raises(AccessDenied):
            aggregates.consent_coverage(world, in_meeting)


def test_consent_coverage_counts_flagged_students_served_under_an_active_release(
    world: Engine,
) -> None:
    coverage = aggregates.consent_coverage(world, who(world, "leader@d.org"))
    total = {
        r["stage"]: r["shown"]
        for r in coverage.filter(pl.col("group") == "all").iter_rows(named=True)
    }
    flagged = roster.at_risk_list(world, who(world, "admin@d.org"), ListFilters(tiers=(2, 3))).rows
    assert total["flagged"] == flagged.height
    assert total["covered"] == 2  # S1 (ORGA, active release) and S5 (ORGC, active release)
    protected = aggregates.consent_coverage(world, who(world, "counselor@d.org"))
    assert set(protected["display"]) <= {"<10", "*"}
