"""Figures about groups: the cohort pipeline and consent coverage.

Aggregates always cover the whole district (docs/access-rules.md). `admin` and `district_leader`
read the exact cube; every other role with aggregate rights, and everyone in meeting
mode, reads only the privacy-protected cube (`pipeline_cell_public`), which does not hold
a hidden value at all. Teachers, parents and students have no aggregate rights.
Aggregates are not student-level data, so viewing them is not audited; exporting them is.

Stages not observed yet (indicators.observable): a pipeline read shows a stage only when
it is observable both as of the reader's "today" and as of the last refresh (whose
protected cube stores later stages as `not_yet`), the earlier of the two dates
(`observed_as_of`); exact and protected views mark the same stages `not_yet`, so they
agree. A stage whose date passes between two refreshes says "not yet" until the next one.
The college stages of the classes the last refresh found without college data
(`NOT_OBSERVED_KEY`, indicators.observable.college_not_observed) are `not_observed` in
both views alike: stored so in the protected cube, marked at the read for the exact one.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date

import polars as pl
from sqlalchemy import Connection, Engine, and_, func, select

from data_access.audit import recording_refusals
from data_access.meta import NOT_OBSERVED_KEY
from data_access.models import (
    Consent,
    Meta,
    PipelineCell,
    PipelineCellPublic,
    School,
    Service,
    StudentIndicator,
    table_of,
)
from data_access.policy import (
    Action,
    Principal,
    consent_active,
    current_school_year,
    require,
    service_active,
)
from data_access.reading import frame
from domain.vocabulary import GROUP_FIELDS, UNKNOWN_GROUP
from indicators.diagnostics import COLLEGE_TIMING_GROUPING
from indicators.observable import mark_not_yet
from indicators.on_track import ON_TRACK_GROUPING, ON_TRACK_GROUPS
from indicators.pipeline import EXTRA_GROUPINGS, GROUP_VALUE_ORDER
from indicators.settings import load_settings
from indicators.suppression import ShareOf, show_exact, suppress_groups

CELLS = table_of(PipelineCell)
PUBLIC = table_of(PipelineCellPublic)
SI = table_of(StudentIndicator)
SERVICE = table_of(Service)
CONSENT = table_of(Consent)
SCHOOL = table_of(School)
META = table_of(Meta)
ALL = "all"
#: Groupings of the stored cube: the `--by` fields plus grade-9 on-track status and the
#: college-going diagnostic's (indicators.diagnostics; the timing split counts graduates).
PIPELINE_GROUPINGS = (*GROUP_FIELDS, *EXTRA_GROUPINGS, COLLEGE_TIMING_GROUPING)
_SCHEMA = {
    "cohort": pl.Int64,
    "stage_order": pl.Int64,
    "shown": pl.Int64,
    "share": pl.Float64,
    "count": pl.Int64,
}


@dataclass(frozen=True)
class PipelineView:
    """One cohort's funnel for one grouping: `cohort, group_by, group, stage, display,
    shown, share` in stage order (groups in the cube's order)."""

    rows: pl.DataFrame
    exact: bool
    #: The date the stages were judged observable on (`observed_as_of`); later stages
    #: are `not_yet`.
    observed_as_of: date | None = None
    #: Whether the cohort's college stages are `not_observed` (no college data loaded).
    college_not_observed: bool = False


def observed_as_of(connection: Connection, principal: Principal) -> date:
    """The date pipeline stages are judged observable on: the reader's today, or the last
    refresh's as-of date when that is earlier (the stored figures go no further)."""
    refreshed = connection.execute(
        select(META.c.value).where(META.c.key == "indicators_as_of")
    ).scalar()
    if not refreshed:
        return principal.today
    return min(principal.today, date.fromisoformat(refreshed))


def not_observed_cohorts(connection: Connection) -> frozenset[int]:
    """The cohorts whose college stages the last refresh found without college data (none
    before the first refresh that recorded them)."""
    stored = connection.execute(select(META.c.value).where(META.c.key == NOT_OBSERVED_KEY)).scalar()
    return frozenset(int(c) for c in json.loads(stored)) if stored else frozenset()


def require_aggregates(engine: Engine, principal: Principal, action: str) -> None:
    """District figures only for the roles that see them; a refusal is recorded."""
    with recording_refusals(engine, principal, action):
        require(principal, Action.SEE_AGGREGATES)


def pipeline_cohorts(engine: Engine, principal: Principal) -> list[int]:
    """Cohorts with a pipeline, newest first."""
    require_aggregates(engine, principal, "pipeline.read")
    table = CELLS if principal.exact_aggregates else PUBLIC
    with engine.connect() as connection:
        return list(
            connection.execute(
                select(table.c.cohort).distinct().order_by(table.c.cohort.desc())
            ).scalars()
        )


def pipeline(
    engine: Engine, principal: Principal, cohort: int, by: str | None = None
) -> PipelineView:
    """The cohort funnel (`by`: None for all students, or a field of docs/command-line.md)."""
    require_aggregates(engine, principal, "pipeline.read")
    with engine.connect() as connection:
        return pipeline_in(connection, principal, cohort, by)


def pipeline_in(
    connection: Connection, principal: Principal, cohort: int, by: str | None = None
) -> PipelineView:
    """`pipeline`, read on the caller's connection (the export audits in its transaction);
    the caller has checked `require_aggregates`."""
    if by is not None and by not in PIPELINE_GROUPINGS:
        raise ValueError(f"--by is one of {', '.join(GROUP_FIELDS)} (not {by!r})")
    group_by = by or ALL
    as_of = observed_as_of(connection, principal)
    unobserved = not_observed_cohorts(connection)
    flag = cohort in unobserved
    if principal.exact_aggregates:
        cells = frame(
            connection,
            select(
                CELLS.c.cohort,
                CELLS.c.group_by,
                CELLS.c.group_value.label("group"),
                CELLS.c.stage,
                CELLS.c.stage_order,
                CELLS.c["count"],
            ).where(CELLS.c.cohort == cohort, CELLS.c.group_by == group_by),
            schema=_SCHEMA,
        )
        rows = _ordered(cells)
        share_of: ShareOf = "total" if group_by == COLLEGE_TIMING_GROUPING else "first_stage"
        rows = show_exact(rows.drop("stage_order"), share_of) if rows.height else _empty()
        return PipelineView(
            mark_not_yet(rows.select(*_COLUMNS), as_of, unobserved),
            exact=True,
            observed_as_of=as_of,
            college_not_observed=flag,
        )
    cells = frame(
        connection,
        select(PUBLIC.c.cohort, PUBLIC.c.group_by, PUBLIC.c.group_value.label("group"), PUBLIC.c.stage,
               PUBLIC.c.stage_order, PUBLIC.c.display, PUBLIC.c.shown, PUBLIC.c.share)
        .where(PUBLIC.c.cohort == cohort, PUBLIC.c.group_by == group_by),
        schema=_SCHEMA,
    )  # fmt: skip
    rows = _ordered(cells)
    rows = rows.select(*_COLUMNS) if rows.height else _empty()
    return PipelineView(
        mark_not_yet(rows, as_of, unobserved),
        exact=False,
        observed_as_of=as_of,
        college_not_observed=flag,
    )


def pipeline_trend(engine: Engine, principal: Principal) -> pl.DataFrame:
    """The all-students funnel of every cohort (for cohort-over-cohort trends), one query;
    stages not observable (`observed_as_of`) are `not_yet`, so each line stops at the last
    cohort that has its stage."""
    require_aggregates(engine, principal, "pipeline.read")
    with engine.connect() as connection:
        as_of = observed_as_of(connection, principal)
        unobserved = not_observed_cohorts(connection)
        if principal.exact_aggregates:
            cells = frame(
                connection,
                select(CELLS.c.cohort, CELLS.c.group_by, CELLS.c.group_value.label("group"), CELLS.c.stage,
                       CELLS.c.stage_order, CELLS.c["count"])
                .where(CELLS.c.group_by == ALL)
                .order_by(CELLS.c.cohort.desc(), CELLS.c.stage_order),
                schema=_SCHEMA,
            )  # fmt: skip
            if cells.height == 0:
                return _empty()
            parts = [
                show_exact(part.drop("stage_order"))
                for _, part in cells.group_by("cohort", maintain_order=True)
            ]
            return mark_not_yet(pl.concat(parts).select(*_COLUMNS), as_of, unobserved)
        cells = frame(
            connection,
            select(PUBLIC.c.cohort, PUBLIC.c.group_by, PUBLIC.c.group_value.label("group"), PUBLIC.c.stage,
                   PUBLIC.c.display, PUBLIC.c.shown, PUBLIC.c.share)
            .where(PUBLIC.c.group_by == ALL)
            .order_by(PUBLIC.c.cohort.desc(), PUBLIC.c.stage_order),
            schema=_SCHEMA,
        )  # fmt: skip
        if cells.height == 0:
            return _empty()
        return mark_not_yet(cells.select(*_COLUMNS), as_of, unobserved)


_COLUMNS = ("cohort", "group_by", "group", "stage", "display", "shown", "share")


def _ordered(cells: pl.DataFrame) -> pl.DataFrame:
    """Groups in their vocabulary order (unknown last), stages in funnel order."""
    if cells.height == 0:
        return cells
    group_by = cells["group_by"][0]
    known = (
        ON_TRACK_GROUPS if group_by == ON_TRACK_GROUPING else GROUP_VALUE_ORDER.get(group_by, ())
    )
    rank = {value: i for i, value in enumerate(known)}
    ranked = cells.with_columns(
        _rank=pl.col("group").replace_strict(rank, default=len(rank), return_dtype=pl.Int64),
        _unknown=pl.col("group") == UNKNOWN_GROUP,
    )
    return ranked.sort("_unknown", "_rank", "group", "stage_order").drop("_rank", "_unknown")


def _empty() -> pl.DataFrame:
    return pl.DataFrame(
        schema={"cohort": pl.Int64, "group_by": pl.String, "group": pl.String, "stage": pl.String,
                "display": pl.String, "shown": pl.Int64, "share": pl.Float64}
    )  # fmt: skip


def consent_coverage(engine: Engine, principal: Principal) -> pl.DataFrame:
    """Flagged students (one flag or more, enrolled now) and how many of them have an
    active release with an organisation that is serving them, by school.

    Columns: group (school, or "all"), stage ("flagged" | "covered"), display, shown, share
    (share of flagged). Exact for admin and district_leader, protected for the others.
    """
    require_aggregates(engine, principal, "consent_coverage.read")
    today = principal.today
    with engine.connect() as connection:
        year = current_school_year(connection, today)
        flagged_students = and_(SI.c.school_year == year, SI.c.flag_count >= 1)
        flagged = frame(
            connection,
            select(SI.c.school_id.label("group"), func.count().label("flagged"))
            .where(flagged_students)
            .group_by(SI.c.school_id),
            schema={"flagged": pl.Int64},
        )
        # The covered students are the few thousand service rows with an active release;
        # the flagged students of the year are then probed against that set (one covering
        # index lookup each), so the planner never walks every indicator row first.
        served_with_release = (
            select(SERVICE.c.student_id)
            .select_from(
                SERVICE.join(
                    CONSENT,
                    and_(
                        CONSENT.c.student_id == SERVICE.c.student_id,
                        CONSENT.c.org_id == SERVICE.c.org_id,
                    ),
                )
            )
            .where(service_active(today), consent_active(today))
        )
        covered = frame(
            connection,
            select(SI.c.school_id.label("group"), func.count().label("covered"))
            .where(flagged_students, SI.c.student_id.in_(served_with_release))
            .group_by(SI.c.school_id),
            schema={"covered": pl.Int64},
        )
        counts = (
            flagged.join(covered, on="group", how="left")
            .with_columns(pl.col("covered").fill_null(0))
            .sort("group")
        )
    groups = counts.unpivot(
        index="group", on=["flagged", "covered"], variable_name="stage", value_name="count"
    ).with_columns(pl.col("count").fill_null(0))
    groups = groups.sort(
        pl.col("group"),
        pl.col("stage").replace_strict({"flagged": 0, "covered": 1}, return_dtype=pl.Int64),
    )
    if groups.height == 0:
        return pl.DataFrame(
            schema={
                "group": pl.String,
                "stage": pl.String,
                "display": pl.String,
                "shown": pl.Int64,
                "share": pl.Float64,
            }
        )
    if principal.exact_aggregates:
        totals = (
            groups.group_by("stage", maintain_order=True)
            .agg(pl.col("count").sum())
            .with_columns(group=pl.lit(ALL))
        )
        return pl.concat(
            [show_exact(totals.select("group", "stage", "count")), show_exact(groups)],
            how="vertical_relaxed",
        )
    protected = suppress_groups(groups, min_cell=load_settings().min_cell)
    return pl.concat(
        [protected.totals.select(protected.groups.columns), protected.groups],
        how="vertical_relaxed",
    )


def school_names(engine: Engine) -> dict[str, str]:
    with engine.connect() as connection:
        return {
            r.school_id: r.school_name
            for r in connection.execute(select(SCHOOL.c.school_id, SCHOOL.c.school_name))
        }
