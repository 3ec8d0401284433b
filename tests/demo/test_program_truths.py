"""The demo's programs hold known truths (docs/demo-district.md, "Programs and their true effects").

Each truth is checked on the generated data alone, without the estimator of "Is it
working?": the same district is built with the programs' effects on and off (every
random draw is the same either way), so the difference between the two is the effect,
and everything before a program starts is identical. The selection on risk and the data
the matched comparison needs (monthly snapshots, marks of the last complete year, dose)
are checked on the default demo.
"""

from __future__ import annotations

from datetime import date
from functools import cache

import polars as pl

from demo_district import calendar as cal
from demo_district.generate import DEFAULT_SEED, DEFAULT_STUDENTS, DemoSpec, district_frames
from demo_district.world import ORGS

AS_OF = date(2026, 12, 1)
DEFAULT = DemoSpec(students=DEFAULT_STUDENTS, seed=DEFAULT_SEED, today=AS_OF)
WITHOUT = DemoSpec(students=DEFAULT_STUDENTS, seed=DEFAULT_SEED, today=AS_OF, program_effects=False)
#: The last complete school year of the default demo (2025-26).
LAST_YEAR = DEFAULT.current_year - 1
ORG = {org.org_id: org for org in ORGS}


@cache
def generated(spec: DemoSpec) -> dict[str, pl.DataFrame]:
    return district_frames(spec)


def started_in(year: int, org_id: str, spec: DemoSpec = DEFAULT) -> pl.DataFrame:
    """The services of `org_id` starting in school `year` (Aug 1 .. Jul 31)."""
    return generated(spec)["services"].filter(
        (pl.col("org_id") == org_id)
        & pl.col("start_date").is_between(date(year - 1, 8, 1), date(year, 7, 31))
    )


def totals(spec: DemoSpec, year: int) -> pl.DataFrame:
    """Each student's running totals of `year` at each snapshot date, over all schools."""
    attendance = generated(spec)["attendance"].filter(pl.col("school_year") == year)
    return attendance.group_by("student_id", "as_of_date").agg(
        pl.col("days_enrolled").sum(), pl.col("days_absent").sum()
    )


def after_start(spec: DemoSpec, served: pl.DataFrame, year: int) -> pl.DataFrame:
    """Days enrolled and absent of each served student from the last snapshot before the
    start to the end of the year, and the absence rate before the start."""
    running = totals(spec, year).join(served.select("student_id", "start_date"), on="student_id")
    before = (
        running.filter(pl.col("as_of_date") <= pl.col("start_date"))
        .sort("as_of_date")
        .group_by("student_id")
        .last()
    )
    end = running.sort("as_of_date").group_by("student_id").last()
    return (
        before.join(end, on="student_id", suffix="_end")
        .with_columns(
            enrolled_after=pl.col("days_enrolled_end") - pl.col("days_enrolled"),
            absent_after=pl.col("days_absent_end") - pl.col("days_absent"),
            rate_before=pl.col("days_absent") / pl.col("days_enrolled"),
        )
        .filter(pl.col("enrolled_after") >= 10)
        .sort("student_id")
    )


def year_rates(spec: DemoSpec, year: int) -> pl.DataFrame:
    latest = (
        generated(spec)["attendance"]
        .filter(pl.col("school_year") == year)
        .sort("as_of_date")
        .group_by("student_id", "school_id")
        .last()
        .group_by("student_id")
        .agg(pl.col("days_enrolled").sum(), pl.col("days_absent").sum())
        .filter(pl.col("days_enrolled") >= 10)
    )
    return latest.with_columns(rate=pl.col("days_absent") / pl.col("days_enrolled"))


def test_services_of_the_last_complete_year_do_not_depend_on_the_effects() -> None:
    """Who is served, and from when, is decided before any outcome after a start."""
    for org in ORGS:
        on = started_in(LAST_YEAR, org.org_id)
        off = started_in(LAST_YEAR, org.org_id, WITHOUT)
        assert on.equals(off), org.org_id


def test_every_day_counts_lowers_absence_after_the_start_by_three_points() -> None:
    org = ORG["ORG05"]
    assert org.absence_points == 3.0
    served = started_in(LAST_YEAR, "ORG05")
    on = after_start(DEFAULT, served, LAST_YEAR)
    off = after_start(WITHOUT, served, LAST_YEAR)
    assert on["student_id"].equals(off["student_id"])
    assert on["enrolled_after"].equals(off["enrolled_after"])
    # Before the start, nothing differs.
    assert on["days_absent"].equals(off["days_absent"])
    # After it, each absent day is forgiven with chance 3 points / the day's rate: the
    # rate falls by 3 points (by less only where the rate itself is lower). Expected fall
    # over these students: 2.9-3.0 points; the binomial noise has an SD near 0.1 point.
    forgiven = off["absent_after"] - on["absent_after"]
    assert (forgiven >= 0).all()
    points = 100 * int(forgiven.sum()) / int(on["enrolled_after"].sum())
    assert 2.6 < points < 3.3, points


