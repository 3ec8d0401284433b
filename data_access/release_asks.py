"""A partner asks the district to request a release (issue 16 part 1, "Who asks").

Partner staff serve students they cannot yet see (no active release names their
organisation). They may ask the district to request one, giving what they know: a name, a
school, perhaps a birth date and a note (`ask_for_release`, ASK_FOR_RELEASE). Nothing about
any student is read to answer them: the ask is stored as typed, and the answer is the same
whether or not such a student exists. Their list of asks (`my_asks`) says only what they
typed, when, and `waiting` or `signed` (domain.releases): `signed` once the student the
steward matched has an active release naming the partner's organisation (the partner then
sees the student anyway), or a release answering a request made from this ask was signed.
It never says whether
a student was found, matched or the ask set aside (docs/access-rules.md, "A partner asks
for a release").

The steward (SEE_RELEASE_REQUESTS) reads the open asks with candidate students from the
record matcher (`indicators.record_matching`, the rule of the mapped imports: exact names,
birth date and school, or near names of the same birth date; an ask without a birth date
finds only students of the same names; a student-level read, audited per candidate),
matches one (`match_ask`: returns what the "request a release" form needs) or rejects it
(`reject_ask`). Both are audited.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

import polars as pl
from sqlalchemy import Connection, Engine, and_, exists, insert, or_, select, update

from data_access.audit import record_event, recording_refusals
from data_access.models import (
    Agreement,
    Consent,
    Organization,
    ReleaseAsk,
    ReleaseRequest,
    School,
    Student,
    table_of,
)
from data_access.policy import (
    Action,
    Principal,
    agreement_active,
    consent_active,
    require,
    require_student,
)
from data_access.reading import frame, student_request
from domain.releases import ASK_MATCHED, ASK_OPEN, ASK_REJECTED, ASK_SIGNED, ASK_WAITING
from domain.vocabulary import format_list, parse_list
from indicators.record_matching import match_records
from indicators.settings import load_settings

ASK = table_of(ReleaseAsk)
CONSENT = table_of(Consent)
AGREEMENT = table_of(Agreement)
ORGANIZATION = table_of(Organization)
SCHOOL = table_of(School)
STUDENT = table_of(Student)
REQUEST = table_of(ReleaseRequest)


class InvalidAsk(ValueError):
    """An ask or a steward's decision that cannot be recorded, in words a user can act on."""


@dataclass(frozen=True)
class MatchedAsk:
    """What the steward's "request a release" form needs once an ask is matched: the
    student, the organisation and the categories of its active agreements (a request may
    ask for no more, data_access.releases)."""

    ask_id: int
    student_id: str
    student_first_name: str
    student_last_name: str
    school_id: str
    school_name: str
    org_id: str
    org_name: str
    categories: tuple[str, ...]
    note: str | None


def _clean(value: str | None) -> str:
    return " ".join((value or "").split())


def ask_for_release(
    engine: Engine,
    principal: Principal,
    *,
    first_name: str,
    last_name: str,
    school_id: str,
    birth_date: date | None = None,
    note: str | None = None,
) -> int:
    """Store a partner's ask and return its number. Reads nothing about students: an
    unknown school is refused (schools are not student data), a name is never looked up."""
    with recording_refusals(engine, principal, "release_ask.create"):
        require(principal, Action.ASK_FOR_RELEASE)
    first, last = _clean(first_name), _clean(last_name)
    if not first or not last:
        raise InvalidAsk("Give the student's first and last name.")
    if birth_date is not None and birth_date >= principal.today:
        raise InvalidAsk(f"The birth date {birth_date} is not in the past.")
    with engine.begin() as connection:
        known = connection.execute(
            select(SCHOOL.c.school_id).where(SCHOOL.c.school_id == school_id)
        ).first()
        if known is None:
            raise InvalidAsk(f"There is no school {school_id!r}; choose one from the list.")
        ask_id = connection.execute(
            insert(ASK)
            .values(
                org_id=principal.org_id,
                asked_by=principal.email,
                asked_at=datetime.now(UTC),
                first_name=first,
                last_name=last,
                school_id=school_id,
                birth_date=birth_date,
                note=_clean(note) or None,
                status=ASK_OPEN,
            )
            .returning(ASK.c.ask_id)
        ).scalar_one()
        record_event(connection, principal, "release_ask.create", detail={"ask_id": ask_id})
    return int(ask_id)


