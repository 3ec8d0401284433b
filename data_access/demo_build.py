"""Build the demo district into the database (`pathwise demo`).

The frames come from `demo_district.generate`; this module only writes them. A demo
database is marked in `pathwise_meta` so that the app can say DEMO DATA on every page and
so that demo sign-in can never be switched on against real data. `--replace` only ever
replaces a demo database: real data is never dropped by this command.

Given `compose` (ui.release_text.compose_email, which this layer may not import: the
command line passes it), the finished district also gets its release requests in every
state, made through the real API (data_access.demo_releases).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime

import polars as pl
from sqlalchemy import Engine, Table

from data_access import schema
from data_access.bulk import insert_frame
from data_access.demo_releases import DemoReleases, build_demo_releases
from data_access.derived import RAW_FILES, raw_columns, refresh_derived
from data_access.meta import DEMO_KEY, is_demo, loaded_counts, set_meta
from data_access.models import IMPORT_TABLES, Note, Referral, table_of
from data_access.releases import Compose
from demo_district.generate import DemoPart, DemoSpec, district, entrants_per_cohort
from domain.progress import Progress, no_progress

KEEP_IN_MEMORY_UP_TO = 200_000


class DemoRefused(Exception):
    """The database holds data this command must not touch; the message says why."""


@dataclass(frozen=True)
class DemoSummary:
    students: int
    rows: dict[str, int]
    users: pl.DataFrame
    seconds: float
    #: The release requests made (only when `build_demo` was given `compose`).
    releases: DemoReleases | None = None


def _table(name: str) -> Table:
    if name == "_notes":
        return table_of(Note)
    if name == "_referrals":
        return table_of(Referral)
    return table_of(IMPORT_TABLES[name])


def _reset(engine: Engine) -> None:
    """Drop and recreate the schema (the audit log's triggers forbid deleting its rows)."""
    schema.downgrade(engine, "base")
    schema.upgrade(engine)


def build_demo(
    engine: Engine,
    spec: DemoSpec,
    *,
    replace: bool = False,
    progress: Progress = no_progress,
    compose: Compose | None = None,
) -> DemoSummary:
    """Write the demo district described by `spec`; refuse to overwrite anything real.
    With `compose`, add the release requests of data_access.demo_releases."""
    started = time.perf_counter()
    schema.upgrade(engine)
    counts = loaded_counts(engine)
    if not counts.empty:
        if not is_demo(engine):
            raise DemoRefused(
                "this database holds real (non-demo) data; pathwise demo never replaces it. "
                "Point PATHWISE_DATABASE_URL at an empty database to build the demo."
            )
        if not replace:
            raise DemoRefused(
                f"the demo district is already loaded ({counts.students:,} students); "
                "use --replace to build it again"
            )
        _reset(engine)

    expected = entrants_per_cohort(spec.students) * len(spec.cohorts)
    rows: dict[str, int] = {}
    done = 0
    users = pl.DataFrame()
    progress(0, expected, "starting")
    with engine.begin() as connection:
        set_meta(connection, {DEMO_KEY: "building"})
    part: DemoPart
    # Up to a few hundred thousand students the indicators are computed from the frames
    # already in memory; beyond, memory would grow with the district, so the derived
    # tables are computed from the database instead (slower, but flat in memory).
    keep = spec.students <= KEEP_IN_MEMORY_UP_TO
    raw: dict[str, list[pl.DataFrame]] = {name: [] for name in RAW_FILES}
    for part in district(spec):
        for name in RAW_FILES:
            if keep and name in part.tables:
                raw[name].append(raw_columns(name, part.tables[name]))
        with engine.begin() as connection:
            for name in _write_order(part):
                frame = part.tables[name]
                rows[name.lstrip("_")] = rows.get(name.lstrip("_"), 0) + insert_frame(
                    connection, _table(name), frame
                )
        if "users" in part.tables:
            users = part.tables["users"]
        done += part.students
        progress(min(done, expected), expected, part.label)
    refresh_derived(
        engine,
        as_of=spec.today,
        progress=lambda _d, _t, message: progress(expected, expected, message),
    )
    releases = None
    if compose is not None:
        progress(expected, expected, "release requests")
        releases = build_demo_releases(engine, spec.today, spec.seed, compose=compose)
    with engine.begin() as connection:
        set_meta(
            connection,
            {
                DEMO_KEY: "true",
                "demo_seed": str(spec.seed),
                "demo_students": str(spec.students),
                "demo_today": spec.today.isoformat(),
                "built_at": datetime.now(UTC).isoformat(timespec="seconds"),
            },
        )
    progress(expected, expected, "done")
    return DemoSummary(
        students=rows.get("students", 0),
        rows=rows,
        users=users,
        seconds=time.perf_counter() - started,
        releases=releases,
    )


def _write_order(part: DemoPart) -> list[str]:
    order = [*IMPORT_TABLES, "_notes", "_referrals"]
    return [name for name in order if name in part.tables]