def test_only_days_after_an_attendance_start_differ() -> None:
    """Every absence the effect removes is a served student's, in a snapshot after the start."""
    on = totals(DEFAULT, LAST_YEAR)
    off = totals(WITHOUT, LAST_YEAR)
    both = on.join(off, on=["student_id", "as_of_date"], suffix="_off", how="full", coalesce=True)
    assert both.filter(pl.col("days_enrolled") != pl.col("days_enrolled_off")).height == 0
    changed = both.filter(pl.col("days_absent") != pl.col("days_absent_off"))
    assert changed.height > 0
    served = started_in(LAST_YEAR, "ORG05").select("student_id", "start_date")
    explained = changed.join(served, on="student_id").filter(
        pl.col("as_of_date") > pl.col("start_date")
    )
    assert explained.height == changed.height


def test_youth_tutoring_network_turns_failing_core_marks_after_the_start_into_passes() -> None:
    org = ORG["ORG03"]
    served = started_in(LAST_YEAR, "ORG03").select("student_id", "start_date")
    key = ["student_id", "school_year", "term", "course_id"]
    on = generated(DEFAULT)["course_marks"].filter(pl.col("school_year") == LAST_YEAR)
    off = generated(WITHOUT)["course_marks"].filter(pl.col("school_year") == LAST_YEAR)
    both = on.join(off.select(*key, mark_off="mark"), on=key, how="full", coalesce=True)
    assert both.filter(pl.col("mark").is_null() | pl.col("mark_off").is_null()).height == 0
    changed = both.filter(pl.col("mark") != pl.col("mark_off"))
    # Every change is a failing core mark of a served student, in a term ending after the
    # start, that passes.
    term_end = pl.col("term").replace_strict(
        {t: cal_term_end(LAST_YEAR, t) for t in ("S1", "S2", "Y")}, return_dtype=pl.Date
    )
    explained = changed.join(served, on="student_id").filter(
        (pl.col("subject") != "other")
        & failing("mark_off")
        & ~failing("mark")
        & (term_end > pl.col("start_date"))
    )
    assert changed.height > 0
    assert explained.height == changed.height
    # Of the failing core marks the served students would have had after the start, the
    # program's share passes (binomial SD near 0.025 here).
    failing_after = (
        off.join(served, on="student_id")
        .with_columns(end=term_end)
        .filter((pl.col("subject") != "other") & failing() & (pl.col("end") > pl.col("start_date")))
    )
    share = changed.height / failing_after.height
    assert abs(share - org.failing_mark_pass_chance) < 0.08, share


def failing(column: str = "mark") -> pl.Expr:
    """A failing mark (docs/import-format.md): F, NP or a number below 60."""
    mark = pl.col(column)
    return mark.is_in(["F", "NP"]) | (mark.cast(pl.Float64, strict=False) < 60).fill_null(False)


def cal_term_end(year: int, term: str) -> date:
    """S1 ends with January, S2 and full-year marks with the year (docs/demo-district.md)."""
    return cal.month_end(year, 4) if term == "S1" else cal.year_end(year)


def test_college_access_collaborative_raises_fafsa_completion_of_its_seniors() -> None:
    org = ORG["ORG02"]
    seniors = (
        generated(DEFAULT)["enrollments"]
        .filter((pl.col("school_year") == LAST_YEAR) & (pl.col("grade_level") == 12))
        .select("student_id")
        .unique()
    )
    served = started_in(LAST_YEAR, "ORG02").join(seniors, on="student_id")
    assert served.height > 30

    def completed(spec: DemoSpec) -> pl.DataFrame:
        fafsa = generated(spec)["fafsa"].filter(pl.col("award_year") == LAST_YEAR)
        return seniors.join(
            fafsa.filter(pl.col("status") == "completed").select("student_id", done=pl.lit(1)),
            on="student_id",
            how="left",
        ).with_columns(pl.col("done").fill_null(0))

    on = completed(DEFAULT).join(served.select("student_id"), on="student_id")
    off = completed(WITHOUT).join(served.select("student_id"), on="student_id")
    gain = 100 * (float(on["done"].mean()) - float(off["done"].mean()))  # type: ignore[arg-type]
    # +15 points (binomial SD near 2.6 points at this size)
    assert org.fafsa_points - 7 < gain < org.fafsa_points + 7, gain
    # Seniors the program did not serve complete it exactly as without the effect.
    unserved_on = completed(DEFAULT).join(served, on="student_id", how="anti").sort("student_id")
    unserved_off = completed(WITHOUT).join(served, on="student_id", how="anti").sort("student_id")
    assert unserved_on.equals(unserved_off)


def test_the_null_programs_change_nothing() -> None:
    """Without the three effective programs, the district is the same with effects on or off."""
    null = [o for o in ORGS if not o.has_effect]
    assert {o.org_id for o in null} >= {"ORG06"}
    assert {o.org_id for o in ORGS if o.has_effect} == {"ORG02", "ORG03", "ORG05"}
    for name in ("students", "enrollments", "test_scores", "outcomes"):
        on = generated(DEFAULT)[name]
        off = generated(WITHOUT)[name]
        if name == "outcomes":  # postsecondary draws follow FAFSA, so compare graduation
            on, off = on.select("student_id", "graduated"), off.select("student_id", "graduated")
        assert on.equals(off), name


