"""The demo district's release requests (issue 16 part 1), made through the real API.

Once `build_demo` has written the district, the demo's steward and counselors ask families
for releases the way the app does (`data_access.releases.create_request`), for students
in the consent gap (served by, or referred to, a partner without an active release naming
it: `release_overview.consent_gap`; when a small district's gap is short, also current
students and a partner they have no release for), and the families answer through their links
(`open_link`, `sign`, `decline`) or on paper (`record_paper_release`). So the demo holds
requests in every state of `domain.releases.STATES`, electronic (and two paper) releases,
notifications for the partners and requesters, an audit trail, and the emails in the
outbox: without SMTP settings (the demo has none) nothing is sent, so the steward reads
them in Administration, links included, and may open one and sign as a family would.

- Deterministic: the same spec chooses the same students, organisations, requesters and
  answers (a generator seeded by the spec's seed); only the tokens and paper codes, which
  must be unpredictable, differ between builds.
- Cheap: `PER_STATE` requests per state plus `PAPER_RELEASES`, whatever the district's
  size (fewer when a small district's consent gap holds fewer pairs: round by round, so
  every state keeps some).
- Times are the spec's: an answered or open request was made one to five days before its
  date, an expired one more than the link lifetime (`[releases] link_days`) before it;
  the links point at `DEMO_LINK_BASE`, the address `make run` serves.
- Families whose English or Spanish the other demo pages show (the demo parent's child,
  the demo student) and eligible students (who would sign their own) are left out; among
  the others Spanish-speaking families get about a third of the requests.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from urllib.parse import parse_qs, urlsplit

import numpy as np
import polars as pl
from sqlalchemy import Engine, select

from data_access.identity import sign_in
from data_access.models import (
    Agreement,
    Consent,
    Enrollment,
    Guardian,
    Organization,
    Student,
    User,
    table_of,
)
from data_access.policy import (
    Principal,
    agreement_active,
    consent_active,
    current_school_year,
    enrolled_in,
    visible_students,
)
from data_access.release_overview import consent_gap
from data_access.releases import (
    Compose,
    NewRequest,
    cancel_request,
    create_request,
    decline,
    open_link,
    record_paper_release,
    sign,
)
from domain.release_tokens import TOKEN_PARAMETER, is_eligible_student
from domain.releases import (
    CANCELLED,
    DECLINED,
    EXPIRED,
    OPENED,
    SENT,
    SIGNED,
    STATES,
    ReleaseEmail,
)
from domain.vocabulary import Role, parse_list
from indicators.settings import load_settings

AGREEMENT = table_of(Agreement)
CONSENT = table_of(Consent)
ENROLLMENT = table_of(Enrollment)
GUARDIAN = table_of(Guardian)
ORGANIZATION = table_of(Organization)
STUDENT = table_of(Student)
USER = table_of(User)

#: Where the demo's links point: the app as `make run` serves it.
DEMO_LINK_BASE = "http://localhost:8501/"
#: Requests made for each state of `domain.releases.STATES`.
PER_STATE = 4
#: Requests the families answer on paper, typed in by the steward with their code.
PAPER_RELEASES = 2
#: The demo's steward, who makes the odd requests and types in paper releases.
STEWARD = "steward@demo.pathwise.example"
#: The client name of the families' answers made while building (never slowed down: the
#: tokens are good).
DEMO_CLIENT = "demo-build"
#: A guardian's relationship on file, as the release's signer relationship.
SIGNER_RELATIONSHIP = {"mother": "parent", "father": "parent"}
#: A share of requests for Spanish-speaking families.
SPANISH_SHARE = 1 / 3
#: The purpose, as the requester writes it in the family's language.
PURPOSES = {
    "en": "So that {org} can plan its support for your student with the school.",
    "es": "Para que {org} pueda planear con la escuela el apoyo que ofrece a su estudiante.",
}


@dataclass(frozen=True)
class DemoReleases:
    """What was made: request ids by state (paper releases under `paper`)."""

    by_state: dict[str, list[int]] = field(default_factory=dict)
    paper: list[int] = field(default_factory=list)

    @property
    def requests(self) -> int:
        return sum(len(ids) for ids in self.by_state.values()) + len(self.paper)


def _counselor(school_id: str) -> str:
    return f"counselor.{school_id.lower()}@demo.pathwise.example"


def _left_out(engine: Engine) -> set[str]:
    """The demo parent's children and the demo student: other pages show their family."""
    with engine.connect() as connection:
        parents = select(USER.c.email).where(USER.c.role == Role.PARENT.value)
        children = connection.execute(
            select(GUARDIAN.c.student_id).where(GUARDIAN.c.guardian_email.in_(parents))
        ).scalars()
        pupils = connection.execute(
            select(USER.c.student_id).where(USER.c.student_id.is_not(None))
        ).scalars()
        return {str(s) for s in [*children, *pupils]}


