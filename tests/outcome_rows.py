"""Hand-made frames shaped like `indicators.outcomes.program_outcomes`'s output (the
issue-13 contract's columns and dtypes, indicators/outcomes_schema.py), for the tests of
everything between the method and the page: protection, storage, policy, api, export."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import polars as pl

from indicators.outcomes_schema import (
    BALANCE_SCHEMA,
    ESTIMATES_SCHEMA,
    SERVED_STUDENTS_SCHEMA,
    TRAJECTORY_SCHEMA,
    YES_NO_MEASURES,
)

YEAR = 2026


def estimate(
    org: str = "ORG1",
    service_type: str = "attendance",
    measure: str = "absence_rate",
    *,
    year: int = YEAR,
    group_by: str = "all",
    group_value: str = "all",
    served: int = 40,
    matched: int | None = None,
    comparison: int | None = None,
    excluded: int = 0,
    unserved: int = 300,
    effect: float | None = -2.8,
    verdict: str = "better",
    **figures: Any,
) -> dict[str, Any]:
    """One estimates row; `matched` defaults to the served less the excluded and the
    comparison to twice the matched; the means and effects are made up around `effect`
    (null for a verdict without an effect)."""
    matched = served - excluded if matched is None else matched
    comparison = 2 * matched if comparison is None else comparison
    has_effect = verdict not in ("too_few", "not_comparable") and effect is not None
    yes_no = measure in YES_NO_MEASURES
    row: dict[str, Any] = {
        "school_year": year,
        "org_id": org,
        "service_type": service_type,
        "measure": measure,
        "group_by": group_by,
        "group_value": group_value,
        "served": served,
        "excluded": excluded,
        "matched": matched,
        "comparison": comparison,
        "unserved": unserved,
        "served_before": None if yes_no else 14.0,
        "served_after": 10.0,
        "comparison_before": None if yes_no else 13.5,
        "comparison_after": 10.0 - (effect or 0.0),
        "effect": effect if has_effect else None,
        "ci_low": effect - 1.3 if has_effect and effect is not None else None,
        "ci_high": effect + 1.3 if has_effect and effect is not None else None,
        "effect_size": -0.31 if has_effect else None,
        "effect_size_kind": "cox_index" if yes_no else "hedges_g",
        "max_smd": 0.04,
        "balance": None if verdict == "too_few" else "ok",
        "naive_effect": 3.1,
        "verdict": verdict,
        "mean_sessions": 12.5,
        "mean_hours": 20.0,
    }
    row.update(figures)
    return row


def estimates(rows: list[dict[str, Any]]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=ESTIMATES_SCHEMA).sort(
        "school_year", "org_id", "service_type", "measure", "group_by", "group_value"
    )


def grouped(
    groups: dict[str, tuple[int, int, int]],
    *,
    group_by: str = "school_id",
    **program: Any,
) -> list[dict[str, Any]]:
    """The `all` row and one row per group of `group_by`: `groups` maps a group to its
    (served, matched, comparison); the `all` row holds their sums."""
    served, matched, comparison = (sum(v[i] for v in groups.values()) for i in range(3))
    rows = [
        estimate(
            served=served,
            matched=matched,
            comparison=comparison,
            excluded=served - matched,
            **program,
        )
    ]
    for value, (s, m, c) in groups.items():
        rows.append(
            estimate(
                group_by=group_by, group_value=value, served=s, matched=m, comparison=c,
                excluded=s - m, **program,
            )
        )  # fmt: skip
    return rows


def balance(
    org: str = "ORG1", service_type: str = "attendance", measure: str = "absence_rate", *,
    year: int = YEAR,
) -> pl.DataFrame:  # fmt: skip
    rows = [
        {
            "school_year": year, "org_id": org, "service_type": service_type, "measure": measure,
            "covariate": covariate, "served_mean": served, "pool_mean": pool,
            "comparison_mean": comparison, "smd_before": before, "smd_after": after,
        }
        for covariate, served, pool, comparison, before, after in (
            ("baseline_absence_rate", 14.0, 8.0, 13.8, 0.62, 0.02),
            ("baseline_core_fails", 1.2, 0.5, 1.1, 0.48, 0.04),
        )
    ]  # fmt: skip
    return pl.DataFrame(rows, schema=BALANCE_SCHEMA)


def trajectory(
    org: str = "ORG1", service_type: str = "attendance", *, year: int = YEAR,
    students: dict[int, int] | None = None,
) -> pl.DataFrame:  # fmt: skip
    """Both groups' points at `students` (month offset -> students; default -2..2, 40)."""
    points = students or dict.fromkeys(range(-2, 3), 40)
    rows = [
        {
            "school_year": year, "org_id": org, "service_type": service_type, "group": group,
            "month_offset": offset, "absence_rate": 12.0 - (offset if group == "served" else 0),
            "students": count,
        }
        for group in ("served", "comparison")
        for offset, count in sorted(points.items())
    ]  # fmt: skip
    return pl.DataFrame(rows, schema=TRAJECTORY_SCHEMA)