def my_asks(engine: Engine, principal: Principal) -> pl.DataFrame:
    """The principal's organisation's asks, newest first: ask_id, first_name, last_name,
    school_id, school_name, birth_date, note, asked_by, asked_at and `state` (`waiting` or
    `signed`; see the module's docstring). Nothing else about the ask or any student."""
    with recording_refusals(engine, principal, "release_ask.read"):
        require(principal, Action.ASK_FOR_RELEASE)
    released_now = exists(
        select(CONSENT.c.consent_id).where(
            CONSENT.c.student_id == ASK.c.student_id,
            CONSENT.c.org_id == ASK.c.org_id,
            consent_active(principal.today),
        )
    )
    answered = exists(
        select(REQUEST.c.request_id).where(
            REQUEST.c.ask_id == ASK.c.ask_id,
            REQUEST.c.student_id == ASK.c.student_id,
            REQUEST.c.org_id == ASK.c.org_id,
            REQUEST.c.consent_id.is_not(None),
        )
    )
    signed = or_(released_now, answered)
    query = (
        select(
            ASK.c.ask_id,
            ASK.c.first_name,
            ASK.c.last_name,
            ASK.c.school_id,
            SCHOOL.c.school_name,
            ASK.c.birth_date,
            ASK.c.note,
            ASK.c.asked_by,
            ASK.c.asked_at,
            and_(ASK.c.student_id.is_not(None), signed).label("signed"),
        )
        .select_from(ASK.outerjoin(SCHOOL, SCHOOL.c.school_id == ASK.c.school_id))
        .where(ASK.c.org_id == principal.org_id)
        .order_by(ASK.c.asked_at.desc(), ASK.c.ask_id.desc())
    )
    with engine.connect() as connection:
        rows = frame(
            connection,
            query,
            schema={
                "ask_id": pl.Int64,
                "birth_date": pl.Date,
                "asked_at": pl.Datetime("us", "UTC"),
                "signed": pl.Boolean,
            },
        )
    return rows.with_columns(
        pl.when(pl.col("signed").cast(pl.Boolean))
        .then(pl.lit(ASK_SIGNED))
        .otherwise(pl.lit(ASK_WAITING))
        .alias("state")
    ).drop("signed")


_CANDIDATE = pl.Struct(
    {
        "student_id": pl.String,
        "first_name": pl.String,
        "last_name": pl.String,
        "school_id": pl.String,
        "birth_date": pl.Date,
        "score": pl.Float64,
    }
)


def open_asks(engine: Engine, principal: Principal) -> pl.DataFrame:
    """The open asks, oldest first, for the steward: ask_id, org_id, org_name, asked_by,
    asked_at, first_name, last_name, school_id, school_name, birth_date, note, and
    `candidates` (best first: student_id, first_name, last_name, school_id, birth_date,
    score). The candidates are a student-level read: audited, each with the steward's basis."""
    with recording_refusals(engine, principal, "release_ask.read"):
        require(principal, Action.SEE_RELEASE_REQUESTS)
    near = load_settings().near_match_score
    with student_request(engine) as connection:
        asks = frame(
            connection,
            select(
                ASK.c.ask_id,
                ASK.c.org_id,
                ORGANIZATION.c.org_name,
                ASK.c.asked_by,
                ASK.c.asked_at,
                ASK.c.first_name,
                ASK.c.last_name,
                ASK.c.school_id,
                SCHOOL.c.school_name,
                ASK.c.birth_date,
                ASK.c.note,
            )
            .select_from(
                ASK.join(ORGANIZATION, ORGANIZATION.c.org_id == ASK.c.org_id).outerjoin(
                    SCHOOL, SCHOOL.c.school_id == ASK.c.school_id
                )
            )
            .where(ASK.c.status == ASK_OPEN)
            .order_by(ASK.c.asked_at, ASK.c.ask_id),
            schema={
                "ask_id": pl.Int64,
                "birth_date": pl.Date,
                "asked_at": pl.Datetime("us", "UTC"),
            },
        )
        if asks.height == 0:
            return asks.with_columns(pl.lit([], dtype=pl.List(_CANDIDATE)).alias("candidates"))
        students = _every_student(connection)
        decided = match_records(
            asks.select(
                pl.col("ask_id").alias("_row"), "first_name", "last_name", "birth_date", "school_id"
            ),
            students,
            near,
        )
        pairs = (
            decided.select("_row", "candidates")
            .explode("candidates")
            .drop_nulls("candidates")
            .unnest("candidates")
            .join(students, on="student_id")
        )
        candidates = pairs.group_by("_row", maintain_order=True).agg(
            pl.struct(
                "student_id", "first_name", "last_name", "school_id", "birth_date", "score"
            ).alias("candidates")
        )
        shown = sorted(set(pairs["student_id"].to_list()))
        if shown:
            record_event(
                connection,
                principal,
                "release_ask.read",
                students=dict.fromkeys(shown, f"role:{principal.role.value}"),
                detail={"asks": asks["ask_id"].to_list()},
            )
    return asks.join(
        candidates.rename({"_row": "ask_id"}), on="ask_id", how="left", maintain_order="left"
    ).with_columns(
        pl.col("candidates")
        .fill_null(pl.lit([], dtype=pl.List(_CANDIDATE)))
        .cast(pl.List(_CANDIDATE))
    )


