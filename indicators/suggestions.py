"""Suggested partners for a student: who could help, with room to take them (issue 14, part 3).

Pure Polars over five inputs (docs/indicators.md, "Suggested partners"):
- `students`: student_id, school_id and the four flags of `domain.vocabulary.FLAGS`
  (true = flagged; false or null = not, so a flag the viewer may not see never counts);
- `services`: the student's active services the viewer may see: student_id, org_id,
  service_type;
- `need_service_types`: the deployment setting `Settings.coverage_need_service_types`
  (which service types address which need);
- `open_capacity`: capacity rows as `indicators.capacity.open_slots` returns them for
  this viewer (org_id, school_id or `ANY_SCHOOL`, service_type, accepting_referrals,
  open_low, open_high, open_display): THE rule for open slots;
- `org_names`: org_id, org_name.

Rules (issue 14, part 3, "Matching a student to a partner"):
- An organisation is *suggested* for a student with a capacity row whose service type
  addresses one of the student's flags, at the student's school or at any school, that
  is accepting referrals and has open slots (`open_high > 0`: a protected range "0 to 9"
  may still have room). When the organisation has both a school row and an any-school row
  of that type, the one with more open slots is shown (the school's on a tie).
- An organisation already serving the student with a service type addressing one of the
  student's flags is listed as *already serving* (one row per such service type, with
  that type's capacity where the student's school has one), never suggested.
- Order per student: those already serving first (the partner to coordinate with), then
  the suggestions, most open slots first (open_low, then open_high, descending), then by
  organisation name and service type.
- `no_support` per student: flagged (any flag true) and no active service of a type
  addressing any of their flags. Someone who may not see every service of the student
  cannot know this; the caller then passes `services_complete=False` and gets null.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import polars as pl

from domain.vocabulary import FLAGS
from indicators.capacity import ANY_SCHOOL

SUGGESTED: Final = "suggested"
ALREADY_SERVING: Final = "already serving"

#: The columns of `Suggestions.partners`, in order.
SUGGESTION_COLUMNS: Final = (
    "student_id",
    "org_id",
    "org_name",
    "service_type",
    "needs",
    "school_id",
    "open_low",
    "open_high",
    "open_display",
    "status",
)

#: The columns of `Suggestions.students`, in order.
SUPPORT_COLUMNS: Final = ("student_id", "flagged", "no_support")

_SCHEMA: Final = {
    "student_id": pl.String,
    "org_id": pl.String,
    "org_name": pl.String,
    "service_type": pl.String,
    "needs": pl.List(pl.String),
    "school_id": pl.String,
    "open_low": pl.Int64,
    "open_high": pl.Int64,
    "open_display": pl.String,
    "status": pl.String,
}


@dataclass(frozen=True)
class Suggestions:
    """`partners`: SUGGESTION_COLUMNS, one row per student, organisation and service type;
    `students`: SUPPORT_COLUMNS, one row per student given."""

    partners: pl.DataFrame
    students: pl.DataFrame

    def for_student(self, student_id: str) -> pl.DataFrame:
        """One student's rows, in the order of the rule."""
        return self.partners.filter(pl.col("student_id") == student_id)


def _addressing(need_service_types: tuple[tuple[str, tuple[str, ...]], ...]) -> pl.DataFrame:
    """One row per (need, service_type) that addresses it."""
    return pl.DataFrame(
        [
            {"need": need, "service_type": service_type}
            for need, types in need_service_types
            for service_type in types
        ],
        schema={"need": pl.String, "service_type": pl.String},
    )


def _needs(students: pl.DataFrame) -> pl.DataFrame:
    """student_id, school_id, need, order: one row per true flag."""
    present = [f for f in FLAGS if f in students.columns]
    return (
        students.select("student_id", "school_id", *[pl.col(f).cast(pl.Boolean) for f in present])
        .unpivot(index=["student_id", "school_id"], variable_name="need", value_name="flag")
        .filter(pl.col("flag").fill_null(False))
        .with_columns(order=pl.col("need").replace_strict(FLAGS, range(len(FLAGS))))
        .select("student_id", "school_id", "need", "order")
    )


def _needs_list(frame: pl.DataFrame, keys: list[str]) -> pl.DataFrame:
    """`needs`: the addressed flags per `keys`, in the order of FLAGS."""
    return frame.group_by(keys).agg(
        needs=pl.col("need").sort_by("order").unique(maintain_order=True)
    )


