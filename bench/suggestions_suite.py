"""Suite `suggestions`: suggested partners for a 300-student list, and the referral loop
(issue 14, part 3).

For each size the demo district is built into a fresh SQLite file and into a throwaway
PostgreSQL cluster. To the demo's own capacity is added, for the current school year, the
way a steward would file it, every partner at every school for each of its service
types, plus an any-school row of its first type (`tests/capacity_rows.py`). Each figure is
the median of `runs` (at least 15) calls, measured server-side in this process:
- `data_access.suggestions.suggested_partners` for the 300 first students of a
  counselor's at-risk list, including the audit write in the same transaction;
- `data_access.referral_loop.referral_loop` for that counselor (every organisation's
  referrals, protected) and for the staff of the partner with the most referrals (its
  own, of the students it may see, audited).

Targets (issue 14): suggestions under 50 ms at 100,000 students; the loop (not in the
issue's targets) under 200 ms.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from sqlalchemy import Engine, create_engine, func, select, text

from bench.queries_suite import COUNSELOR, TODAY, _median_ms
from bench.report import machine
from data_access import roster
from data_access.demo_build import build_demo
from data_access.engine import make_engine
from data_access.identity import sign_in
from data_access.models import Referral, User, table_of
from data_access.referral_loop import referral_loop
from data_access.roster import ListFilters
from data_access.suggestions import suggested_partners
from demo_district.generate import DemoSpec
from tests.capacity_rows import add_capacity
from tests.postgres_cluster import running_cluster

LIST_SIZE = 300


def _busiest_partner(engine: Engine) -> str:
    """The email of a staff member of the organisation with the most referrals."""
    referral, user = table_of(Referral), table_of(User)
    with engine.connect() as connection:
        org = connection.execute(
            select(referral.c.org_id)
            .group_by(referral.c.org_id)
            .order_by(func.count().desc(), referral.c.org_id)
            .limit(1)
        ).scalar_one()
        return str(
            connection.execute(
                select(user.c.email)
                .where(user.c.org_id == org, user.c.role == "org_staff")
                .order_by(user.c.email)
                .limit(1)
            ).scalar_one()
        )


def measure(engine: Engine, runs: int) -> dict[str, float]:
    counselor = sign_in(engine, COUNSELOR, TODAY)
    partner = sign_in(engine, _busiest_partner(engine), TODAY)
    listed = roster.at_risk_list(engine, counselor, ListFilters(tiers=(1, 2, 3)))
    ids = listed.rows["student_id"].head(LIST_SIZE).to_list()
    result = suggested_partners(engine, principal=counselor, student_ids=ids)
    return {
        "students": float(len(ids)),
        "rows": float(result.partners.height),
        "ms": _median_ms(
            runs, lambda: suggested_partners(engine, principal=counselor, student_ids=ids)
        ),
        "loop_ms": _median_ms(runs, lambda: referral_loop(engine, principal=counselor)),
        "partner_loop_ms": _median_ms(runs, lambda: referral_loop(engine, principal=partner)),
    }


def run(sizes: list[int], runs: int) -> str:
    results: list[tuple[int, str, dict[str, float], int]] = []
    with (
        tempfile.TemporaryDirectory(prefix="pathwise-bench-") as folder,
        running_cluster() as cluster,
    ):
        for students in sizes:
            spec = DemoSpec(students=students, seed=2026, today=TODAY)
            sqlite = make_engine(f"sqlite:///{Path(folder) / f'demo{students}.db'}")
            admin = create_engine(cluster.url(), isolation_level="AUTOCOMMIT")
            with admin.connect() as connection:
                connection.execute(text(f"CREATE DATABASE suggest{students}"))
            admin.dispose()
            postgres = make_engine(cluster.url(f"suggest{students}"))
            for name, engine in (("SQLite", sqlite), ("PostgreSQL", postgres)):
                print(f"  suggestions: building {students:,} students on {name} ...", flush=True)
                build_demo(engine, spec)
                capacity_rows = add_capacity(engine, TODAY)
                print(f"  suggestions: measuring on {name} ...", flush=True)
                results.append((students, name, measure(engine, runs), capacity_rows))
                engine.dispose()
    lines = [
        "## Suite `suggestions`",
        "",
        "Server-side time of `suggested_partners` for the first 300 students of a counselor's "
        "list (flags masked by category, visible services, open slots of the current school "
        "year, the audit record), median of the runs, in one process on this machine: "
        f"{machine()}. Demo district `DemoSpec(students=N, seed=2026, today={TODAY})` with "
        "capacity for every partner at every school.",
        "",
        "| students (N) | database | capacity rows | students asked | suggestion rows "
        "| suggestions (ms) | referral loop, counselor (ms) | referral loop, partner (ms) |",
        "|---:|---|---:|---:|---:|---:|---:|---:|",
    ]
    for students, name, r, capacity_rows in results:
        lines.append(
            f"| {students:,} | {name} | {capacity_rows} | {int(r['students'])} | {int(r['rows'])} "
            f"| {r['ms']:.1f} | {r['loop_ms']:.1f} | {r['partner_loop_ms']:.1f} |"
        )
    lines += [
        "",
        "Targets (issue 14): suggestions under 50 ms median at 100,000 students; the "
        "referral loop under 200 ms.",
    ]
    return "\n".join(lines)
