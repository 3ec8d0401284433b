"""The demo district: deterministic, complete, realistic enough to train on and to test with."""

from __future__ import annotations

from datetime import date
from functools import cache

import polars as pl
import pytest
from sqlalchemy import Engine, func, select, text

from data_access.demo_build import DemoRefused, build_demo
from data_access.meta import is_demo, loaded_counts, read_meta
from data_access.models import IMPORT_TABLES, Note, Referral, Student, table_of
from demo_district.generate import DemoSpec, district
from domain.vocabulary import ROLES

TODAY = date(2026, 11, 22)
SMALL = DemoSpec(students=400, seed=7, today=TODAY)


@cache
def generated(spec: DemoSpec) -> dict[str, pl.DataFrame]:
    parts: dict[str, list[pl.DataFrame]] = {}
    for part in district(spec):
        for name, frame in part.tables.items():
            parts.setdefault(name, []).append(frame)
    return {name: pl.concat(frames) for name, frames in parts.items()}


def test_the_same_seed_builds_the_same_district() -> None:
    first = list(district(SMALL))
    second = list(district(SMALL))
    assert [p.label for p in first] == [p.label for p in second]
    for a, b in zip(first, second, strict=True):
        for name in a.tables:
            assert a.tables[name].equals(b.tables[name]), name


def test_another_seed_builds_another_district() -> None:
    other = generated(DemoSpec(students=400, seed=8, today=TODAY))
    assert not other["students"].equals(generated(SMALL)["students"])


def test_every_import_file_has_rows_and_only_its_own_columns() -> None:
    tables = generated(SMALL)
    for name, model in IMPORT_TABLES.items():
        assert tables[name].height > 0, name
        assert set(tables[name].columns) <= set(model.model_fields), name


def test_keys_are_unique_in_every_file() -> None:
    tables = generated(SMALL)
    for name, model in IMPORT_TABLES.items():
        key = [c.name for c in table_of(model).primary_key.columns]
        assert tables[name].select(key).is_duplicated().sum() == 0, name


def test_there_is_a_user_for_every_role_of_the_access_rules() -> None:
    users = generated(SMALL)["users"]
    assert set(users["role"]) == set(ROLES)
    assert users.filter(~pl.col("active")).height >= 1
    staff_without_agreement = users.filter(
        ~pl.col("role").is_in(["parent", "student"])
        & pl.col("confidentiality_signed_date").is_null()
    )
    assert staff_without_agreement.height >= 1


def test_consents_come_in_every_state_and_one_agreement_has_expired() -> None:
    tables = generated(DemoSpec(students=2000, seed=3, today=TODAY))
    consents = tables["consents"]
    assert consents.filter(pl.col("revoked_date").is_not_null()).height > 0
    assert consents.filter(pl.col("expires_date") < TODAY).height > 0
    active = consents.filter(
        (pl.col("signed_date") <= TODAY)
        & (pl.col("expires_date").is_null() | (pl.col("expires_date") >= TODAY))
        & pl.col("revoked_date").is_null()
    )
    assert active.height > consents.height / 2
    agreements = tables["agreements"].select("org_id", agreement="categories")
    joined = consents.join(agreements, on="org_id")
    narrower = joined.filter(
        pl.col("categories").str.len_chars() < pl.col("agreement").str.len_chars()
    )
    assert narrower.height > 0
    assert tables["agreements"].filter(pl.col("expires_date") < TODAY).height == 1


def test_every_pipeline_stage_has_data() -> None:
    tables = generated(DemoSpec(students=2000, seed=3, today=TODAY))
    outcomes = tables["outcomes"]
    assert outcomes["graduated"].sum() > 0
    assert outcomes["postsecondary_enrolled"].sum() > 0
    assert outcomes["persisted_second_year"].sum() > 0
    assert tables["fafsa"].filter(pl.col("status") == "completed").height > 0
    grade9 = tables["enrollments"].filter(pl.col("grade_level") == 9)["school_year"].unique()
    assert len(grade9) >= 5


def test_a_mid_year_move_between_schools_leaves_snapshots_at_both() -> None:
    attendance = generated(DemoSpec(students=2000, seed=3, today=TODAY))["attendance"]
    schools_per_year = attendance.group_by("student_id", "school_year").agg(
        pl.col("school_id").n_unique()
    )
    assert schools_per_year.filter(pl.col("school_id") > 1).height > 0


def test_cumulative_attendance_never_decreases_and_absences_fit_in_enrollment() -> None:
    attendance = generated(SMALL)["attendance"]
    assert attendance.filter(pl.col("days_absent") > pl.col("days_enrolled")).height == 0
    ordered = attendance.sort("student_id", "school_id", "school_year", "as_of_date").with_columns(
        step=pl.col("days_enrolled").diff().over("student_id", "school_id", "school_year")
    )
    assert ordered.filter(pl.col("step") < 0).height == 0


def _absence(tables: dict[str, pl.DataFrame], year: int) -> pl.DataFrame:
    latest = (
        tables["attendance"]
        .filter(pl.col("school_year") == year)
        .sort("as_of_date")
        .group_by("student_id", "school_id")
        .last()
        .group_by("student_id")
        .agg(pl.col("days_enrolled").sum(), pl.col("days_absent").sum())
        .filter(pl.col("days_enrolled") >= 10)
    )
    return latest.with_columns(rate=pl.col("days_absent") / pl.col("days_enrolled"))


