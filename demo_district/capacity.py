"""The demo district's partner capacity and the referrals that show every state of the
referral loop (issue 14; docs/demo-district.md, "Capacity, duplication and referrals").

Both are drawn after the students, from what the simulation produced, so that each view
of issue 14 has something to show at any size and seed:

- **Capacity** (the `capacity` import file) for the current school year, sized from the
  students each partner serves now (services active on the demo's date, by the student's
  school of record): school-specific rows and any-school rows; one partner not accepting
  referrals; the busiest partner at one school **over-full** (fewer slots than students
  served); Family Resource Center with open family-support slots at Riverside (HS02) only,
  so the realignment view has its example. The open slots added on top of those served
  draw from a random stream of their own (`[seed, 11]`).
- **Referrals of the referral loop**, added to the random ones of `people_part` (which
  stay as they were): for services that started in the last complete or the current
  school year, an accepted referral to the serving organisation made 3 to 28 days before
  the start (it **became a service within 30 days**) or 35 to 80 days before it (after
  more than 30 days); and open referrals of students whose release names the
  organisation (**open with a release**). Open referrals without a release (**waiting for
  a release**), accepted and declined ones already come from `people_part`. Stream
  `[seed, 13]`.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import numpy as np
import polars as pl

from demo_district.world import DEMO_EMAIL_DOMAIN, ORGS

#: The referral reason of the loop's accepted referrals and open ones with a release.
LOOP_REASON = "Referred for the support this program gives; the family agreed to be contacted."

_CAPACITY_SCHEMA: dict[str, pl.DataType | type[pl.DataType]] = {
    "org_id": pl.String,
    "school_id": pl.String,
    "service_type": pl.String,
    "school_year": pl.Int64,
    "slots": pl.Int64,
    "accepting_referrals": pl.Boolean,
}


def served_now(services: pl.DataFrame, roster: pl.DataFrame, today: date) -> pl.DataFrame:
    """Students served on `today` by organisation, school of record and service type
    (an active service: started, and not ended before `today`)."""
    active = services.filter(
        (pl.col("start_date") <= today)
        & (pl.col("end_date").is_null() | (pl.col("end_date") >= today))
    )
    return (
        active.join(roster.select("student_id", "school_id"), on="student_id")
        .group_by("org_id", "school_id", "service_type")
        .agg(pl.col("student_id").n_unique().cast(pl.Int64).alias("students"))
    )


def capacity_table(
    seed: int, school_year: int, services: pl.DataFrame, roster: pl.DataFrame, today: date
) -> pl.DataFrame:
    """The demo's capacity rows (the module's rules), sorted by key."""
    rng = np.random.default_rng([seed, 11])
    served = served_now(services, roster, today)
    # Extra open slots scale with the district: 3 to 12 per 1,000 current students.
    scale = max(1, roster.height // 1000)

    def count(org: str, school: str | None, service: str) -> int:
        rows = served.filter((pl.col("org_id") == org) & (pl.col("service_type") == service))
        if school is not None:
            rows = rows.filter(pl.col("school_id") == school)
        return int(rows["students"].sum())

    def extra(low: int, high: int) -> int:
        return int(rng.integers(low, high + 1)) * scale

    rows: dict[tuple[str, str, str], tuple[int, bool]] = {}
    # Over-full: the busiest organisation, school and type now, with a third fewer slots.
    if served.height:
        busiest = served.sort(
            ["students", "org_id", "school_id", "service_type"],
            descending=[True, False, False, False],
        ).row(0, named=True)
        key = (busiest["org_id"], busiest["school_id"], busiest["service_type"])
        rows[key] = (busiest["students"] * 2 // 3, True)
    wanted = [
        # Family Resource Center: family support at Riverside only (the realignment example).
        ("ORG04", "HS02", "family_support", True),
        # Every Day Counts: attendance at Central and at Eastside.
        ("ORG05", "HS01", "attendance", True),
        ("ORG05", "HS04", "attendance", True),
        # Youth Tutoring Network: tutoring at Northgate, full for now (no referrals).
        ("ORG03", "HS03", "academic", False),
        # Big Brothers Big Sisters: mentoring at any school.
        ("ORG01", "", "mentoring", True),
        # College Access Collaborative: at Central and Lincoln, and any school besides.
        ("ORG02", "HS01", "college_access", True),
        ("ORG02", "HS06", "college_access", True),
        ("ORG02", "", "college_access", True),
        # Teen Health & Wellness Clinic: behavioural health at Eastside.
        ("ORG06", "HS04", "behavioral_health", True),
        # Boys & Girls Club: mentoring at Westview.
        ("ORG08", "HS05", "mentoring", True),
    ]
    for org, school, service, accepting in wanted:
        key = (org, school, service)
        if key in rows:
            continue
        taken = count(org, school or None, service)
        rows[key] = (taken + extra(3, 12), accepting)
    return pl.DataFrame(
        [
            (org, school, service, school_year, slots, accepting)
            for (org, school, service), (slots, accepting) in sorted(rows.items())
        ],
        schema=_CAPACITY_SCHEMA,
        orient="row",
    )


def loop_referrals(
    seed: int,
    today: date,
    roster: pl.DataFrame,
    services: pl.DataFrame,
    active_consents: pl.DataFrame,
    first_year_start: date,
) -> pl.DataFrame:
    """Referrals that show the loop's states (the module's rules), in the `_referrals`
    frame's columns. `first_year_start`: the first day of the last complete school year."""
    rng = np.random.default_rng([seed, 13])
    current = roster.select("student_id", "school_id")
    open_orgs = {o.org_id for o in ORGS if o.agreement_expires is None}
    started = (
        services.filter(
            (pl.col("start_date") >= first_year_start)
            & (pl.col("start_date") <= today)
            & pl.col("org_id").is_in(sorted(open_orgs))
        )
        .join(current, on="student_id")
        .unique(["student_id", "org_id"], keep="first")
        .sort("student_id", "org_id", "start_date")
    )
    size = max(6, min(200, started.height // 25))
    picked = started.head(size)
    rows = []
    for number, row in enumerate(picked.iter_rows(named=True)):
        within = number % 2 == 0  # half within 30 days, half after more than 30
        days = int(rng.integers(3, 29)) if within else int(rng.integers(35, 81))
        created = datetime.combine(row["start_date"] - timedelta(days=days), time(9, 30), UTC)
        answered = created + timedelta(days=int(rng.integers(1, 3)))
        rows.append(
            _referral(row, created, answered, "accepted", "We will reach out to the family.")
        )
    with_release = (
        active_consents.filter(pl.col("org_id").is_in(sorted(open_orgs)))
        .join(current, on="student_id")
        .join(started.select("student_id", "org_id"), on=["student_id", "org_id"], how="anti")
        .unique(["student_id", "org_id"], keep="first")
        .sort("student_id", "org_id")
    )
    for row in with_release.head(max(3, size // 3)).iter_rows(named=True):
        created = datetime.combine(
            today - timedelta(days=int(rng.integers(1, 15))), time(11, 0), UTC
        )
        rows.append(_referral(row, created, created, "open", None))
    return pl.DataFrame(
        rows,
        schema={
            "student_id": pl.String,
            "org_id": pl.String,
            "referred_by": pl.String,
            "reason": pl.String,
            "status": pl.String,
            "created_at": pl.Datetime("us", "UTC"),
            "updated_at": pl.Datetime("us", "UTC"),
            "response": pl.String,
        },
    )


def _referral(
    row: dict[str, object], created: datetime, updated: datetime, status: str, response: str | None
) -> dict[str, object]:
    school = str(row["school_id"]).lower()
    return {
        "student_id": row["student_id"],
        "org_id": row["org_id"],
        "referred_by": f"counselor.{school}@{DEMO_EMAIL_DOMAIN}",
        "reason": LOOP_REASON,
        "status": status,
        "created_at": created,
        "updated_at": updated,
        "response": response,
    }