def test_services_go_to_students_who_already_struggle() -> None:
    """Selection on risk: served students missed more school before the start than the
    unserved students of their year, and failed more core marks the year before."""
    rates = year_rates(DEFAULT, LAST_YEAR)
    services = generated(DEFAULT)["services"]
    for org_id in ("ORG05", "ORG03", "ORG06"):
        served = started_in(LAST_YEAR, org_id)
        before = after_start(DEFAULT, served, LAST_YEAR)["rate_before"].mean()
        unserved = rates.join(services.select("student_id"), on="student_id", how="anti")
        assert before > unserved["rate"].mean() + 0.03, org_id  # type: ignore[operator]
    marks = generated(DEFAULT)["course_marks"].filter(
        (pl.col("school_year") == LAST_YEAR - 1) & (pl.col("subject") != "other")
    )
    fails = marks.group_by("student_id").agg(fails=failing().sum())
    tutored = fails.join(started_in(LAST_YEAR, "ORG03"), on="student_id")["fails"].mean()
    others = fails.join(services.select("student_id"), on="student_id", how="anti")["fails"].mean()
    assert tutored > 1.5 * others  # type: ignore[operator]


def test_the_naive_comparison_gives_every_day_counts_the_wrong_sign() -> None:
    """Served students still miss more school after the start than the unserved do, though
    the program lowers their absence: the naive difference says it harms them."""
    served = started_in(LAST_YEAR, "ORG05")
    after = after_start(DEFAULT, served, LAST_YEAR)
    served_rate = int(after["absent_after"].sum()) / int(after["enrolled_after"].sum())
    attendance_served = generated(DEFAULT)["services"].filter(
        pl.col("service_type") == "attendance"
    )
    unserved = year_rates(DEFAULT, LAST_YEAR).join(
        attendance_served.select("student_id"), on="student_id", how="anti"
    )
    unserved_rate = int(unserved["days_absent"].sum()) / int(unserved["days_enrolled"].sum())
    assert served_rate - unserved_rate > 0.03


def test_each_effective_program_serves_well_over_thirty_students_in_the_last_year() -> None:
    for org_id in ("ORG02", "ORG03", "ORG05"):
        after = after_start(DEFAULT, started_in(LAST_YEAR, org_id), LAST_YEAR)
        assert after.height > 100, org_id


def test_attendance_has_a_snapshot_at_every_month_end_of_the_last_two_years() -> None:
    attendance = generated(DEFAULT)["attendance"]
    for year, months in ((LAST_YEAR, 10), (DEFAULT.current_year, 3)):
        dates = set(attendance.filter(pl.col("school_year") == year)["as_of_date"])
        assert {cal.month_end(year, m) for m in range(months)} <= dates, year
    # Earlier years keep one snapshot per stint.
    earlier = attendance.filter(pl.col("school_year") == LAST_YEAR - 1)
    per_stint = earlier.group_by("student_id", "school_id").len()["len"]
    assert per_stint.max() == 1


def test_every_student_enrolled_all_year_has_core_marks_for_both_semesters() -> None:
    tables = generated(DEFAULT)
    start, end = cal.year_start(LAST_YEAR), cal.year_end(LAST_YEAR)
    whole_year = (
        tables["enrollments"]
        .filter(
            (pl.col("school_year") == LAST_YEAR)
            & (pl.col("entry_date") == start)
            & (pl.col("exit_date") == end)
        )
        .select("student_id")
        .unique()
    )
    core = tables["course_marks"].filter(
        (pl.col("school_year") == LAST_YEAR) & (pl.col("subject") != "other")
    )
    terms = core.group_by("student_id").agg(pl.col("term").unique().sort())
    with_terms = whole_year.join(terms, on="student_id", how="left")
    assert with_terms.filter(pl.col("term") != pl.lit(["S1", "S2"])).height == 0
    # And the current year's first quarter, for students there since its first day.
    current = tables["course_marks"].filter(pl.col("school_year") == DEFAULT.current_year)
    assert set(current["term"]) == {"Q1"}
    assert current["student_id"].n_unique() > 0.9 * whole_year.height


def test_most_services_report_sessions_and_hours_and_some_partners_none() -> None:
    services = generated(DEFAULT)["services"]
    reported = services.filter(pl.col("sessions").is_not_null())
    assert reported.height > 0.6 * services.height
    assert reported.filter((pl.col("sessions") < 0) | (pl.col("hours") < 0)).height == 0
    assert reported["hours"].null_count() == 0
    silent = {o.org_id for o in ORGS if not o.reports_dose}
    assert silent
    assert services.filter(pl.col("org_id").is_in(list(silent)))["sessions"].null_count() == (
        services.filter(pl.col("org_id").is_in(list(silent))).height
    )