def suggest_partners(
    students: pl.DataFrame,
    services: pl.DataFrame,
    need_service_types: tuple[tuple[str, tuple[str, ...]], ...],
    open_capacity: pl.DataFrame,
    org_names: pl.DataFrame,
    *,
    services_complete: bool = True,
) -> Suggestions:
    """The suggested partners of each student, and whether they have no support (the
    module's rules)."""
    needs = _needs(students)
    addressing = _addressing(need_service_types)
    names = org_names.select("org_id", "org_name")
    capacity = open_capacity.select(
        "org_id",
        pl.col("school_id").alias("capacity_school_id"),
        "service_type",
        "accepting_referrals",
        "open_low",
        "open_high",
        "open_display",
    )
    # The types that address each flagged student's needs, and the flags each addresses.
    wanted = _needs_list(
        needs.join(addressing, on="need"), ["student_id", "school_id", "service_type"]
    )
    serving_rows = (
        services.select("student_id", "org_id", "service_type")
        .unique()
        .join(wanted, on=["student_id", "service_type"])
    )
    serving_orgs = serving_rows.select("student_id", "org_id").unique()

    def best_row(rows: pl.DataFrame) -> pl.DataFrame:
        """Of a school row and an any-school row of one organisation and type, the one
        with more open slots (the school's on a tie)."""
        return (
            rows.with_columns(general=pl.col("capacity_school_id") == ANY_SCHOOL)
            .sort(
                ["student_id", "org_id", "service_type", "open_low", "open_high", "general"],
                descending=[False, False, False, True, True, False],
            )
            .unique(["student_id", "org_id", "service_type"], keep="first", maintain_order=True)
        )

    def at_school(rows: pl.DataFrame, on: list[str]) -> pl.DataFrame:
        """`rows` with the capacity rows at the student's school or at any school."""
        return rows.join(capacity, on=on).filter(
            (pl.col("capacity_school_id") == pl.col("school_id"))
            | (pl.col("capacity_school_id") == ANY_SCHOOL)
        )

    candidates = at_school(wanted, ["service_type"]).filter(
        pl.col("accepting_referrals") & (pl.col("open_high") > 0)
    )
    suggested = best_row(
        candidates.join(serving_orgs, on=["student_id", "org_id"], how="anti")
    ).with_columns(status=pl.lit(SUGGESTED))
    serving_capacity = best_row(at_school(serving_rows, ["org_id", "service_type"]))
    already = serving_rows.join(
        serving_capacity.select(
            "student_id", "org_id", "service_type", "capacity_school_id",
            "open_low", "open_high", "open_display",
        ),
        on=["student_id", "org_id", "service_type"],
        how="left",
    ).with_columns(status=pl.lit(ALREADY_SERVING))  # fmt: skip
    columns = [c for c in SUGGESTION_COLUMNS if c not in ("org_name", "school_id")]
    partners = (
        pl.concat(
            [
                already.select(*columns, "capacity_school_id"),
                suggested.select(*columns, "capacity_school_id"),
            ],
            how="vertical_relaxed",
        )
        .rename({"capacity_school_id": "school_id"})
        .join(names, on="org_id", how="left")
        .with_columns(
            pl.col("org_name").fill_null(pl.col("org_id")),
            rank=(pl.col("status") == SUGGESTED).cast(pl.Int8),
        )
        .sort(
            ["student_id", "rank", "open_low", "open_high", "org_name", "service_type"],
            descending=[False, False, True, True, False, False],
            nulls_last=True,
        )
        .select(SUGGESTION_COLUMNS)
    )
    partners = pl.DataFrame(schema=_SCHEMA).vstack(partners.cast(_SCHEMA))  # type: ignore[arg-type]
    supported = serving_rows.select("student_id").unique().with_columns(supported=pl.lit(True))
    flagged = needs.select("student_id").unique().with_columns(flagged=pl.lit(True))
    support = (
        students.select("student_id")
        .unique(maintain_order=True)
        .join(flagged, on="student_id", how="left")
        .join(supported, on="student_id", how="left")
        .with_columns(
            pl.col("flagged").fill_null(False),
            no_support=(
                pl.col("flagged").fill_null(False) & pl.col("supported").is_null()
                if services_complete
                else pl.lit(None, pl.Boolean)
            ),
        )
        .select(SUPPORT_COLUMNS)
    )
    return Suggestions(partners=partners, students=support)


def summaries(suggestions: Suggestions, *, shown: int = 2) -> pl.DataFrame:
    """One line per student for a list's column: the organisations already serving the
    student for their flags ("Already served by Mentors"), then the `shown` first
    suggestions with their open slots ("Family Resource Center (25 open)"), and how many
    more; null when there is neither. Columns student_id, help."""
    partners = suggestions.partners
    label = pl.format("{} ({} open)", pl.col("org_name"), pl.col("open_display"))
    suggested = (
        partners.filter(pl.col("status") == SUGGESTED)
        .unique(["student_id", "org_id"], keep="first", maintain_order=True)
        .group_by("student_id", maintain_order=True)
        .agg(first=label.head(shown), more=pl.len() - shown)
    )
    serving = (
        partners.filter(pl.col("status") == ALREADY_SERVING)
        .group_by("student_id", maintain_order=True)
        .agg(orgs=pl.col("org_name").unique(maintain_order=True))
    )
    more = pl.when(pl.col("more") > 0).then(pl.format(" and {} more", pl.col("more")))
    could = pl.col("first").list.join(", ") + more.otherwise(pl.lit(""))
    already = pl.lit("Already served by ") + pl.col("orgs").list.join(", ")
    return (
        suggestions.students.select("student_id")
        .join(serving, on="student_id", how="left")
        .join(suggested, on="student_id", how="left")
        .select(
            "student_id",
            help=pl.when(pl.col("orgs").is_not_null() & pl.col("first").is_not_null())
            .then(already + pl.lit("; could add ") + could)
            .when(pl.col("orgs").is_not_null())
            .then(already)
            .when(pl.col("first").is_not_null())
            .then(could),
        )
    )
