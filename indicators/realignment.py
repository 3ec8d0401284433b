"""Realignment: where unmet need and open partner capacity sit at different schools.

Issue 14 part 2 ("a realignment view: where unmet need and open capacity sit at different
schools ... sorted by unmet need"). Pure Polars over frames the data layer reads:

- `need`: school_id, need, unserved, served_other (the stored `coverage_need`; exact).
  The **unmet need** of a school and need is the flagged students no service addressing
  that need reaches: `unserved + served_other` (docs/indicators.md, "Need and coverage").
- `open_slots`: `indicators.capacity.open_slots` of the school year, as the viewer may see
  it (open_low/open_high/open_display), with `org_name`.
- `addressing`: need -> the service types that address it
  (`Settings.service_types_addressing`).

Rules:
- Capacity counts only when its partner is accepting referrals and its service type
  addresses the need. A school's **open slots there** are those of capacity rows at that
  school plus those offered at any school (`ANY_SCHOOL`).
- A school and need are **uncovered** when the open slots there cannot take the unmet
  need: the most they could be (`open_high`) is below it. A row of the result pairs an
  uncovered school and need with one partner's capacity of an addressing type at another
  school that certainly has open slots (`open_low > 0`). Rows are sorted by unmet need
  (largest first), then by the partner's open slots.
- Protected viewers (docs/access-rules.md rule 1, as indicators/suppression.py): an unmet count under
  `min_cell`, zero included, is shown as `<10` and its number is not in the frame
  (`unmet` null, rule 5). Whether such a school and need appears depends only on shown
  figures: it appears exactly when no open slot can be there (`open_high` = 0). Sentences
  are built from the shown figures only; open slots are always the viewer's
  `open_display`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Final

import polars as pl

from domain.vocabulary import FLAGS
from indicators.capacity import ANY_SCHOOL

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


def realignment(
    need: pl.DataFrame,
    open_slots: pl.DataFrame,
    addressing: Mapping[str, Sequence[str]],
    school_names: Mapping[str, str],
    *,
    exact: bool,
    min_cell: int,
) -> pl.DataFrame:
    """Uncovered school x need paired with open capacity elsewhere (REALIGNMENT_COLUMNS;
    the module's rules), sorted by unmet need then the partner's open slots."""
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
    unmet = (pl.col("unserved") + pl.col("served_other")).cast(pl.Int64)
    hidden = pl.lit(not exact) & (unmet < min_cell)
    needs = (
        need.select("school_id", "need", unmet.alias("_unmet"), hidden.alias("_hidden"))
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
    elsewhere = capacity.filter((pl.col("school_id") != ANY_SCHOOL) & (pl.col("open_low") > 0))
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
            unmet=pl.when(pl.col("_hidden")).then(None).otherwise(pl.col("_unmet")),
            unmet_display=pl.when(pl.col("_hidden"))
            .then(pl.lit(f"<{min_cell}"))
            .otherwise(pl.col("_unmet").cast(pl.String)),
            open_here_display=pl.when(pl.col("open_here_low") == pl.col("open_here_high"))
            .then(pl.col("open_here_low").cast(pl.String))
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
            ["_sort", "open_low", "school_id", "need", "org_id", "service_type"],
            descending=[True, True, False, False, False, False],
        )
    )
    sentences = [
        _sentence(row, addressing.get(row["need"], ())) for row in shown.iter_rows(named=True)
    ]
    return shown.with_columns(sentence=pl.Series(sentences, dtype=pl.String)).select(
        REALIGNMENT_COLUMNS
    )


def _sentence(row: Mapping[str, object], types: Sequence[str]) -> str:
    """ "Family Resource Center has 25 open family-support slots at HS02; HS05 has 140
    chronically absent students with no attendance, mentoring, family support or
    behavioral health support and no partner with open slots there." Built from shown
    figures only."""
    there = (
        "no partner with open slots there"
        if row["open_here_display"] == "0"
        else f"only {row['open_here_display']} open slots there"
    )
    return (
        f"{row['org_name']} has {row['open_display']} open "
        f"{service_words(str(row['service_type']))} slots at {row['partner_school_name']}; "
        f"{row['school_name']} has {row['unmet_display']} {NEED_STUDENTS[str(row['need'])]} "
        f"with no {_types_words(types)} support and {there}."
    )
