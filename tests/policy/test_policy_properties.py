"""Property-based privacy tests: random worlds against an oracle written from docs/access-rules.md.

Hypothesis builds small worlds (students at two schools, partner organisations with
agreements, parent releases in every state, including ones that start or end on "today",
users of every role, caseloads, guardians) and a random "today". For every principal the
oracle below, written independently of `data_access.policy` from the text of docs/access-rules.md,
says which students and which categories they may see; the database must return exactly
that, rows and columns, and must audit exactly the (user, student) pairs it returned.
Both on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import itertools
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, create_engine, insert, select, text

from data_access import schema
from data_access.audit import AUDIT_EVENT, AUDIT_STUDENT
from data_access.derived import refresh_derived
from data_access.engine import make_engine
from data_access.identity import sign_in
from data_access.models import (
    Agreement,
    AttendanceSnapshot,
    Caseload,
    Consent,
    CourseMark,
    Enrollment,
    Guardian,
    Organization,
    Referral,
    School,
    Service,
    Student,
    TestScore,
    User,
    table_of,
)
from data_access.notes import notes_for
from data_access.policy import AccessDenied, Principal
from data_access.records import student_record
from data_access.referrals import referrals
from data_access.roster import ListFilters, at_risk_list
from indicators.tiers import COLUMN_CATEGORY
from tests.postgres_cluster import Cluster

BASE = date(2026, 11, 20)
YEAR = 2027
CATS = ("attendance", "grades", "tests", "fafsa", "outcomes", "demographics", "notes")
#: Who makes the referrals of a world (the teacher's own, and other school staff's).
REFERRERS = ("t@d.org", "c1@d.org", "admin@d.org")
RECORD_PARTS = {
    "attendance": "attendance",
    "grades": "marks",
    "tests": "tests",
    "fafsa": "fafsa",
    "outcomes": "outcome",
    "demographics": "demographics",
}

# --------------------------------------------------------------------------------------
# Worlds
# --------------------------------------------------------------------------------------

day = st.integers(min_value=-3, max_value=3).map(lambda d: BASE + timedelta(days=d))
maybe_day = st.one_of(st.none(), day)
categories = st.sets(st.sampled_from(CATS), min_size=1).map(lambda s: ";".join(sorted(s)))


@dataclass
class World:
    today: date
    students: list[tuple[str, str]]  # (student_id, school_id)
    orgs: list[str]
    agreements: list[dict[str, Any]]
    consents: list[dict[str, Any]]
    guardians: list[tuple[str, str]]  # (student_id, email)
    teacher_caseload: list[str]
    users: list[dict[str, Any]]
    services: list[dict[str, Any]]
    referrals: list[dict[str, Any]]


@st.composite
def worlds(draw: st.DrawFn) -> World:
    n = draw(st.integers(min_value=1, max_value=6))
    students = [(f"S{i}", draw(st.sampled_from(["HS1", "HS2"]))) for i in range(n)]
    ids = [s for s, _ in students]
    orgs = [f"ORG{i}" for i in range(draw(st.integers(min_value=1, max_value=3)))]
    agreements = [
        {"agreement_id": f"A{i}", "org_id": draw(st.sampled_from(orgs)), "categories": draw(categories),
         "effective_date": draw(day), "expires_date": draw(maybe_day)}
        for i in range(draw(st.integers(min_value=0, max_value=3)))
    ]  # fmt: skip
    consents = [
        {"consent_id": f"C{i}", "student_id": draw(st.sampled_from(ids)), "org_id": draw(st.sampled_from(orgs)),
         "categories": draw(categories), "purpose": "p", "signed_by": "x", "signer_relationship": "parent",
         "signed_date": draw(day), "expires_date": draw(maybe_day), "revoked_date": draw(maybe_day), "language": None}
        for i in range(draw(st.integers(min_value=0, max_value=8)))
    ]  # fmt: skip
    guardians = sorted(
        {(draw(st.sampled_from(ids)), "parent@f.org") for _ in range(draw(st.integers(0, 2)))}
    )
    caseload = sorted(set(draw(st.lists(st.sampled_from(ids), max_size=3))))
    signed = draw(maybe_day)
    users: list[dict[str, Any]] = [
        {"email": "admin@d.org", "role": "admin"},
        {"email": "leader@d.org", "role": "district_leader"},
        {"email": "c1@d.org", "role": "counselor", "school_id": "HS1"},
        {"email": "c2@d.org", "role": "counselor", "school_id": "HS2"},
        {"email": "t@d.org", "role": "teacher", "school_id": "HS1"},
        {"email": "viewer@d.org", "role": "viewer"},
        {"email": "parent@f.org", "role": "parent", "confidentiality_signed_date": None},
        {
            "email": "kid@f.org",
            "role": "student",
            "student_id": ids[0],
            "confidentiality_signed_date": None,
        },
        {
            "email": "late@d.org",
            "role": "counselor",
            "school_id": "HS1",
            "confidentiality_signed_date": signed,
        },
        {"email": "off@d.org", "role": "admin", "active": False},
    ]
    users += [{"email": f"staff@{o.lower()}.org", "role": "org_staff", "org_id": o} for o in orgs]
    for u in users:
        u.setdefault("confidentiality_signed_date", BASE - timedelta(days=90))
        u.setdefault("active", True)
        for key in ("org_id", "school_id", "student_id"):
            u.setdefault(key, None)
        u["display_name"] = u["email"]
    services = list({
        (s["student_id"], s["org_id"], s["start_date"]): s  # one per primary key
        for s in (
            {"student_id": draw(st.sampled_from(ids)), "org_id": draw(st.sampled_from(orgs)),
             "service_type": "mentoring", "start_date": draw(day), "end_date": draw(maybe_day)}
            for _ in range(draw(st.integers(min_value=0, max_value=4)))
        )
    }.values())  # fmt: skip
    referrals = [
        {"student_id": draw(st.sampled_from(ids)), "org_id": draw(st.sampled_from(orgs)),
         "referred_by": draw(st.sampled_from(REFERRERS)), "reason": "r", "status": "open",
         "created_at": datetime(2026, 11, 1, 12, tzinfo=UTC), "updated_at": datetime(2026, 11, 1, 12, tzinfo=UTC)}
        for _ in range(draw(st.integers(min_value=0, max_value=4)))
    ]  # fmt: skip
    return World(
        draw(day),
        students,
        orgs,
        agreements,
        consents,
        guardians,
        caseload,
        users,
        services,
        referrals,
    )


def load(engine: Engine, world: World) -> None:
    rows: dict[Any, list[dict[str, Any]]] = {
        School: [{"school_id": s, "school_name": s, "low_grade": 9, "high_grade": 12} for s in ("HS1", "HS2")],
        Organization: [{"org_id": o, "org_name": o, "org_type": "community", "service_types": ""} for o in world.orgs],
        Student: [{"student_id": s, "first_name": s, "last_name": "X", "school_id": sc, "grade_level": 12,
                   "cohort_year": YEAR} for s, sc in world.students],
        Enrollment: [{"student_id": s, "school_id": sc, "school_year": YEAR, "grade_level": 12,
                      "entry_date": date(2026, 8, 27), "exit_date": None, "exit_code": None} for s, sc in world.students],
        AttendanceSnapshot: [{"student_id": s, "school_id": sc, "school_year": YEAR, "as_of_date": date(2026, 10, 31),
                              "days_enrolled": 40, "days_absent": 2 + 3 * i} for i, (s, sc) in enumerate(world.students)],
        CourseMark: [{"student_id": s, "school_year": YEAR, "term": "Q1", "course_id": "ALG2", "course_title": "Algebra II",
                      "subject": "math", "mark": "F" if i % 2 else "B", "credits_attempted": None, "credits_earned": None,
                      "final": True} for i, (s, _) in enumerate(world.students)],
        TestScore: [{"student_id": s, "test_name": "State", "subject": "ela", "school_year": 2026, "proficient": i % 3 == 0,
                     "performance_level": None, "scale_score": None, "test_date": None} for i, (s, _) in enumerate(world.students)],
        Agreement: world.agreements,
        Consent: world.consents,
        Guardian: [{"student_id": s, "guardian_email": e, "guardian_name": "P", "relationship": None} for s, e in world.guardians],
        User: world.users,
        Caseload: [{"user_email": "t@d.org", "student_id": s} for s in world.teacher_caseload],
        Service: world.services,
        Referral: world.referrals,
    }  # fmt: skip
    with engine.begin() as connection:
        for model, values in rows.items():
            if values:
                connection.execute(insert(table_of(model)), values)


# --------------------------------------------------------------------------------------
# The oracle: docs/access-rules.md, read literally
# --------------------------------------------------------------------------------------


def active(signed: date, expires: date | None, revoked: date | None, today: date) -> bool:
    return (
        signed <= today
        and (expires is None or expires >= today)
        and (revoked is None or revoked > today)
    )


def oracle(world: World, email: str, today: date) -> dict[str, frozenset[str]] | None:
    """student -> categories the user may see; None when the user is refused outright."""
    user = next((u for u in world.users if u["email"] == email), None)
    if user is None or not user["active"]:
        return None
    role = user["role"]
    signed = user["confidentiality_signed_date"]
    if role not in ("parent", "student") and (signed is None or signed > today):
        return None
    everything = frozenset(CATS)
    if role in ("admin", "district_leader"):
        return {s: everything for s, _ in world.students}
    if role == "counselor":
        return {s: everything for s, sc in world.students if sc == user["school_id"]}
    if role == "teacher":
        return {s: frozenset({"attendance", "grades", "tests"}) for s in world.teacher_caseload}
    if role == "parent":
        return {s: everything for s, e in world.guardians if e == email}
    if role == "student":
        return {user["student_id"]: everything}
    if role == "org_staff":
        org = user["org_id"]
        agreed: set[str] = set()
        for a in world.agreements:
            if a["org_id"] == org and active(a["effective_date"], a["expires_date"], None, today):
                agreed |= set(a["categories"].split(";"))
        if not agreed and not any(
            a["org_id"] == org and active(a["effective_date"], a["expires_date"], None, today)
            for a in world.agreements
        ):
            return {}
        seen: dict[str, set[str]] = {}
        for c in world.consents:
            if c["org_id"] == org and active(
                c["signed_date"], c["expires_date"], c["revoked_date"], today
            ):
                seen.setdefault(c["student_id"], set()).update(
                    set(c["categories"].split(";")) & agreed
                )
        return {s: frozenset(cats) for s, cats in seen.items()}
    return {}


def role_of(world: World, email: str) -> str:
    return next(u["role"] for u in world.users if u["email"] == email)


def services_oracle(world: World, email: str, student_id: str) -> set[str] | None:
    """The organisations whose services on a visible student the user may see (all of
    them, in a record's services), or None when the user may not learn which organisations
    serve a student at all. Roles that see every category see every service, a partner
    only its own, a teacher none (access-rules.md, "Organisations serving a student")."""
    role = role_of(world, email)
    if role == "teacher":
        return None
    orgs = {s["org_id"] for s in world.services if s["student_id"] == student_id}
    if role == "org_staff":
        own = next(u["org_id"] for u in world.users if u["email"] == email)
        return orgs & {own}
    return orgs


def served_oracle(world: World, email: str, student_id: str, today: date) -> bool | None:
    """The list's `served`: an organisation the user may see serves the student today."""
    visible = services_oracle(world, email, student_id)
    if visible is None:
        return None
    return any(
        s["student_id"] == student_id
        and s["org_id"] in visible
        and s["start_date"] <= today
        and (s["end_date"] is None or s["end_date"] >= today)
        for s in world.services
    )


def referrals_oracle(
    world: World, email: str, allowed: dict[str, frozenset[str]]
) -> list[tuple[str, str, str]] | None:
    """(student, org, referrer) of the referrals the user may see, or None when refused:
    school staff those of the students they see, but a teacher only the ones they made;
    a partner those addressed to it; nobody else works with referrals."""
    role = role_of(world, email)
    if role not in ("admin", "district_leader", "counselor", "teacher", "org_staff"):
        return None
    own_org = next(u["org_id"] for u in world.users if u["email"] == email)
    return sorted(
        (r["student_id"], r["org_id"], r["referred_by"])
        for r in world.referrals
        if r["student_id"] in allowed
        and (role != "teacher" or r["referred_by"] == email)
        and (role != "org_staff" or r["org_id"] == own_org)
    )


# --------------------------------------------------------------------------------------
# Databases: a fresh one per example, cloned from a migrated template
# --------------------------------------------------------------------------------------

_numbers = itertools.count()


@pytest.fixture(scope="module")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    engine = make_engine(f"sqlite:///{path}")
    schema.upgrade(engine)
    with engine.connect() as connection:
        connection.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
    engine.dispose()
    return path


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def fresh_database(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Callable[[], Iterator[Engine]]:
    """A factory: each call yields a new, migrated, empty database."""

    def sqlite() -> Iterator[Engine]:
        template: Path = request.getfixturevalue("sqlite_template")
        path = tmp_path / f"world{next(_numbers)}.db"
        shutil.copy(template, path)
        engine = make_engine(f"sqlite:///{path}")
        try:
            yield engine
        finally:
            engine.dispose()

    def postgres() -> Iterator[Engine]:
        cluster: Cluster = request.getfixturevalue("pg_cluster")
        name = f"world_{next(_numbers)}"
        admin = create_engine(cluster.url(), isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f"CREATE DATABASE {name} TEMPLATE pathwise_template"))
        engine = make_engine(cluster.url(name))
        try:
            yield engine
        finally:
            engine.dispose()
            with admin.connect() as connection:
                connection.execute(text(f"DROP DATABASE {name} WITH (FORCE)"))
            admin.dispose()

    return sqlite if request.param == "sqlite" else postgres


def principals(engine: Engine, world: World) -> Iterator[tuple[str, Principal | None]]:
    for user in world.users + [{"email": "nobody@x.org"}]:
        try:
            yield user["email"], sign_in(engine, user["email"], world.today)
        except AccessDenied:
            yield user["email"], None


SETTINGS = settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@SETTINGS
@given(world=worlds())
def test_every_principal_gets_exactly_the_rows_and_columns_access_md_allows(
    fresh_database: Callable[[], Iterator[Engine]], world: World
) -> None:
    for engine in fresh_database():
        load(engine, world)
        for email, principal in principals(engine, world):
            expected = oracle(world, email, world.today)
            assert (principal is None) == (expected is None), email
            if principal is None or expected is None:
                continue
            for student_id, _ in world.students:
                if student_id not in expected:
                    with pytest.raises(AccessDenied):
                        student_record(engine, principal, student_id)
                    continue
                record = student_record(engine, principal, student_id)
                assert record.categories == expected[student_id], (email, student_id)
                for category, part in RECORD_PARTS.items():
                    assert (getattr(record, part) is not None) == (category in expected[student_id]), (
                        email, student_id, category,
                    )  # fmt: skip
                services = services_oracle(world, email, student_id)
                assert set(record.services["org_id"]) == (services or set()), (email, student_id)
            seen = referrals_oracle(world, email, expected)
            if seen is None:
                with pytest.raises(AccessDenied):
                    referrals(engine, principal)
            else:
                got = referrals(engine, principal)
                assert (
                    sorted(zip(got["student_id"], got["org_id"], got["referred_by"], strict=True))
                    == seen
                ), email


@SETTINGS
@given(
    world=worlds(),
    reads=st.lists(
        st.tuples(
            st.integers(min_value=0, max_value=16),
            st.integers(min_value=0, max_value=7),
            st.booleans(),
        ),
        min_size=1,
        max_size=12,
    ),
)
def test_the_audited_user_student_pairs_are_exactly_the_ones_returned(
    fresh_database: Callable[[], Iterator[Engine]], world: World, reads: list[tuple[int, int, bool]]
) -> None:
    for engine in fresh_database():
        load(engine, world)
        signed_in = [(e, p) for e, p in principals(engine, world) if p is not None]
        returned: set[tuple[str, str]] = set()
        refused: set[tuple[str, str]] = set()
        for who, which, notes in reads:
            email, principal = signed_in[who % len(signed_in)]
            student_id = world.students[which % len(world.students)][0]
            try:
                if notes:
                    notes_for(engine, principal, student_id)
                else:
                    student_record(engine, principal, student_id)
                returned.add((email, student_id))
            except AccessDenied:
                refused.add((email, student_id))
        with engine.connect() as connection:
            rows = connection.execute(
                select(
                    AUDIT_EVENT.c.user_email, AUDIT_STUDENT.c.student_id, AUDIT_EVENT.c.outcome
                ).join(AUDIT_STUDENT, AUDIT_STUDENT.c.event_id == AUDIT_EVENT.c.event_id)
            ).all()
        assert {(u, s) for u, s, o in rows if o == "allowed"} == returned
        assert {(u, s) for u, s, o in rows if o == "denied"} == refused


@SETTINGS
@given(world=worlds())
def test_the_early_warning_list_holds_exactly_the_allowed_students_and_columns(
    fresh_database: Callable[[], Iterator[Engine]], world: World
) -> None:
    for engine in fresh_database():
        load(engine, world)
        refresh_derived(engine, as_of=world.today)
        for email, principal in principals(engine, world):
            expected = oracle(world, email, world.today)
            if principal is None or expected is None or not principal.sees_students:
                continue
            rows = at_risk_list(engine, principal).rows
            assert set(rows["student_id"]) == set(expected), email
            served = {s: served_oracle(world, email, s, world.today) for s in expected}
            if services_oracle(world, email, "any student") is None:
                assert "served" not in rows.columns, email
                with pytest.raises(AccessDenied):
                    at_risk_list(engine, principal, ListFilters(served=True))
            else:
                assert dict(zip(rows["student_id"], rows["served"], strict=True)) == served, email
            for row in rows.iter_rows(named=True):
                allowed = expected[row["student_id"]]
                for column, category in COLUMN_CATEGORY.items():
                    if column in row and row[column] is not None:
                        assert category in allowed, (email, row["student_id"], column)
                flags_seen = sum(
                    bool(row[f])
                    for f in (
                        "chronic_absence",
                        "course_failure",
                        "below_proficient",
                        "fafsa_not_completed",
                    )
                    if row[f] is not None
                )
                assert row["flag_count"] == flags_seen


# --------------------------------------------------------------------------------------
# "Is it working?": program outcomes (access-rules.md, "Is it working? Program outcomes")
# --------------------------------------------------------------------------------------

MIN_CELL = 10


def outcomes_oracle(world: World, email: str, meeting: bool) -> tuple[str, str | None] | None:
    """("exact" | "protected", the one organisation whose programs it sees or None for
    all), or None when refused: leaders and stewards exact (protected in meeting mode),
    work groups protected, partners protected and their own organisation's only."""
    role = role_of(world, email)
    if role in ("admin", "district_leader"):
        return ("protected" if meeting else "exact"), None
    if role == "viewer":
        return "protected", None
    if role == "org_staff":
        return "protected", next(u["org_id"] for u in world.users if u["email"] == email)
    return None


def served_list_oracle(
    world: World, email: str, org: str, meeting: bool, today: date
) -> set[str] | None:
    """The served students of `org`'s program the user may see listed: leaders and
    stewards all of them, a partner those it may see of its own programs; nobody in
    meeting mode, nor any other role."""
    role = role_of(world, email)
    allowed = oracle(world, email, today) or {}
    served = {s["student_id"] for s in world.services if s["org_id"] == org}
    if meeting or role not in ("admin", "district_leader", "org_staff"):
        return None
    if role == "org_staff" and next(u["org_id"] for u in world.users if u["email"] == email) != org:
        return None
    return served & set(allowed)


def world_outcomes(world: World, counts: list[tuple[int, int]]) -> Any:
    """A mentoring program per organisation with `counts` served at HS1 and HS2 (matched:
    all but one, comparison: twice as many), and the world's served students."""
    from tests.outcome_rows import Outcomes, estimates, grouped, served_students, trajectory

    rows = []
    for org, (hs1, hs2) in zip(world.orgs, counts, strict=False):
        groups = {"HS1": (hs1, max(hs1 - 1, 0), 2 * hs1), "HS2": (hs2, max(hs2 - 1, 0), 2 * hs2)}
        rows += grouped(groups, org=org, service_type="mentoring", year=YEAR)
    served = [
        served_students(sorted({s["student_id"] for s in world.services if s["org_id"] == org}), org, "mentoring", year=YEAR)
        for org in world.orgs
    ]  # fmt: skip
    return Outcomes(
        estimates=estimates(rows),
        balance=pl.DataFrame(),
        trajectory=pl.concat([trajectory(org, "mentoring", year=YEAR) for org in world.orgs]),
        served_students=pl.concat(served),
    )


@SETTINGS
@given(
    world=worlds(),
    counts=st.lists(st.tuples(st.integers(0, 25), st.integers(0, 25)), min_size=3, max_size=3),
)
def test_no_principal_gets_another_organisations_program_a_small_number_or_a_student_out_of_scope(
    fresh_database: Callable[[], Iterator[Engine]], world: World, counts: list[tuple[int, int]]
) -> None:
    from data_access import outcomes
    from tests.outcome_rows import balance, store_outcomes

    figures = world_outcomes(world, counts)
    figures = type(figures)(
        estimates=figures.estimates,
        balance=pl.concat([balance(org, "mentoring", year=YEAR) for org in world.orgs]),
        trajectory=figures.trajectory,
        served_students=figures.served_students,
    )
    truth = {
        (r["org_id"], r["group_value"]): r
        for r in figures.estimates.iter_rows(named=True)
        if r["group_by"] in ("all", "school_id")
    }
    for engine in fresh_database():
        load(engine, world)
        store_outcomes(engine, figures, MIN_CELL)
        listed_pairs: set[tuple[str, str]] = set()
        for email, signed_in in principals(engine, world):
            if signed_in is None:
                continue
            for principal, meeting in ((signed_in, False), (signed_in.in_meeting_mode(), True)):
                expected = outcomes_oracle(world, email, meeting)
                if expected is None:
                    with pytest.raises(AccessDenied):
                        outcomes.program_outcomes(engine, principal, group_by="school_id")
                    continue
                kind, only_org = expected
                view = outcomes.program_outcomes(engine, principal, group_by="school_id")
                assert view.exact == (kind == "exact"), email
                assert only_org is None or set(view.rows["org_id"]) <= {only_org}, email
                expected_orgs = {o for o, _ in truth if only_org in (None, o)}
                assert set(view.rows["org_id"]) == expected_orgs, email
                for row in view.rows.iter_rows(named=True):
                    exact = truth[(row["org_id"], row["group_value"])]
                    if kind == "exact":
                        assert row["served"] == exact["served"], email
                        continue
                    for count in ("served", "matched", "comparison"):
                        assert row[count] is None or row[count] == exact[count] >= MIN_CELL
                    if row["effect"] is not None or row["served_after"] is not None:
                        assert (
                            min(exact["served"], exact["matched"], exact["comparison"]) >= MIN_CELL
                        )
                for org in world.orgs:
                    if only_org not in (None, org):
                        with pytest.raises(AccessDenied):
                            outcomes.program_detail(
                                engine,
                                principal,
                                school_year=YEAR,
                                org_id=org,
                                service_type="mentoring",
                            )
                        continue
                    detail = outcomes.program_detail(
                        engine, principal, school_year=YEAR, org_id=org, service_type="mentoring"
                    )
                    listed = served_list_oracle(world, email, org, meeting, world.today)
                    got = (
                        None
                        if detail.served_students is None
                        else set(detail.served_students["student_id"])
                    )
                    assert got == (listed or None), (email, org, meeting)
                    listed_pairs |= {(email, s) for s in got or ()}
                    if kind != "exact" and detail.balance.height:
                        everyone = truth[(org, "all")]
                        assert min(everyone["served"], everyone["comparison"]) >= MIN_CELL
        with engine.connect() as connection:
            audited = connection.execute(
                select(AUDIT_EVENT.c.user_email, AUDIT_STUDENT.c.student_id)
                .join(AUDIT_STUDENT, AUDIT_STUDENT.c.event_id == AUDIT_EVENT.c.event_id)
                .where(AUDIT_EVENT.c.action == "outcomes.served_students")
            ).all()
        assert set(audited) == listed_pairs  # exactly the students returned