def test_indicators_look_like_a_real_urban_district() -> None:
    spec = DemoSpec(students=8000, seed=2026, today=TODAY)
    tables = generated(spec)
    absence = _absence(tables, spec.current_year - 1)
    chronic = (absence["rate"] >= 0.10).mean()
    assert 0.2 < chronic < 0.45  # type: ignore[operator]
    outcomes = tables["outcomes"].join(
        tables["students"].select("student_id", "cohort_year"), on="student_id"
    )
    graduated = outcomes.filter(pl.col("cohort_year") <= spec.current_year - 2)["graduated"].mean()
    assert 0.7 < graduated < 0.92  # type: ignore[operator]


def test_indicators_correlate_with_outcomes_the_way_research_says() -> None:
    spec = DemoSpec(students=8000, seed=2026, today=TODAY)
    tables = generated(spec)
    students = tables["students"].select("student_id", "cohort_year", "econ_disadvantaged")
    ninth = (
        tables["enrollments"]
        .filter(pl.col("grade_level") == 9)
        .select("student_id", year="school_year")
        .unique()
    )
    absence = pl.concat(
        [
            _absence(tables, y).with_columns(year=pl.lit(y))
            for y in range(spec.current_year - 7, spec.current_year)
        ]
    )
    ninth_absence = ninth.join(absence, on=["student_id", "year"])
    outcomes = (
        tables["outcomes"].join(ninth_absence, on="student_id").join(students, on="student_id")
    )
    chronic_grad = outcomes.filter(pl.col("rate") >= 0.1)["graduated"].mean()
    regular_grad = outcomes.filter(pl.col("rate") < 0.05)["graduated"].mean()
    assert chronic_grad + 0.1 < regular_grad  # type: ignore[operator]

    fafsa = tables["fafsa"].filter(pl.col("status") == "completed").select("student_id")
    grads = tables["outcomes"].filter(
        pl.col("graduated") & pl.col("postsecondary_enrolled").is_not_null()
    )
    with_fafsa = grads.join(fafsa, on="student_id")["postsecondary_enrolled"].mean()
    without = grads.join(fafsa, on="student_id", how="anti")["postsecondary_enrolled"].mean()
    assert with_fafsa > without + 0.15  # type: ignore[operator]

    by_econ = (
        outcomes.group_by("econ_disadvantaged")
        .agg(pl.col("graduated").mean())
        .sort("econ_disadvantaged")
    )
    assert by_econ["graduated"][0] > by_econ["graduated"][1]


def test_some_data_is_missing_on_purpose() -> None:
    tables = generated(DemoSpec(students=2000, seed=3, today=TODAY))
    assert tables["students"]["race_ethnicity"].null_count() > 0
    enrolled = tables["enrollments"]["student_id"].unique()
    with_attendance = tables["attendance"]["student_id"].unique()
    assert len(enrolled) > len(with_attendance)


def test_build_writes_the_district_and_marks_it_as_demo(engine: Engine) -> None:
    seen: list[tuple[int, int]] = []
    summary = build_demo(engine, SMALL, progress=lambda done, total, _m: seen.append((done, total)))
    assert is_demo(engine)
    assert read_meta(engine)["demo_seed"] == "7"
    assert seen[-1][0] == seen[-1][1] and len(seen) >= 10
    expected = generated(SMALL)
    with engine.connect() as connection:
        for name, model in IMPORT_TABLES.items():
            count = connection.execute(
                select(func.count()).select_from(table_of(model))
            ).scalar_one()
            assert count == expected[name].height, name
        assert connection.execute(select(func.count()).select_from(table_of(Note))).scalar_one() > 0
        assert (
            connection.execute(select(func.count()).select_from(table_of(Referral))).scalar_one()
            > 0
        )
    assert summary.students == expected["students"].height


def test_rows_read_back_with_their_types(engine: Engine) -> None:
    build_demo(engine, SMALL)
    from sqlmodel import Session

    with Session(engine) as session:
        student = session.get(Student, generated(SMALL)["students"]["student_id"][0])
        assert student is not None
        assert isinstance(student.birth_date, date)
        assert isinstance(student.econ_disadvantaged, bool)
        note = session.exec(select(Note)).scalars().first()  # type: ignore[call-overload]
        assert note.created_at.tzinfo is not None


def test_building_twice_needs_replace_and_replace_rebuilds(engine: Engine) -> None:
    build_demo(engine, SMALL)
    with pytest.raises(DemoRefused, match="--replace"):
        build_demo(engine, SMALL)
    build_demo(engine, DemoSpec(students=200, seed=1, today=TODAY), replace=True)
    assert (
        loaded_counts(engine).students
        == generated(DemoSpec(students=200, seed=1, today=TODAY))["students"].height
    )


def test_replace_never_touches_real_data(engine: Engine) -> None:
    with engine.begin() as connection:
        connection.execute(text("INSERT INTO school VALUES ('X1', 'Real School', 9, 12)"))
    with pytest.raises(DemoRefused, match="real"):
        build_demo(engine, SMALL, replace=True)
    assert loaded_counts(engine).schools == 1


def test_keys_stay_unique_when_a_cohort_spans_many_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    """A million students are generated in chunks; keys must not repeat across them."""
    import demo_district.generate as generate

    monkeypatch.setattr(generate, "CHUNK", 37)
    tables: dict[str, list[pl.DataFrame]] = {}
    for part in generate.district(DemoSpec(students=600, seed=5, today=TODAY)):
        for name, frame in part.tables.items():
            tables.setdefault(name, []).append(frame)
    for name, model in IMPORT_TABLES.items():
        key = [c.name for c in table_of(model).primary_key.columns]
        frame = pl.concat(tables[name])
        assert frame.select(key).is_duplicated().sum() == 0, name
