"""Suggested partners for students (issue 14, part 3): a student-level read.

`suggested_partners(engine, *, principal, student_ids)` returns, for the students asked
about that the principal may see (`policy.visible_students`; the others are silently
absent, as in the list), the partners whose service types address their flags and have
open slots at their school or at any school (`indicators.suggestions`, the rule), and
whether they have no support for their flags. Every student returned is audited
(`suggestions.read`, with the legal basis and the categories disclosed), in the same
transaction as the read.

What each viewer learns:
- Flags: each student's flags masked by the categories the viewer may see of that
  student (`see_<category>` of the row scope; `domain.vocabulary.FLAG_CATEGORY`), so a
  partner's suggestions never reveal a flag in a category its release and agreement do
  not name, and a teacher's never the FAFSA flag.
- Services: only those `policy.visible_services` allows. A teacher sees none (no
  "already serving", and `no_support` is null: a teacher may not learn which
  organisations serve a student); a partner its own organisation's only (and
  `no_support` is null, as it would depend on other partners' services).
- Open slots: `indicators.capacity.open_slots` over the current school year's capacity
  and `coverage_served_now`, exact for admins and district leaders, protected for the
  others (docs/access-rules.md, rule 1); a partner's own rows count only `students_with_release`
  (a partner never learns of a student it may not see), exactly.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from typing import Any, Final

import polars as pl
from sqlalchemy import Connection, Engine, Select, String, bindparam, case, func, select
from sqlalchemy.dialects.postgresql import ARRAY

from data_access.audit import record_event, recording_refusals
from data_access.models import (
    Capacity,
    CoverageServedNow,
    Organization,
    Service,
    StudentIndicator,
    table_of,
)
from data_access.policy import (
    Action,
    Principal,
    current_school_year,
    require,
    sees_services,
    service_active,
    visible_services,
    visible_students,
)
from data_access.reading import frame, student_request
from domain.vocabulary import CATEGORIES, FLAG_CATEGORY, FLAGS
from indicators.capacity import open_slots
from indicators.settings import Settings, load_settings
from indicators.suggestions import Suggestions, suggest_partners

SI = table_of(StudentIndicator)
SERVICE = table_of(Service)
CAPACITY = table_of(Capacity)
SERVED_NOW = table_of(CoverageServedNow)
ORGANIZATION = table_of(Organization)

_SERVICE_SCHEMA: Final = {"student_id": pl.String, "org_id": pl.String, "service_type": pl.String}
ACTION: Final = "suggestions.read"


def _asked(connection: Connection, ids: Sequence[str]) -> Select[tuple[str]]:
    """The ids asked about as a one-column SELECT over ONE bound parameter (a JSON array
    read by `json_each` on SQLite, a text array `unnest`ed on PostgreSQL): the statement
    is compiled once whatever the list's length, has no limit on it, and each id drives
    an indexed lookup (student_indicator's and service's keys start with student_id)."""
    if connection.dialect.name == "postgresql":
        values = func.unnest(bindparam("asked", list(ids), type_=ARRAY(String)))
        return select(values.column_valued("student_id"))
    table = func.json_each(bindparam("asked", json.dumps(list(ids)))).table_valued("value")
    return select(table.c.value)


def _students(
    connection: Connection, principal: Principal, year: int, ids: Select[tuple[str]]
) -> pl.DataFrame:
    """student_id, school_id, the flags masked by the row's categories, legal_basis and
    the `see_` columns: only students in scope."""
    scope = visible_students(principal, year, ids).subquery("scope")
    flags = [
        case((scope.c[f"see_{FLAG_CATEGORY[f]}"], SI.c[f]), else_=None).label(f) for f in FLAGS
    ]
    statement = (
        select(
            SI.c.student_id,
            SI.c.school_id,
            *flags,
            scope.c.legal_basis,
            *(scope.c[f"see_{c}"] for c in CATEGORIES),
        )
        .join(scope, scope.c.student_id == SI.c.student_id)
        .where(SI.c.school_year == year, SI.c.student_id.in_(ids))
    )
    schema: dict[str, Any] = {
        "student_id": pl.String,
        "school_id": pl.String,
        "legal_basis": pl.String,
        **dict.fromkeys(FLAGS, pl.Boolean),
        **{f"see_{c}": pl.Boolean for c in CATEGORIES},
    }
    return frame(connection, statement, schema=schema).cast(schema)  # type: ignore[arg-type]


def _services(
    connection: Connection, principal: Principal, ids: Select[tuple[str]]
) -> pl.DataFrame:
    """The active services of these students the principal may learn about."""
    statement = select(SERVICE.c.student_id, SERVICE.c.org_id, SERVICE.c.service_type).where(
        SERVICE.c.student_id.in_(ids),
        service_active(principal.today),
        visible_services(principal),
    )
    return frame(connection, statement, schema=_SERVICE_SCHEMA)


_CAPACITY_COLUMNS: Final = ("org_id", "school_id", "service_type", "slots", "accepting_referrals")
_SERVED_COLUMNS: Final = (
    "org_id",
    "school_id",
    "service_type",
    "students",
    "students_with_release",
)

#: The open slots worked out per stored content and view: (capacity rows, served rows)
#: -> (exact, partner's org_id or None, min_cell) -> frame. The key is the content itself
#: (two small tables, read on every call), so an edit of the capacity or a refresh is never
#: served stale slots; only the Polars work is saved (as data_access/coverage.py does).
_memo: dict[int, dict[tuple[bool, str | None, int], pl.DataFrame]] = {}
_memo_lock = threading.Lock()


def _compute_open_capacity(
    capacity_rows: Sequence[Any], served_rows: Sequence[Any], view: tuple[bool, str | None, int]
) -> pl.DataFrame:
    """Open slots per capacity row for one view (the module's rule): `exact`, the partner's
    organisation (None for a district role) and `min_cell`."""
    exact, org, min_cell = view
    capacity = pl.DataFrame(
        [tuple(r) for r in capacity_rows],
        schema={
            "org_id": pl.String,
            "school_id": pl.String,
            "service_type": pl.String,
            "slots": pl.Int64,
            "accepting_referrals": pl.Boolean,
        },
        orient="row",
    )
    served = pl.DataFrame(
        [tuple(r) for r in served_rows],
        schema={
            "org_id": pl.String,
            "school_id": pl.String,
            "service_type": pl.String,
            "students": pl.Int64,
            "students_with_release": pl.Int64,
        },
        orient="row",
    )
    if org is None:
        return open_slots(capacity, served, exact=exact, min_cell=min_cell)
    own = pl.col("org_id") == org
    mine = open_slots(
        capacity.filter(own),
        served.filter(own).with_columns(students=pl.col("students_with_release")),
        exact=True,
        min_cell=min_cell,
    )
    others = open_slots(capacity.filter(~own), served.filter(~own), exact=False, min_cell=min_cell)
    return pl.concat([mine, others])


def _open_capacity(
    connection: Connection, principal: Principal, year: int, settings: Settings
) -> pl.DataFrame:
    """Open slots per capacity row as this principal may see them (the module's rule):
    the current school year's capacity and `coverage_served_now`, read on every call, the
    Polars work done once per content and view."""
    capacity_rows = [
        (*r[:4], bool(r[4]))
        for r in connection.execute(
            select(*(CAPACITY.c[c] for c in _CAPACITY_COLUMNS))
            .where(CAPACITY.c.school_year == year)
            .order_by(CAPACITY.c.org_id, CAPACITY.c.school_id, CAPACITY.c.service_type)
        )
    ]
    served_rows = [
        tuple(r)
        for r in connection.execute(
            select(*(SERVED_NOW.c[c] for c in _SERVED_COLUMNS)).order_by(
                SERVED_NOW.c.org_id, SERVED_NOW.c.school_id, SERVED_NOW.c.service_type
            )
        )
    ]
    content = hash((tuple(capacity_rows), tuple(served_rows)))
    view = (
        principal.exact_aggregates,
        (principal.org_id or "") if principal.partner else None,
        settings.min_cell,
    )
    with _memo_lock:
        found = _memo.get(content, {}).get(view)
    if found is not None:
        return found
    computed = _compute_open_capacity(capacity_rows, served_rows, view)
    with _memo_lock:
        if content not in _memo:
            _memo.clear()
            _memo[content] = {}
        _memo[content][view] = computed
    return computed


def suggested_partners(
    engine: Engine,
    *,
    principal: Principal,
    student_ids: Sequence[str],
    settings: Settings | None = None,
) -> Suggestions:
    """The suggestions for the students asked about that the principal may see (audited).

    Refused (`AccessDenied`, audited) to roles without student-level reads and in meeting
    mode (`Action.READ_STUDENTS`)."""
    with recording_refusals(engine, principal, ACTION):
        require(principal, Action.READ_STUDENTS)
    settings = settings or load_settings()
    wanted = list(dict.fromkeys(student_ids))
    with student_request(engine) as connection:
        year = current_school_year(connection, principal.today)
        students = _students(connection, principal, year, _asked(connection, wanted))
        seen = students["student_id"].to_list()
        services = _services(connection, principal, _asked(connection, seen))
        capacity = _open_capacity(connection, principal, year, settings)
        names = frame(connection, select(ORGANIZATION.c.org_id, ORGANIZATION.c.org_name))
        if students.height:
            record_event(
                connection,
                principal,
                ACTION,
                students=dict(zip(students["student_id"], students["legal_basis"], strict=True)),
                categories=frozenset(c for c in CATEGORIES if students[f"see_{c}"].any()),
            )
    complete = sees_services(principal) and not principal.partner
    return suggest_partners(
        students.select("student_id", "school_id", *FLAGS),
        services,
        settings.coverage_need_service_types,
        capacity,
        names,
        services_complete=complete,
    )