def _candidates(engine: Engine, steward: Principal, seed: int, wanted: int) -> pl.DataFrame:
    """`wanted` (student, organisation) pairs of the consent gap (one per student while
    there are enough; beyond it, when it is short, a current student and a partner they
    have no release for), for families with a guardian on file who sign for a minor;
    about `SPANISH_SHARE` of them Spanish-speaking. Columns `org_id`, `org_name`,
    `school_id`, `student_id`, `categories`, and the first guardian's `guardian_name`,
    `guardian_relationship` and `language`."""
    pair_columns = ["org_id", "org_name", "school_id", "student_id", "categories"]
    gap = (
        consent_gap(engine, steward)
        .filter(pl.col("categories").list.len() > 0)
        .select(pair_columns)
    )
    # Beyond the gap (a small district's is short): students enrolled this year, with a
    # partner they have no active release for, as a counselor would ask before referring.
    beyond = _beyond_gap(engine, steward.today).join(gap, on="student_id", how="anti")
    gap = pl.concat(
        [gap.with_columns(_beyond=pl.lit(False)), beyond.with_columns(_beyond=pl.lit(True))]
    )
    with engine.connect() as connection:
        guardians = pl.DataFrame(
            connection.execute(
                select(
                    GUARDIAN.c.student_id,
                    GUARDIAN.c.guardian_name,
                    GUARDIAN.c.relationship.label("guardian_relationship"),
                    GUARDIAN.c.language,
                ).order_by(GUARDIAN.c.student_id, GUARDIAN.c.guardian_email)
            ).all(),
            schema=["student_id", "guardian_name", "guardian_relationship", "language"],
            orient="row",
        ).unique("student_id", keep="first", maintain_order=True)
        births = connection.execute(select(STUDENT.c.student_id, STUDENT.c.birth_date)).all()
    eligible = {r.student_id for r in births if is_eligible_student(r.birth_date, steward.today)}
    left_out = _left_out(engine) | eligible
    rng = np.random.default_rng([seed, 16])
    pairs = (
        gap.filter(~pl.col("student_id").is_in(sorted(left_out)))
        .join(guardians, on="student_id")
        .with_columns(pl.col("language").fill_null("en"))
        .sort("student_id", "org_id")
    )
    # Shuffled (seeded), then the gap's pairs before the others, and a student's first
    # pair before their second: distinct students while there are enough.
    pairs = (
        pairs[rng.permutation(pairs.height).tolist()]
        .with_columns(pl.col("org_id").cum_count().over("student_id").alias("_nth"))
        .sort("_beyond", "_nth", maintain_order=True)
    )
    spanish = pairs.filter(pl.col("language") == "es")
    others = pairs.filter(pl.col("language") != "es")
    n_spanish = min(spanish.height, max(round(wanted * SPANISH_SHARE), wanted - others.height))
    n_others = min(others.height, wanted - n_spanish)
    chosen = pl.concat([spanish.head(n_spanish), others.head(n_others)]).drop("_nth", "_beyond")
    # The languages interleaved over the states: a shuffled, seeded order.
    return chosen[rng.permutation(chosen.height).tolist()]


def _beyond_gap(engine: Engine, today: date) -> pl.DataFrame:
    """Each student enrolled this school year x each partner with an active agreement, but
    the pairs with an active release (in the consent gap's columns used here)."""
    with engine.connect() as connection:
        year = current_school_year(connection, today)
        enrolled = connection.execute(
            select(ENROLLMENT.c.student_id, ENROLLMENT.c.school_id)
            .where(enrolled_in(year, today))
            .distinct()
        ).all()
        agreements = connection.execute(
            select(ORGANIZATION.c.org_id, ORGANIZATION.c.org_name, AGREEMENT.c.categories)
            .join(AGREEMENT, AGREEMENT.c.org_id == ORGANIZATION.c.org_id)
            .where(agreement_active(today), ORGANIZATION.c.org_type != "district")
        ).all()
        released = connection.execute(
            select(CONSENT.c.student_id, CONSENT.c.org_id).where(consent_active(today)).distinct()
        ).all()
    students = pl.DataFrame(enrolled, schema=["student_id", "school_id"], orient="row").unique(
        "student_id", keep="first"
    )
    covered: dict[tuple[str, str], set[str]] = {}
    for row in agreements:
        covered.setdefault((row.org_id, row.org_name), set()).update(parse_list(row.categories))
    organisations = pl.DataFrame(
        [(org_id, name, sorted(c)) for (org_id, name), c in sorted(covered.items()) if c],
        schema={"org_id": pl.String, "org_name": pl.String, "categories": pl.List(pl.String)},
        orient="row",
    )
    released_pairs = pl.DataFrame(released, schema=["student_id", "org_id"], orient="row")
    return (
        organisations.join(students, how="cross")
        .join(released_pairs, on=["student_id", "org_id"], how="anti")
        .select("org_id", "org_name", "school_id", "student_id", "categories")
    )