def served_students(
    student_ids: list[str], org: str = "ORG1", service_type: str = "attendance", *,
    year: int = YEAR, start: date = date(2025, 10, 1),
) -> pl.DataFrame:  # fmt: skip
    rows = [
        {
            "school_year": year, "org_id": org, "service_type": service_type, "student_id": sid,
            "start_date": start, "matched": i % 2 == 0, "sessions": 10 + i, "hours": 15.0 + i,
        }
        for i, sid in enumerate(student_ids)
    ]  # fmt: skip
    return pl.DataFrame(rows, schema=SERVED_STUDENTS_SCHEMA)


@dataclass(frozen=True)
class Outcomes:
    """The four frames of `ProgramOutcomes`, built by hand."""

    estimates: pl.DataFrame
    balance: pl.DataFrame
    trajectory: pl.DataFrame
    served_students: pl.DataFrame


def small_world_outcomes(year: int) -> Outcomes:
    """Outcome figures for tests/worlds.py's small world (its students S1-S4 served by
    ORGA's mentoring): ORGA mentoring (40 served: HS1 32, HS2 8; absence_rate and
    core_fails) and ORGC college_access (25 served, fafsa_completed)."""
    orga: dict[str, Any] = {"org": "ORGA", "service_type": "mentoring", "year": year}
    orgc: dict[str, Any] = {"org": "ORGC", "service_type": "college_access", "year": year}
    rows = [
        *grouped({"HS1": (32, 30, 61), "HS2": (8, 8, 14)}, **orga),
        *grouped({"HS1": (32, 30, 61), "HS2": (8, 8, 14)}, measure="core_fails", effect=-0.42, **orga),
        estimate(measure="fafsa_completed", served=25, matched=22, comparison=50, effect=11.5, **orgc),
    ]  # fmt: skip
    return Outcomes(
        estimates=estimates(rows),
        balance=pl.concat(
            [
                balance("ORGA", "mentoring", year=year),
                balance("ORGC", "college_access", "fafsa_completed", year=year),
            ]
        ),  # fmt: skip
        trajectory=pl.concat(
            [trajectory("ORGA", "mentoring", year=year, students={-1: 9, 0: 40, 1: 38})]
        ),  # fmt: skip
        served_students=pl.concat(
            [
                served_students(["S1", "S2", "S3", "S4"], "ORGA", "mentoring", year=year),
                served_students(["S5"], "ORGC", "college_access", year=year),
            ]
        ),  # fmt: skip
    )


def store_outcomes(engine: Any, outcomes: Outcomes, min_cell: int = 10) -> None:
    """Write `outcomes` (and their protected versions) as the refresh does."""
    from data_access.derived import outcomes_to_store, write_outcomes

    stored = outcomes_to_store(
        outcomes.estimates,
        outcomes.balance,
        outcomes.trajectory,
        outcomes.served_students,
        min_cell,
    )
    with engine.begin() as connection:
        write_outcomes(connection, stored)
