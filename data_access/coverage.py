"""Need and coverage by school (issue 14 part 1): "Where is help missing, and where is it
doubled?", read from the tables the refresh stores (`data_access.derived`).

Who sees what (docs/access-rules.md, "Need and coverage"; `data_access.policy`):
- `SEE_COVERAGE` / `EXPORT_COVERAGE`: admin and district_leader see exact counts;
  viewer, counselor and org_staff see them protected (indicators/coverage_protection.py:
  docs/access-rules.md rules 1-5), and so does every role in meeting mode; teacher, parent and
  student are refused (the refusal audited).
- Duplication pairs: partner staff see only the pairs that name their own organisation.
- Figures are whole-district aggregates: viewing them is not a student-level read (not
  audited, as the pipeline's figures are not); exporting them is (`coverage.export`).

The protected frames are the same for every protected viewer (they depend only on the
stored counts and min_cell), so they are worked out once for the same stored counts and
kept in memory (`_protected`, keyed by the counts' content and min_cell); a partner's
filter is applied after, per request.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import date

import polars as pl
from sqlalchemy import Connection, Engine, select

from data_access.audit import record_event, recording_refusals
from data_access.models import (
    Capacity,
    CoverageDuplication,
    CoverageNeed,
    CoverageServedNow,
    CoverageTierSupport,
    Meta,
    Organization,
    School,
    table_of,
)
from data_access.policy import Action, Principal, current_school_year, require
from data_access.reading import frame
from indicators.capacity import open_slots
from indicators.coverage import COVERAGE_COLUMNS, SERVED_NOW_COLUMNS, need_coverage, served_now
from indicators.coverage_protection import (
    COVERAGE_COUNTS,
    TIER_COUNTS,
    ProtectedCoverage,
    exact_coverage,
    exact_duplication,
    exact_tier_support,
    protect_coverage,
    protect_duplication,
    protect_tier_support,
)
from indicators.settings import Settings, load_settings

NEED = table_of(CoverageNeed)
DUPLICATION = table_of(CoverageDuplication)
TIERS = table_of(CoverageTierSupport)
SERVED_NOW = table_of(CoverageServedNow)
CAPACITY = table_of(Capacity)
META = table_of(Meta)
SCHOOL = table_of(School)
ORGANIZATION = table_of(Organization)
#: The header of `pathwise export coverage` (issue 14, "Command line (exact contract)").
EXPORT_COLUMNS = (*COVERAGE_COLUMNS, "open_slots")
_NEED_SCHEMA: dict[str, pl.DataType] = {
    "school_id": pl.String(),
    "need": pl.String(),
    **{c: pl.Int64() for c in COVERAGE_COUNTS},
}
_DUPLICATION_SCHEMA: dict[str, pl.DataType] = {
    "school_id": pl.String(),
    "service_type": pl.String(),
    "org_a": pl.String(),
    "org_b": pl.String(),
    "students": pl.Int64(),
}
_TIER_SCHEMA: dict[str, pl.DataType] = {
    "school_id": pl.String(),
    "tier": pl.Int64(),
    **{c: pl.Int64() for c in TIER_COUNTS},
}
_SERVED_SCHEMA: dict[str, pl.DataType] = {
    "org_id": pl.String(),
    "school_id": pl.String(),
    "service_type": pl.String(),
    "students": pl.Int64(),
    "students_with_release": pl.Int64(),
}
_CAPACITY_SCHEMA: dict[str, pl.DataType] = {
    "org_id": pl.String(),
    "school_id": pl.String(),
    "service_type": pl.String(),
    "slots": pl.Int64(),
    "accepting_referrals": pl.Boolean(),
}


@dataclass(frozen=True)
class CoverageView:
    """What a principal may see of need and coverage on the last refresh."""

    #: By school x need, and the district per need (coverage_protection's shape).
    coverage: ProtectedCoverage
    #: school_id, service_type, org_a, org_b, students (null when hidden), students_display.
    duplication: pl.DataFrame
    #: By school x tier, and the district per tier.
    tiers: ProtectedCoverage
    exact: bool
    min_cell: int
    #: The refresh's date (None: never refreshed) and school year.
    as_of: date | None
    school_year: int | None
    school_names: dict[str, str]
    org_names: dict[str, str]


@dataclass(frozen=True)
class _Public:
    coverage: ProtectedCoverage
    duplication: pl.DataFrame
    tiers: ProtectedCoverage


_memo: dict[tuple[int, ...], _Public] = {}
_memo_lock = threading.Lock()


def _meta(connection: Connection) -> dict[str, str]:
    return {r.key: r.value for r in connection.execute(select(META.c.key, META.c.value))}


def _stored(connection: Connection) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    need = frame(connection, select(NEED), schema=_NEED_SCHEMA).select(list(_NEED_SCHEMA))
    pairs = frame(connection, select(DUPLICATION), schema=_DUPLICATION_SCHEMA).select(
        list(_DUPLICATION_SCHEMA)
    )
    tiers = frame(connection, select(TIERS), schema=_TIER_SCHEMA).select(list(_TIER_SCHEMA))
    return need, pairs, tiers


def _fingerprint(*frames: pl.DataFrame) -> tuple[int, ...]:
    """A key for the content of `frames` (row hashes summed, and the heights)."""
    return tuple(x for f in frames for x in (f.height, int(f.hash_rows().sum()) if f.height else 0))


def _protected(connection: Connection, min_cell: int) -> _Public:
    """The protected frames of the stored counts, worked out once for the same counts
    (they are the same for every protected viewer; the key is the counts themselves, so
    a refresh is never served stale figures)."""
    need, pairs, tiers = _stored(connection)
    key = (*_fingerprint(need, pairs, tiers), min_cell)
    with _memo_lock:
        found = _memo.get(key)
    if found is not None:
        return found
    public = _Public(
        coverage=protect_coverage(need, min_cell),
        duplication=protect_duplication(pairs, min_cell),
        tiers=protect_tier_support(tiers, min_cell),
    )
    with _memo_lock:
        _memo.clear()
        _memo[key] = public
    return public


def shown_coverage(connection: Connection, *, exact: bool, min_cell: int) -> ProtectedCoverage:
    """Need and coverage of the last refresh exactly as the coverage page shows it to a
    viewer with (`exact`) or without exact rights: the protected frames are the cached
    `_protected` ones. Other views that show a figure derived from coverage (the
    realignment's unmet need) read it here, so they can reveal nothing the page does not
    (docs/access-rules.md, "Need and coverage")."""
    if exact:
        need, _pairs, _tiers = _stored(connection)
        return exact_coverage(need)
    return _protected(connection, min_cell).coverage


def _names(connection: Connection) -> tuple[dict[str, str], dict[str, str]]:
    schools = {
        r.school_id: r.school_name
        for r in connection.execute(select(SCHOOL.c.school_id, SCHOOL.c.school_name))
    }
    orgs = {
        r.org_id: r.org_name
        for r in connection.execute(select(ORGANIZATION.c.org_id, ORGANIZATION.c.org_name))
    }
    return schools, orgs


def _own_pairs(pairs: pl.DataFrame, principal: Principal) -> pl.DataFrame:
    """A partner's staff see only the duplication pairs naming their organisation."""
    if not principal.partner:
        return pairs
    own = principal.org_id or ""
    return pairs.filter((pl.col("org_a") == own) | (pl.col("org_b") == own))


def coverage_view(
    engine: Engine, *, principal: Principal, meeting: bool = False, settings: Settings | None = None
) -> CoverageView:
    """Need and coverage as `principal` may see it (exact for admin and leader, protected
    for the other roles with aggregate rights and for everyone in meeting mode); a role
    without it is refused (audited)."""
    if meeting and not principal.meeting_mode:
        principal = principal.in_meeting_mode()
    with recording_refusals(engine, principal, "coverage.read"):
        require(principal, Action.SEE_COVERAGE)
    min_cell = (settings or load_settings()).min_cell
    exact = principal.exact_aggregates
    with engine.connect() as connection:
        meta = _meta(connection)
        if exact:
            need, pairs, tiers = _stored(connection)
            shown = _Public(
                exact_coverage(need), exact_duplication(pairs), exact_tier_support(tiers)
            )
        else:
            shown = _protected(connection, min_cell)
        school_names, org_names = _names(connection)
    as_of = meta.get("indicators_as_of")
    year = meta.get("indicators_school_year")
    return CoverageView(
        coverage=shown.coverage,
        duplication=_own_pairs(shown.duplication, principal).sort(
            "school_id", "service_type", "org_a", "org_b"
        ),
        tiers=shown.tiers,
        exact=exact,
        min_cell=min_cell,
        as_of=date.fromisoformat(as_of) if as_of else None,
        school_year=int(year) if year else None,
        school_names=school_names,
        org_names=org_names,
    )


# ---------------------------------------------------------------------------------------
# The export (`pathwise export coverage`)
# ---------------------------------------------------------------------------------------


def _live(
    engine: Engine, school_year: int, as_of: date, settings: Settings
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Need and coverage and the students served now, computed from the raw tables for a
    date or school year other than the stored refresh's (a system read, as the refresh's;
    only its aggregate leaves this module)."""
    from data_access.derived import read_consents, read_raw_tables, read_services
    from indicators.student import compute_student_indicators

    indicators = compute_student_indicators(read_raw_tables(engine), school_year, as_of, settings)
    indicators = indicators.filter(pl.col("school_id").is_not_null())
    services, consents = read_services(engine), read_consents(engine)
    return (
        need_coverage(indicators, services, consents, as_of, settings),
        served_now(indicators, services, consents, as_of),
    )


def open_slots_by_need(
    capacity: pl.DataFrame,
    served: pl.DataFrame,
    schools: list[str],
    settings: Settings,
    *,
    principal: Principal,
) -> pl.DataFrame:
    """Per school x need, the open slots of the partners whose service types address the
    need, at that school and at any school (`indicators.capacity.open_slots`, the one
    rule for open slots): school_id, need, open_low, open_high, open_exact.

    `open_exact` says whether the sum may be written as a number: always for exact
    viewers; for a protected viewer only where every contributing row is its own
    organisation's (no capacity at all included). Another organisation's open slots
    would reveal how many students it serves, a bound on the coverage page's protected
    counts (docs/access-rules.md, "Need and coverage", rule 6). A partner's own rows
    subtract its own released students only (`students_with_release`), which it may
    count exactly outside meeting mode."""
    exact = principal.exact_aggregates
    if principal.partner and not exact:
        own = pl.col("org_id") == (principal.org_id or "")
        mine_exact = not principal.meeting_mode
        mine = open_slots(
            capacity.filter(own),
            served.filter(own).with_columns(students=pl.col("students_with_release")),
            exact=mine_exact,
            min_cell=settings.min_cell,
        ).with_columns(open_exact=pl.lit(mine_exact))
        others = open_slots(
            capacity.filter(~own), served.filter(~own), exact=False, min_cell=settings.min_cell
        ).with_columns(open_exact=pl.lit(False))
        rows = pl.concat([mine, others])
    else:
        rows = open_slots(capacity, served, exact=exact, min_cell=settings.min_cell)
        rows = rows.with_columns(open_exact=pl.lit(exact))
    addressing = pl.DataFrame(
        [
            {"need": need, "service_type": service_type}
            for need, types in settings.coverage_need_service_types
            for service_type in types
        ],
        schema={"need": pl.String, "service_type": pl.String},
    )
    grid = pl.DataFrame({"school_id": schools}, schema={"school_id": pl.String}).join(
        addressing.select("need").unique(), how="cross"
    )
    at_school = rows.filter(pl.col("school_id") != "").join(addressing, on="service_type")
    anywhere = (
        rows.filter(pl.col("school_id") == "")
        .drop("school_id")
        .join(addressing, on="service_type")
        .join(grid.select("school_id").unique(), how="cross")
    )
    sums = (
        pl.concat(
            [
                at_school.select(grid.columns + ["open_low", "open_high", "open_exact"]),
                anywhere.select(grid.columns + ["open_low", "open_high", "open_exact"]),
            ]
        )  # fmt: skip
        .group_by("school_id", "need")
        .agg(pl.col("open_low").sum(), pl.col("open_high").sum(), pl.col("open_exact").all())
    )
    return grid.join(sums, on=["school_id", "need"], how="left").with_columns(
        pl.col("open_low", "open_high").fill_null(0).cast(pl.Int64),
        pl.col("open_exact").fill_null(True),
    )


def coverage_export(
    engine: Engine,
    *,
    principal: Principal,
    school_year: int | None = None,
    as_of: date | None = None,
    settings: Settings | None = None,
) -> pl.DataFrame:
    """The rows of `pathwise export coverage` (EXPORT_COLUMNS, every value as text:
    integers, or `<10` / `*` for a protected viewer), sorted by school_id then need, read
    and audited (`coverage.export`) in one transaction. The stored refresh is read when
    `as_of` and `school_year` are its own (or not given); otherwise the figures are
    computed from the raw tables for that date and school year. A role without coverage
    rights is refused (audited)."""
    with recording_refusals(engine, principal, "coverage.export"):
        require(principal, Action.EXPORT_COVERAGE)
    settings = settings or load_settings()
    with engine.connect() as connection:
        meta = _meta(connection)
        stored_as_of = meta.get("indicators_as_of")
        stored_year = meta.get("indicators_school_year")
        day = as_of or (date.fromisoformat(stored_as_of) if stored_as_of else principal.today)
        year = school_year or (
            int(stored_year)
            if stored_year and as_of is None
            else current_school_year(connection, day)
        )
    live = not (
        stored_as_of == day.isoformat() and stored_year is not None and int(stored_year) == year
    )
    if live:
        need, served = _live(engine, year, day, settings)
    else:
        with engine.connect() as connection:
            need = frame(connection, select(NEED), schema=_NEED_SCHEMA).select(list(_NEED_SCHEMA))
            served = frame(connection, select(SERVED_NOW), schema=_SERVED_SCHEMA).select(
                list(SERVED_NOW_COLUMNS)
            )
    exact = principal.exact_aggregates
    shown = exact_coverage(need) if exact else protect_coverage(need, settings.min_cell)
    with engine.begin() as connection:
        capacity = frame(
            connection,
            select(*(CAPACITY.c[c] for c in _CAPACITY_SCHEMA)).where(
                CAPACITY.c.school_year == year
            ),
            schema=_CAPACITY_SCHEMA,
        )
        slots = open_slots_by_need(
            capacity, served, need["school_id"].unique().to_list(), settings, principal=principal
        )
        record_event(
            connection,
            principal,
            "coverage.export",
            detail={
                "school_year": year,
                "as_of": day.isoformat(),
                "exact": exact,
                "computed_live": live,
            },
        )
    open_text = (
        pl.when(pl.col("open_exact"))
        .then(pl.col("open_low").cast(pl.String))
        .otherwise(pl.lit("*"))
    )
    return (
        shown.schools.join(slots, on=["school_id", "need"], how="left")
        .with_columns(
            *(pl.col(f"{c}_display").alias(c) for c in COVERAGE_COUNTS),
            open_slots=open_text.fill_null("0"),
        )
        .select(EXPORT_COLUMNS)
    )
