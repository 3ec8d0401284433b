"""Realignment: where unmet need and open partner capacity sit at different schools.

Issue 14 part 2 ("a realignment view: where unmet need and open capacity sit at different
schools ... sorted by unmet need"). Pure Polars over frames the data layer reads:

- `unmet`: school_id, need, unmet (null when hidden), unmet_display: the **unmet need**
  of each school and need, the flagged students no service addressing that need reaches
  (`unserved + served_other` = `flagged - served_addressing`; docs/indicators.md, "Need
  and coverage"), as `unmet_need` reads it from the coverage the viewer sees.
- `open_slots`: `indicators.capacity.open_slots` of the school year, as the viewer may see
  it (open_low/open_high/open_display), with `org_name`. For a protected viewer another
  organisation's row is the slots it offers (open_low 0, open_high the slots, "up to
  25"): open slots would reveal how many students it serves (docs/access-rules.md,
  "Need and coverage", rule 6).
- `addressing`: need -> the service types that address it
  (`Settings.service_types_addressing`).

Rules:
- The unmet need comes from the SAME figures the coverage page shows the viewer
  (`indicators.coverage_protection`: `protect_coverage` for protected viewers and in
  meeting mode, `exact_coverage` otherwise). It is shown exactly only where `flagged`
  and `served_addressing` are both shown exactly, as their difference (then at least
  min_cell, by rule 2, or the viewer is exact); otherwise it is hidden: `<10` where
  `flagged` itself is `<10`, `*` otherwise. Shown beside the coverage page, it therefore
  tells nothing the page does not (docs/access-rules.md, "Need and coverage", rule 5: a
  hidden `served_addressing` is never `flagged` less a shown unmet need).
- Capacity counts only when its partner is accepting referrals and its service type
  addresses the need. A school's **open slots there** are those of capacity rows at that
  school plus those offered at any school (`ANY_SCHOOL`).
- A school and need are **uncovered** when the open slots there cannot take the unmet
  need: the most they could be (`open_high`) is below it. A row of the result pairs an
  uncovered school and need with one partner's capacity of an addressing type at another
  school that may have open slots as the viewer sees it (`open_high > 0`: open slots
  known to be above 0, or, for a protected viewer, slots offered). Rows are sorted by
  unmet need (largest first; hidden ones last), then by the partner's open slots
  (`open_low`, then `open_high`: for a protected viewer, the slots offered).
- Whether a school and need with a hidden unmet need appears depends only on shown
  figures: it appears exactly when no open slot can be there (`open_high` = 0).
  Sentences are built from the shown figures only, in the words of what is shown: a
  partner "has 25 open ... slots" where its open slots are shown, "offers up to 60 ...
  slots" where only its slots are (`open_low` < `open_high`); the school "has no partner
  with open slots there" for an exact viewer, "no partner offering slots there" for a
  protected one (`exact=False`), "only 10 open slots there" or "only up to 30 open
  slots there" otherwise.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Final

import polars as pl

from domain.vocabulary import FLAGS
from indicators.capacity import ANY_SCHOOL
from indicators.suppression import SUPPRESSED

#: The columns of `realignment`, in order.
REALIGNMENT_COLUMNS: Final = (
    "school_id",
    "school_name",
    "need",
    "unmet",
    "unmet_display",
    "open_here_display",
    "org_id",
    "org_name",
    "partner_school_id",
    "partner_school_name",
    "service_type",
    "open_display",
    "open_low",
    "sentence",
)

#: How a sentence names the students of each need ("140 chronically absent students").
NEED_STUDENTS: Final[dict[str, str]] = {
    "chronic_absence": "chronically absent students",
    "course_failure": "students failing a course",
    "below_proficient": "students below proficient",
    "fafsa_not_completed": "students without a completed FAFSA",
}
assert set(NEED_STUDENTS) == set(FLAGS), "every need (domain.vocabulary.FLAGS) needs words"


def service_words(service_type: str) -> str:
    """`family_support` -> "family-support", as in "25 open family-support slots"."""
    return service_type.replace("_", "-")


def _types_words(types: Sequence[str]) -> str:
    """attendance, mentoring, family support or behavioral health."""
    words = [t.replace("_", " ") for t in types]
    if len(words) <= 1:
        return "".join(words)
    return f"{', '.join(words[:-1])} or {words[-1]}"


def _empty() -> pl.DataFrame:
    schema: dict[str, pl.DataType | type[pl.DataType]] = dict.fromkeys(
        REALIGNMENT_COLUMNS, pl.String
    )
    schema.update(unmet=pl.Int64, open_low=pl.Int64)
    return pl.DataFrame(schema=schema)


#: The columns of `unmet_need`, in order.
UNMET_COLUMNS: Final = ("school_id", "need", "unmet", "unmet_display")


def unmet_need(coverage: pl.DataFrame) -> pl.DataFrame:
    """The unmet need of each school and need (UNMET_COLUMNS) from the coverage rows a
    viewer sees (`ProtectedCoverage.schools` of `protect_coverage` or `exact_coverage`):
    `flagged - served_addressing` where both are shown exactly, else hidden (`unmet`
    null; `unmet_display` is `flagged`'s `<10` where flagged is `<10`, else `*`). Uses
    shown figures only, so it can reveal nothing the coverage page does not."""
    both = pl.col("flagged").is_not_null() & pl.col("served_addressing").is_not_null()
    value = pl.when(both).then(pl.col("flagged") - pl.col("served_addressing"))
    small = pl.col("flagged").is_null() & (pl.col("flagged_display") != SUPPRESSED)
    return coverage.select(
        "school_id",
        "need",
        value.cast(pl.Int64).alias("unmet"),
        pl.when(both)
        .then(value.cast(pl.String))
        .when(small)
        .then(pl.col("flagged_display"))
        .otherwise(pl.lit(SUPPRESSED))
        .alias("unmet_display"),
    )


def realignment(
    unmet: pl.DataFrame,
    open_slots: pl.DataFrame,
    addressing: Mapping[str, Sequence[str]],
    school_names: Mapping[str, str],
    *,
    exact: bool,
) -> pl.DataFrame:
    """Uncovered school x need paired with open capacity elsewhere (REALIGNMENT_COLUMNS;
    the module's rules), sorted by unmet need then the partner's open slots. `exact`
    says whether the viewer has exact rights (it chooses the words, never a figure)."""
    pairs = pl.DataFrame(
        [(n, t) for n, types in addressing.items() for t in types],
        schema={"need": pl.String, "service_type": pl.String},
        orient="row",
    )
    capacity = (
        open_slots.filter(pl.col("accepting_referrals"))
        .select(
            "org_id",
            "org_name",
            "school_id",
            "service_type",
            "open_low",
            "open_high",
            "open_display",
        )  # fmt: skip
        .join(pairs, on="service_type")
    )
    here_specific = (
        capacity.filter(pl.col("school_id") != ANY_SCHOOL)
        .group_by("school_id", "need")
        .agg(pl.col("open_low").sum().alias("_low"), pl.col("open_high").sum().alias("_high"))
    )
    here_any = (
        capacity.filter(pl.col("school_id") == ANY_SCHOOL)
        .group_by("need")
        .agg(
            pl.col("open_low").sum().alias("_any_low"), pl.col("open_high").sum().alias("_any_high")
        )
    )
    needs = (
        unmet.select(
            "school_id",
            "need",
            "unmet_display",
            pl.col("unmet").alias("_unmet"),
            pl.col("unmet").is_null().alias("_hidden"),
        )
        .join(here_specific, on=["school_id", "need"], how="left")
        .join(here_any, on="need", how="left")
        .with_columns(
            open_here_low=(pl.col("_low").fill_null(0) + pl.col("_any_low").fill_null(0)),
            open_here_high=(pl.col("_high").fill_null(0) + pl.col("_any_high").fill_null(0)),
        )
        .filter(
            pl.when(pl.col("_hidden"))
            .then(pl.col("open_here_high") == 0)
            .otherwise((pl.col("_unmet") > 0) & (pl.col("open_here_high") < pl.col("_unmet")))
        )
    )
    elsewhere = capacity.filter((pl.col("school_id") != ANY_SCHOOL) & (pl.col("open_high") > 0))
    rows = needs.join(elsewhere, on="need", suffix="_partner").filter(
        pl.col("school_id_partner") != pl.col("school_id")
    )
    if rows.height == 0:
        return _empty()
    names = pl.DataFrame(
        {"_id": list(school_names), "_name": list(school_names.values())},
        schema={"_id": pl.String, "_name": pl.String},
    )
    shown = (
        rows.with_columns(
            unmet=pl.col("_unmet"),
            open_here_display=pl.when(pl.col("open_here_low") == pl.col("open_here_high"))
            .then(pl.col("open_here_low").cast(pl.String))
            .when(pl.col("open_here_low") == 0)
            .then(pl.format("up to {}", pl.col("open_here_high")))
            .otherwise(pl.format("{} to {}", pl.col("open_here_low"), pl.col("open_here_high"))),
            partner_school_id=pl.col("school_id_partner"),
            _sort=pl.when(pl.col("_hidden")).then(-1).otherwise(pl.col("_unmet")),
        )
        .join(names, left_on="school_id", right_on="_id", how="left")
        .with_columns(school_name=pl.col("_name").fill_null(pl.col("school_id")))
        .drop("_name")
        .join(names, left_on="partner_school_id", right_on="_id", how="left")
        .with_columns(partner_school_name=pl.col("_name").fill_null(pl.col("partner_school_id")))
        .sort(
            ["_sort", "open_low", "open_high", "school_id", "need", "org_id", "service_type"],
            descending=[True, True, True, False, False, False, False],
        )
    )
    sentences = [
        _sentence(row, addressing.get(row["need"], ()), exact=exact)
        for row in shown.iter_rows(named=True)
    ]
    return shown.with_columns(sentence=pl.Series(sentences, dtype=pl.String)).select(
        REALIGNMENT_COLUMNS
    )


def _sentence(row: Mapping[str, object], types: Sequence[str], *, exact: bool) -> str:
    """ "Family Resource Center has 25 open family-support slots at HS02; HS05 has 140
    chronically absent students with no attendance, mentoring, family support or
    behavioral health support and no partner with open slots there." Built from shown
    figures only and in their words (the module's rules): "offers up to 60 ... slots"
    where only the slots are shown; a `*` unmet need reads "a protected number (*) of"."""
    if row["open_here_display"] != "0":
        there = f"only {row['open_here_display']} open slots there"
    elif exact:
        there = "no partner with open slots there"
    else:
        there = "no partner offering slots there"
    count = (
        "a protected number (*) of"
        if row["unmet_display"] == SUPPRESSED
        else str(row["unmet_display"])
    )
    service = service_words(str(row["service_type"]))
    offer = (
        f"has {row['open_display']} open {service} slots"
        if row["open_low"] == row["open_high"]
        else f"offers up to {row['open_high']} {service} slots"
    )
    return (
        f"{row['org_name']} {offer} at {row['partner_school_name']}; "
        f"{row['school_name']} has {count} {NEED_STUDENTS[str(row['need'])]} "
        f"with no {_types_words(types)} support and {there}."
    )
