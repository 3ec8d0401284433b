"""Suite `queries`: the scoped, audited reads a page view makes, on SQLite and PostgreSQL.

For each size the demo district is built into a fresh SQLite file and into a throwaway
PostgreSQL cluster (started from the installed server binaries, as the tests do). Each
figure is the median of `runs` (at least 15) calls, measured server-side in this process
and including the audit write in the same transaction:

- a counselor's at-risk list of their ~300-student caseload (`roster.at_risk_list`);
- one student profile (`records.student_record`: every category, trends, services,
  consents, indicators);
- a cohort funnel by race/ethnicity for a counselor (privacy-protected figures).

Baseline, the way a developer would otherwise write the list: for the same caseload,
`pandas.read_sql` of the raw attendance, marks, tests and FAFSA rows and the absence rate
and core fails computed per request with pandas (no derived tables, and not even the
whole rule set), to show what precomputing buys.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pandas as pd
from sqlalchemy import Engine, create_engine, text

from bench.report import machine
from data_access import aggregates, records, roster
from data_access.demo_build import build_demo
from data_access.engine import make_engine
from data_access.identity import sign_in
from data_access.roster import ListFilters
from demo_district.generate import DemoSpec
from tests.postgres_cluster import running_cluster

TODAY = date(2026, 11, 22)
COUNSELOR = "counselor.hs01@demo.pathwise.example"


def _median_ms(runs: int, work: Callable[[], object]) -> float:
    work()  # warm the connection pool and the page cache
    times = []
    for _ in range(max(15, runs)):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def _naive_list(engine: Engine, ids: list[str]) -> pd.DataFrame:
    """Per request, from raw rows: latest snapshot per school summed, absence rate, core fails."""
    placeholders = ", ".join(f"'{i}'" for i in ids)
    with engine.connect() as connection:
        attendance = pd.read_sql(
            text(
                f"SELECT * FROM attendance WHERE school_year = 2027 AND student_id IN ({placeholders})"
            ),
            connection,
        )
        marks = pd.read_sql(
            text(
                f"SELECT * FROM course_mark WHERE school_year = 2027 AND student_id IN ({placeholders})"
            ),
            connection,
        )
        pd.read_sql(
            text(f"SELECT * FROM test_score WHERE student_id IN ({placeholders})"), connection
        )
        pd.read_sql(text(f"SELECT * FROM fafsa WHERE student_id IN ({placeholders})"), connection)
    latest = attendance.sort_values("as_of_date").groupby(["student_id", "school_id"]).tail(1)
    totals = latest.groupby("student_id")[["days_enrolled", "days_absent"]].sum()
    totals["absence_rate"] = totals["days_absent"] / totals["days_enrolled"]
    core = marks[marks["subject"].isin(["ela", "math", "science", "social_studies"])]
    fails = core[core["mark"].isin(["F", "NP"])].groupby("student_id").size().rename("core_fails")
    return totals.join(fails, how="left")


def measure(engine: Engine, runs: int) -> dict[str, float]:
    counselor = sign_in(engine, COUNSELOR, TODAY)
    caseload = roster.at_risk_list(engine, counselor, ListFilters(caseload_only=True))
    ids = caseload.rows["student_id"].to_list()
    student_id = ids[0]
    cohort = max(aggregates.pipeline_cohorts(engine, counselor))
    return {
        "caseload": float(len(ids)),
        "list_ms": _median_ms(
            runs, lambda: roster.at_risk_list(engine, counselor, ListFilters(caseload_only=True))
        ),
        "profile_ms": _median_ms(
            runs, lambda: records.student_record(engine, counselor, student_id)
        ),
        "funnel_ms": _median_ms(
            runs, lambda: aggregates.pipeline(engine, counselor, cohort - 4, "race_ethnicity")
        ),
        "naive_ms": _median_ms(runs, lambda: _naive_list(engine, ids)),
    }


def run(sizes: list[int], runs: int) -> str:
    results: list[tuple[int, str, dict[str, float], float]] = []
    with (
        tempfile.TemporaryDirectory(prefix="pathwise-bench-") as folder,
        running_cluster() as cluster,
    ):
        for students in sizes:
            spec = DemoSpec(students=students, seed=2026, today=TODAY)
            sqlite = make_engine(f"sqlite:///{Path(folder) / f'demo{students}.db'}")
            admin = create_engine(cluster.url(), isolation_level="AUTOCOMMIT")
            with admin.connect() as connection:
                connection.execute(text(f"CREATE DATABASE demo{students}"))
            admin.dispose()
            postgres = make_engine(cluster.url(f"demo{students}"))
            for name, engine in (("SQLite", sqlite), ("PostgreSQL", postgres)):
                print(f"  queries: building {students:,} students on {name} ...", flush=True)
                built = build_demo(engine, spec)
                print(f"  queries: measuring on {name} ...", flush=True)
                results.append((students, name, measure(engine, runs), built.seconds))
                engine.dispose()
    lines = [
        "## Suite `queries`",
        "",
        "Server-side time of the reads behind a page view, each in one transaction with its "
        "audit record, median of the runs (`time.perf_counter`), in one process on this "
        f"machine: {machine()}. Demo district `DemoSpec(students=N, seed=2026, today={TODAY})`.",
        "",
        "| students (N) | database | demo build (s) | caseload | at-risk list (ms) | student profile (ms) "
        "| funnel by race, protected (ms) | naive list from raw rows, pandas (ms) | naive / list |",
        "|---:|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for students, name, r, build in results:
        lines.append(
            f"| {students:,} | {name} | {build:.1f} | {int(r['caseload'])} | {r['list_ms']:.1f} | {r['profile_ms']:.1f} "
            f"| {r['funnel_ms']:.1f} | {r['naive_ms']:.1f} | {r['naive_ms'] / r['list_ms']:.1f}x |"
        )
    lines += [
        "",
        "Target (issue 4): each under 50 ms median at 100,000 students. The naive baseline "
        "computes only the absence rate and core fails, so it understates what a full "
        "per-request recomputation costs.",
    ]
    return "\n".join(lines)