def _sees(engine: Engine, principal: Principal, student_id: str) -> bool:
    """Whether `principal` may see the student (a counselor: enrolled at their school)."""
    with engine.connect() as connection:
        year = current_school_year(connection, principal.today)
        scope = visible_students(principal, year, restrict=student_id).subquery()
        return connection.execute(select(scope.c.student_id)).first() is not None


def _token(link: str) -> str:
    return parse_qs(urlsplit(link).query)[TOKEN_PARAMETER][0]


def build_demo_releases(
    engine: Engine, today: date, seed: int, *, compose: Compose
) -> DemoReleases:
    """Make the demo's release requests and answers (see the module's docstring) as of
    `today` (a date), chosen with `seed`."""
    day = datetime.combine(today, time(9), UTC)
    steward = sign_in(engine, STEWARD, today)
    # Round by round, so that a small district's short consent gap leaves every state.
    plan: list[str] = []
    for round_ in range(PER_STATE):
        plan += [*STATES, *(["paper"] if round_ < PAPER_RELEASES else [])]
    pairs = _candidates(engine, steward, seed, len(plan))
    link_days = load_settings().release_link_days
    made = DemoReleases()
    counselors: dict[str, Principal] = {}
    for index, (state, pair) in enumerate(zip(plan, pairs.iter_rows(named=True), strict=False)):
        # Every other request is the counselor's of the student's school, when the
        # student is enrolled there this year; the others are the steward's.
        requester = steward
        if index % 2 and pair["school_id"]:
            email = _counselor(pair["school_id"])
            if email not in counselors:
                counselors[email] = sign_in(engine, email, today)
            if _sees(engine, counselors[email], pair["student_id"]):
                requester = counselors[email]
        days_ago = link_days + 2 + index % 7 if state == EXPIRED else 1 + index % 5
        asked_at = day - timedelta(days=days_ago, hours=index % 4)
        links: list[str] = []

        def capture(mail: ReleaseEmail, links: list[str] = links) -> tuple[str, str]:
            links.append(mail.link)
            return compose(mail)

        created = create_request(
            engine,
            requester,
            NewRequest(
                student_id=pair["student_id"],
                org_id=pair["org_id"],
                categories=tuple(pair["categories"]),
                purpose=PURPOSES.get(pair["language"], PURPOSES["en"]).format(org=pair["org_name"]),
            ),
            link_base=DEMO_LINK_BASE,
            compose=capture,
            mail=None,
            now=asked_at,
        )
        token = _token(links[0])
        answered_at = asked_at + timedelta(days=1)
        signer = str(pair["guardian_name"])
        relationship = SIGNER_RELATIONSHIP.get(pair["guardian_relationship"] or "", "guardian")
        if state in (OPENED, SIGNED, DECLINED):
            open_link(engine, token, client=DEMO_CLIENT, now=answered_at)
        if state == SIGNED:
            sign(
                engine,
                token,
                client=DEMO_CLIENT,
                signed_by=signer,
                relationship=relationship,
                language=pair["language"],
                now=answered_at + timedelta(minutes=7),
            )
        elif state == DECLINED:
            decline(engine, token, client=DEMO_CLIENT, now=answered_at + timedelta(minutes=3))
        elif state == CANCELLED:
            cancel_request(engine, requester, created.request_id)
        elif state == "paper":
            record_paper_release(
                engine,
                steward,
                created.paper_code,
                signed_by=signer,
                relationship=relationship,
                signed_date=answered_at.date(),
                language=pair["language"],
            )
            made.paper.append(created.request_id)
            continue
        made.by_state.setdefault(state, []).append(created.request_id)
    for state in (SENT, OPENED, SIGNED, DECLINED, EXPIRED, CANCELLED):
        made.by_state.setdefault(state, [])
    return made