def _every_student(connection: Connection) -> pl.DataFrame:
    """Every student (the steward sees all) as the matcher wants them. The matcher blocks
    on names and birth dates itself; the table is read whole, as the mapped imports do."""
    students = frame(
        connection,
        select(
            STUDENT.c.student_id,
            STUDENT.c.first_name,
            STUDENT.c.last_name,
            STUDENT.c.birth_date,
            STUDENT.c.school_id,
        ),
        schema={"birth_date": pl.Date},
    )
    return students


def _open_ask(connection: Connection, ask_id: int) -> object:
    ask = connection.execute(select(ASK).where(ASK.c.ask_id == ask_id)).first()
    if ask is None:
        raise InvalidAsk(f"There is no ask number {ask_id}.")
    if ask.status != ASK_OPEN:
        raise InvalidAsk(f"Ask number {ask_id} was already {ask.status}.")
    return ask


def active_agreement_categories(
    connection: Connection, org_id: str, today: date
) -> tuple[str, ...]:
    """The categories of the organisation's active agreements (what a request may ask for)."""
    cells = connection.execute(
        select(AGREEMENT.c.categories).where(AGREEMENT.c.org_id == org_id, agreement_active(today))
    ).scalars()
    return parse_list(format_list(c for cell in cells for c in parse_list(cell)))


def match_ask(engine: Engine, principal: Principal, ask_id: int, student_id: str) -> MatchedAsk:
    """The steward says which student an open ask is about: status `matched`, the student
    recorded; audited ("release_ask.match", the student with the steward's basis). Returns
    what the "request a release" form needs (`MatchedAsk`)."""
    with recording_refusals(engine, principal, "release_ask.match", students=[student_id]):
        require(principal, Action.SEE_RELEASE_REQUESTS)
        with engine.begin() as connection:
            ask: object = _open_ask(connection, ask_id)
            if (
                connection.execute(
                    select(STUDENT.c.student_id).where(STUDENT.c.student_id == student_id)
                ).first()
                is None
            ):
                raise InvalidAsk(f"There is no student {student_id!r}.")
            row = require_student(connection, principal, Action.REQUEST_RELEASE, student_id)
            who = connection.execute(
                select(
                    STUDENT.c.first_name,
                    STUDENT.c.last_name,
                    STUDENT.c.school_id,
                    SCHOOL.c.school_name,
                )
                .select_from(STUDENT.join(SCHOOL, SCHOOL.c.school_id == STUDENT.c.school_id))
                .where(STUDENT.c.student_id == student_id)
            ).one()
            org_id = str(ask.org_id)  # type: ignore[attr-defined]
            org_name = connection.execute(
                select(ORGANIZATION.c.org_name).where(ORGANIZATION.c.org_id == org_id)
            ).scalar_one()
            connection.execute(
                update(ASK)
                .where(ASK.c.ask_id == ask_id)
                .values(
                    status=ASK_MATCHED,
                    student_id=student_id,
                    decided_by=principal.email,
                    decided_at=datetime.now(UTC),
                )
            )
            record_event(
                connection,
                principal,
                "release_ask.match",
                students={student_id: row.legal_basis},
                detail={"ask_id": ask_id, "org_id": org_id},
            )
            categories = active_agreement_categories(connection, org_id, principal.today)
    return MatchedAsk(
        ask_id=ask_id,
        student_id=student_id,
        student_first_name=who.first_name,
        student_last_name=who.last_name,
        school_id=who.school_id,
        school_name=who.school_name,
        org_id=org_id,
        org_name=org_name,
        categories=categories,
        note=ask.note,  # type: ignore[attr-defined]
    )


def reject_ask(engine: Engine, principal: Principal, ask_id: int) -> None:
    """The steward sets an open ask aside (no student found, or not one the district will
    ask about). The partner is not told: its ask stays `waiting`. Audited."""
    with recording_refusals(engine, principal, "release_ask.reject"):
        require(principal, Action.SEE_RELEASE_REQUESTS)
    with engine.begin() as connection:
        _open_ask(connection, ask_id)
        connection.execute(
            update(ASK)
            .where(ASK.c.ask_id == ask_id)
            .values(status=ASK_REJECTED, decided_by=principal.email, decided_at=datetime.now(UTC))
        )
        record_event(connection, principal, "release_ask.reject", detail={"ask_id": ask_id})
