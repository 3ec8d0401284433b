"""What the "Is it working?" page says and draws, as pure functions of the outcome frames.

The frames are those of the issue 13 contract (`data_access.api.program_outcomes` and
`program_detail`): `estimates` rows (exact, or the privacy-protected public table, which
carries `served_display`, `matched_display`, `comparison_display` and nulls whatever is
hidden), `balance`, `trajectory` and `served_students`. Nothing here reads data or knows
the viewer: a protected row arrives with its hidden figures already null, and every
function below shows a null as words ("hidden", "too few students to tell"), never as a
number.

Wording rules (issue 13, "Who asks, and what they see"):
- each estimate has one sentence a work group can read aloud, in the measure's unit, saying
  which side is better and the 95% confidence interval, followed by how the comparison was
  built (students were not assigned at random);
- `too_few` says "too few students to tell", `not_comparable` that the comparison is not
  credible, and neither shows an effect;
- when the naive comparison (served against every unserved student) points the other way
  from the matched one, a note says why: programs serve students who are already struggling.

Charts follow `domain.presentation` (Okabe-Ito colours, a marker symbol or dash as a second
cue so they read in greyscale, `chart_text(meeting)` sizes) and `ui.components.figure_layout`
(automargins, legend above the plot).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any, Final

import plotly.graph_objects as go
import polars as pl

from domain.presentation import (
    BALANCE_LABELS,
    ESTIMATED_VERDICTS,
    HIDDEN_COLOUR,
    LINE_STYLES,
    LOWER_IS_BETTER,
    OUTCOME_LABELS,
    PALETTE,
    TEXT_COLOUR,
    VERDICT_LABELS,
    VERDICT_STYLES,
    chart_text,
)
from domain.school_year import label as school_year_label
from domain.vocabulary import GENDERS, RACE_ETHNICITIES, UNKNOWN_GROUP
from ui.components import figure_layout
from ui.text import plain_html

Row = Mapping[str, Any]

MINUS: Final = "\u2212"
#: How comparison students were found, said after every estimate (issue 13's sentence).
MATCHING_NOTE: Final = (
    "Students were not assigned at random; the comparison matches them on school, grade, "
    "absence, failing marks, prior test results and need."
)
#: Why a naive comparison misleads, said when it points the other way (issue 13).
NAIVE_NOTE: Final = (
    "programs serve students who are already struggling, so the naive figure usually makes "
    "a program look harmful"
)
#: The What Works Clearinghouse bands of a baseline difference in standard deviations
#: (WWC Procedures and Standards Handbook, version 5.0, 2022, "baseline equivalence"):
#: up to 0.05 satisfies the standard, up to 0.25 satisfies it with a statistical
#: adjustment, more does not.
WWC_SATISFIED: Final = 0.05
WWC_ADJUSTED: Final = 0.25
#: What an outcome is about, in a sentence ("... makes a difference to <topic>").
TOPICS: Final = {
    "absence_rate": "absence",
    "core_fails": "failing core marks",
    "on_track": "being on track at the end of grade 9",
    "fafsa_completed": "FAFSA completion",
    "graduated": "graduation",
    "enrolled_postsecondary": "college enrollment",
    "persisted": "a second year of college",
}
#: Yes/no measures: "were 4.0 percentage points more likely <to ...>".
LIKELY_TO: Final = {
    "on_track": "to be on track at the end of grade 9",
    "fafsa_completed": "to complete the FAFSA by June 30",
    "graduated": "to graduate",
    "enrolled_postsecondary": "to enroll in college",
    "persisted": "to return for a second year of college",
}
#: The baseline covariates of the balance table (the method's names), in words.
COVARIATE_LABELS: Final = {
    "school_id": "School",
    "grade_level": "Grade",
    "baseline_absence_rate": "Absence rate before the start (%)",
    "baseline_core_fails": "Failing core marks before the start",
    "prior_proficiency": "Proficient on the prior test",
    "prior_proficient": "Proficient on the prior test",
    "english_learner": "English learner",
    "disability": "Disability",
    "econ_disadvantaged": "Economically disadvantaged",
}
SERVICE_LABELS: Final = {
    "college_access": "college access",
    "behavioral_health": "behavioral health",
}


# --- numbers and words -------------------------------------------------------------------


def _known(value: Any) -> bool:
    return value is not None and not (isinstance(value, float) and math.isnan(value))


def decimals(measure: str) -> int:
    """Failing marks per student to two decimals; percents and percentage points to one."""
    return 2 if measure == "core_fails" else 1


def signed(value: float, places: int) -> str:
    """`-2.8` -> `−2.8`, `2.8` -> `+2.8` (a true minus sign; zero unsigned)."""
    text = f"{abs(value):.{places}f}"
    if float(text) == 0:
        return text
    return f"{MINUS}{text}" if value < 0 else f"+{text}"


def plural(count: float | str, singular: str, many: str | None = None) -> str:
    """`singular` when the number shown is exactly one ("1", "1.0", "−1.00"), else the
    plural."""
    try:
        one = abs(float(str(count).replace(MINUS, "-"))) == 1
    except ValueError:
        one = False
    return singular if one else (many or singular + "s")


def unit(measure: str, shown: str) -> str:
    """The unit of an effect of `measure` whose magnitude is shown as `shown`."""
    if measure == "core_fails":
        return plural(shown, "failing core mark") + " per student"
    return plural(shown, "percentage point")


def mean_text(measure: str, value: Any) -> str:
    """A group mean in display units: `12.4%`, or `0.85` failing marks per student."""
    if not _known(value):
        return "—"
    return f"{value:.2f}" if measure == "core_fails" else f"{value:.1f}%"


def count_words(display: Any) -> str | None:
    """A count as the sentence says it: `"35"` -> `35`, `"<10"` -> `fewer than 10`; None for
    `"*"` or nothing (a count hidden so that it cannot be worked out)."""
    if display is None:
        return None
    text = str(display)
    if text.startswith("<"):
        return f"fewer than {text[1:]}"
    return text if text.isdigit() else None


def count_display(row: Row, name: str) -> str:
    """What a count cell shows: the row's `<name>_display` ("123", "<10", "*"), else the
    integer, else `*`: never a number that is null."""
    display = row.get(f"{name}_display")
    if display is not None:
        return str(display)
    value: Any = row.get(name)
    return f"{int(value)}" if _known(value) else "*"


def service_label(service_type: str) -> str:
    return SERVICE_LABELS.get(service_type, service_type.replace("_", " "))


def program_names(rows: pl.DataFrame, org_names: Mapping[str, str]) -> dict[tuple[str, str], str]:
    """(org_id, service_type) -> the program's name: the organisation's name, with the
    service type when the organisation runs more than one program in `rows`."""
    programs = rows.select("org_id", "service_type").unique().sort("org_id", "service_type")
    per_org = programs.group_by("org_id").len()
    several = set(per_org.filter(pl.col("len") > 1)["org_id"].to_list())
    names: dict[tuple[str, str], str] = {}
    for org_id, service_type in programs.iter_rows():
        name = org_names.get(org_id, org_id)
        if org_id in several:
            name = f"{name} ({service_label(service_type)})"
        names[(org_id, service_type)] = name
    return names


# --- the sentence a work group reads aloud -----------------------------------------------


def _interval(row: Row, places: int, *, magnitudes: bool) -> str:
    low, high = float(row["ci_low"]), float(row["ci_high"])
    if magnitudes:  # both ends on one side of zero: said as sizes, smaller first
        small, large = sorted((abs(low), abs(high)))
        return f"95% CI {small:.{places}f} to {large:.{places}f}"
    return f"95% CI {signed(low, places)} to {signed(high, places)}"


def _estimate_sentence(row: Row, program: str) -> str:
    measure = str(row["measure"])
    places = decimals(measure)
    effect = float(row["effect"])
    size = f"{abs(effect):.{places}f}"
    served = f"Students served by {program}"
    others = "similar students who were not served"
    if row["verdict"] == "no_difference":
        served = f"No clear difference: students served by {program}"
        difference = (
            f"the difference, {signed(effect, places)} {unit(measure, signed(effect, places))} "
            f"({_interval(row, places, magnitudes=False)}), could be zero"
        )
        if measure == "absence_rate":
            return f"{served} missed about as many school days as {others}: {difference}."
        if measure == "core_fails":
            return f"{served} had about as many failing core marks as {others}: {difference}."
        return f"{served} were about as likely {LIKELY_TO[measure]} as {others}: {difference}."
    interval = _interval(row, places, magnitudes=True)
    if measure == "absence_rate":
        more = "fewer" if effect < 0 else "more"
        return (
            f"{served} missed {size} {more} {unit(measure, size)} of school days than {others} "
            f"({interval})."
        )
    if measure == "core_fails":
        more = "fewer" if effect < 0 else "more"
        return f"{served} had {size} {more} {unit(measure, size)} than {others} ({interval})."
    more = "more" if effect > 0 else "less"
    return (
        f"{served} were {size} {unit(measure, size)} {more} likely {LIKELY_TO[measure]} than "
        f"{others} ({interval})."
    )


def _too_few_sentence(row: Row, program: str) -> str:
    topic = TOPICS[str(row["measure"])]
    matched = count_words(row.get("matched_display", _int_text(row.get("matched"))))
    served = count_words(row.get("served_display", _int_text(row.get("served"))))
    head = f"Too few students to tell whether {program} makes a difference to {topic}"
    if matched is None or served is None:
        return f"{head}: too few of its students could be matched with similar students who were not served."
    if matched.startswith("fewer") and served.startswith("fewer"):
        return f"{head}: it served {served} students."
    verb = "were" if matched.startswith("fewer") else plural(matched, "was", "were")
    return (
        f"{head}: {matched} of {served} served {plural(served, 'student')} {verb} matched with "
        "similar students who were not served."
    )


def _int_text(value: Any) -> str | None:
    return f"{int(value)}" if _known(value) else None


def outcome_sentence(row: Row, program: str) -> str:
    """The sentence a work group reads aloud about one estimate row.

    `better`/`worse`: the effect as a size in the measure's unit, the side it falls on and
    the interval, then how the comparison was built. `no_difference` (the interval contains
    zero): "about as many/as likely", with the signed difference and interval. `too_few`
    and `not_comparable` show no effect; neither does a protected row whose effect is
    hidden (null) whatever its verdict.
    """
    measure, verdict = str(row["measure"]), str(row["verdict"])
    if verdict == "too_few":
        return _too_few_sentence(row, program)
    if verdict == "not_comparable":
        return (
            f"No effect is shown for {program} on {TOPICS[measure]}: even after matching, the "
            "students it serves differ too much from students it does not serve for the "
            "comparison to be credible."
        )
    if not all(_known(row.get(c)) for c in ("effect", "ci_low", "ci_high")):
        return (
            f"The estimate for {program} on {TOPICS[measure]} is hidden to protect privacy: one "
            "of the groups compared has too few students."
        )
    return f"{_estimate_sentence(row, program)} {MATCHING_NOTE}"


def disagrees(row: Row) -> bool:
    """The naive and the matched effects are both shown and point in opposite directions."""
    effect: Any = row.get("effect")
    naive: Any = row.get("naive_effect")
    if not (_known(effect) and _known(naive)):
        return False
    return float(effect) * float(naive) < 0


def naive_note(row: Row) -> str | None:
    """Said beside an estimate whose naive comparison points the other way (issue 13)."""
    if not disagrees(row):
        return None
    measure = str(row["measure"])
    places = decimals(measure)
    naive = signed(float(row["naive_effect"]), places)
    return (
        f"The naive comparison (served students against every student who was not served) "
        f"gives {naive} {unit(measure, naive)}, the other way round: {NAIVE_NOTE}."
    )


def effect_size_text(row: Row) -> str:
    """`Hedges' g −0.21` or `Cox index +0.35`; `—` without one or without an estimate."""
    value: Any = row.get("effect_size")
    if row["verdict"] not in ESTIMATED_VERDICTS or not _known(value):
        return "—"
    kind = "Cox index" if row.get("effect_size_kind") == "cox_index" else "Hedges' g"
    return f"{kind} {signed(float(value), 2)}"


def effect_text(row: Row) -> str:
    """The effect with its interval, `−2.8 (−4.1 to −1.5)`; words when there is none."""
    verdict = str(row["verdict"])
    if verdict in ("too_few", "not_comparable"):
        return VERDICT_LABELS[verdict]
    if not all(_known(row.get(c)) for c in ("effect", "ci_low", "ci_high")):
        return "hidden"
    places = decimals(str(row["measure"]))
    effect, low, high = (signed(float(row[c]), places) for c in ("effect", "ci_low", "ci_high"))
    return f"{effect} ({low} to {high})"


def _before_after(measure: str, before: Any, after: Any) -> str:
    if measure in LOWER_IS_BETTER:
        if not (_known(before) or _known(after)):
            return "—"
        return f"{mean_text(measure, before)} → {mean_text(measure, after)}"
    return mean_text(measure, after)


def _naive_text(row: Row) -> str:
    value: Any = row.get("naive_effect")
    if not _known(value):
        return "—"
    text = signed(float(value), decimals(str(row["measure"])))
    return f"{text} (other way)" if disagrees(row) else text


# --- the program list ---------------------------------------------------------------------

#: The columns of `program_table` a page shows, with their headings.
TABLE_COLUMNS: Final = {
    "program": "Program",
    "year": "School year",
    "outcome": "Outcome",
    "served": "Served",
    "matched": "Matched",
    "comparison": "Comparison",
    "served_change": "Served: before → after",
    "comparison_change": "Comparison: before → after",
    "effect": "Effect (95% CI)",
    "effect_size": "Effect size",
    "balance": "Balance",
    "naive": "Naive",
    "verdict": "Verdict",
}


def program_table(rows: pl.DataFrame, org_names: Mapping[str, str]) -> pl.DataFrame:
    """One text row per estimate row (program-year and measure), in `rows`' order: the
    columns of `TABLE_COLUMNS` plus the keys `school_year`, `org_id`, `service_type`,
    `measure` (to open a program) and `sentence` and `note` (the naive note, or "")."""
    names = program_names(rows, org_names)
    records = []
    for row in rows.iter_rows(named=True):
        measure = str(row["measure"])
        program = names[(row["org_id"], row["service_type"])]
        balance = row.get("balance")
        records.append(
            {
                "school_year": row["school_year"],
                "org_id": row["org_id"],
                "service_type": row["service_type"],
                "measure": measure,
                "program": program,
                "year": school_year_label(int(row["school_year"])),
                "outcome": OUTCOME_LABELS.get(measure, measure),
                "served": count_display(row, "served"),
                "matched": count_display(row, "matched"),
                "comparison": count_display(row, "comparison"),
                "served_change": _before_after(
                    measure, row.get("served_before"), row.get("served_after")
                ),
                "comparison_change": _before_after(
                    measure, row.get("comparison_before"), row.get("comparison_after")
                ),
                "effect": effect_text(row),
                "effect_size": effect_size_text(row),
                "balance": BALANCE_LABELS.get(str(balance), "—") if balance else "—",
                "naive": _naive_text(row),
                "verdict": VERDICT_LABELS.get(str(row["verdict"]), str(row["verdict"])),
                "sentence": outcome_sentence(row, program),
                "note": naive_note(row) or "",
            }
        )
    schema = {
        "school_year": pl.Int64,
        "org_id": pl.String,
        "service_type": pl.String,
        "measure": pl.String,
        **dict.fromkeys(TABLE_COLUMNS, pl.String),
        "sentence": pl.String,
        "note": pl.String,
    }
    return pl.DataFrame(records, schema=schema)


# --- charts ---------------------------------------------------------------------------------

NBSP: Final = "\u00a0"


def _better_axis_title(measure: str) -> str:
    """The effect axis's title, centred under zero (the axis is symmetric about it): the
    better side named on its side of zero."""
    gap = NBSP * 4
    middle = "percentage points" if measure != "core_fails" else "failing marks per student"
    if measure in LOWER_IS_BETTER:
        return f"← better{gap}{middle}{gap}worse →"
    return f"← worse{gap}{middle}{gap}better →"


#: Share of each half of the effect axis left empty past the widest interval, for the
#: value labels.
EFFECT_HEADROOM: Final = 0.3


def effect_figure(
    rows: pl.DataFrame, org_names: Mapping[str, str], *, measure: str, meeting: bool = False
) -> go.Figure:
    """The effect of every program on `measure`: a point and its 95% interval per program,
    a zero line, the better side named under the axis, one colour and marker symbol per
    verdict (better, worse, no clear difference). Rows without a shown effect (too few,
    not comparable, hidden for privacy) are not drawn: `not_drawn` lists them.

    The x axis is symmetric about zero with `EFFECT_HEADROOM` to spare, so the axis title
    is centred on the zero line and a value label above a point stays inside the figure.
    """
    text = chart_text(meeting)
    part = rows.filter(
        (pl.col("measure") == measure)
        & pl.col("verdict").is_in(ESTIMATED_VERDICTS)
        & pl.col("effect").is_not_null()
        & pl.col("ci_low").is_not_null()
        & pl.col("ci_high").is_not_null()
    )
    names = program_names(rows, org_names)
    several_years = part["school_year"].n_unique() > 1
    places = decimals(measure)
    fig = go.Figure()

    def label(row: Row) -> str:
        name = names[(row["org_id"], row["service_type"])]
        if several_years:
            name = f"{name}, {school_year_label(int(row['school_year']))}"
        return plain_html(name)

    order = [label(r) for r in part.iter_rows(named=True)]
    for verdict in ESTIMATED_VERDICTS:
        group = [r for r in part.iter_rows(named=True) if r["verdict"] == verdict]
        if not group:
            continue
        colour, symbol = VERDICT_STYLES[verdict]
        effects = [float(r["effect"]) for r in group]
        fig.add_scatter(
            x=effects,
            y=[label(r) for r in group],
            mode="markers+text",
            name=VERDICT_LABELS[verdict],
            marker={"color": colour, "symbol": symbol, "size": 18 if meeting else 14},
            line={"color": colour},
            error_x={
                "type": "data",
                "symmetric": False,
                "array": [float(r["ci_high"]) - e for r, e in zip(group, effects, strict=True)],
                "arrayminus": [e - float(r["ci_low"]) for r, e in zip(group, effects, strict=True)],
                "color": colour,
                "thickness": 4,
                "width": 10,
            },
            text=[signed(e, places) for e in effects],
            textposition="top center",
            textfont={"size": text.value, "color": TEXT_COLOUR},
            cliponaxis=False,
            hovertemplate="%{y}: %{text} (95% CI %{customdata})<extra></extra>",
            customdata=[
                f"{signed(float(r['ci_low']), places)} to {signed(float(r['ci_high']), places)}"
                for r in group
            ],
        )
    widest = max([abs(v) for v in [*part["ci_low"].to_list(), *part["ci_high"].to_list()]] or [1.0])
    reach = (widest or 1.0) / (1 - EFFECT_HEADROOM)
    fig.add_vline(x=0, line={"color": TEXT_COLOUR, "width": 2})
    fig.update_xaxes(
        range=[-reach, reach],
        zeroline=False,
        showgrid=True,
        gridcolor="#E5E5E5",
        title=_better_axis_title(measure),
    )
    fig.update_yaxes(categoryorder="array", categoryarray=list(reversed(order)), showgrid=False)
    rows_drawn = max(1, len(order))
    per_row = 80 if meeting else 64
    height = 160 + 2 * text.legend + per_row * rows_drawn
    return figure_layout(fig, height=height, meeting=meeting)


def not_drawn(rows: pl.DataFrame, org_names: Mapping[str, str], *, measure: str) -> list[str]:
    """The programs of `measure` that `effect_figure` leaves out, each with why."""
    names = program_names(rows, org_names)
    missing = []
    for row in rows.filter(pl.col("measure") == measure).iter_rows(named=True):
        shown = row["verdict"] in ESTIMATED_VERDICTS and all(
            _known(row.get(c)) for c in ("effect", "ci_low", "ci_high")
        )
        if not shown:
            why = VERDICT_LABELS.get(str(row["verdict"]), str(row["verdict"]))
            if row["verdict"] in ESTIMATED_VERDICTS:
                why = "hidden to protect privacy"
            missing.append(f"{names[(row['org_id'], row['service_type'])]}: {why.lower()}")
    return missing


def month_label(offset: int) -> str:
    """`0` -> `Start`, `-2` -> `−2`, `3` -> `+3` (months relative to the start month)."""
    if offset == 0:
        return "Start"
    return f"{MINUS}{-offset}" if offset < 0 else f"+{offset}"


def trajectory_figure(trajectory: pl.DataFrame, *, meeting: bool = False) -> go.Figure:
    """Absence rate by month relative to the start month: served students against their
    matched comparison, a dash and a marker each, the start month marked by a vertical line
    and its tick labelled "Start". A hidden point (null, too few students) is a gap."""
    text = chart_text(meeting)
    fig = go.Figure()
    offsets = sorted({int(v) for v in trajectory["month_offset"].to_list()})
    names = {"served": "Served students", "comparison": "Matched comparison"}
    for i, group in enumerate(("served", "comparison")):
        part = trajectory.filter(pl.col("group") == group).sort("month_offset")
        if part.height == 0:
            continue
        dash, symbol = LINE_STYLES[i][0], LINE_STYLES[i][1]
        fig.add_scatter(
            x=part["month_offset"].to_list(),
            y=part["absence_rate"].to_list(),
            mode="lines+markers",
            name=names[group],
            connectgaps=False,
            line={"width": 4, "color": PALETTE[i], "dash": dash},
            marker={"size": 12, "symbol": symbol, "color": PALETTE[i]},
            hovertemplate="Month %{x}: %{y:.1f}% absent<extra>" + names[group] + "</extra>",
        )
    fig.add_vline(x=0, line={"color": HIDDEN_COLOUR, "width": 2, "dash": "dot"})
    fig.update_xaxes(
        title="Months before and after the start of the service",
        tickmode="array",
        tickvals=offsets,
        ticktext=[month_label(o) for o in offsets],
        showgrid=False,
    )
    fig.update_yaxes(title="% of school days missed", ticksuffix="%", rangemode="tozero")
    return figure_layout(fig, height=460 + 2 * text.legend, meeting=meeting)


# --- balance, served students, download -------------------------------------------------


def balance_band(smd: Any) -> str:
    """The WWC band of one baseline difference (|SMD| in standard deviations)."""
    if not _known(smd):
        return "—"
    size = abs(float(smd))
    if size <= WWC_SATISFIED:
        return BALANCE_LABELS["ok"]
    if size <= WWC_ADJUSTED:
        return BALANCE_LABELS["adjusted"]
    return BALANCE_LABELS["not_comparable"]


def covariate_label(covariate: str) -> str:
    return COVARIATE_LABELS.get(covariate, covariate.replace("_", " ").capitalize())


def balance_table(balance: pl.DataFrame, measure: str) -> pl.DataFrame:
    """The baseline balance of one measure's matching: per covariate, the served students'
    mean, the pool's and the matched comparison's, the standardised mean difference before
    and after matching and its WWC band (after matching)."""
    part = balance.filter(pl.col("measure") == measure)
    return pl.DataFrame(
        [
            {
                "covariate": covariate_label(str(r["covariate"])),
                "served_mean": r["served_mean"],
                "pool_mean": r["pool_mean"],
                "comparison_mean": r["comparison_mean"],
                "smd_before": r["smd_before"],
                "smd_after": r["smd_after"],
                "band": balance_band(r["smd_after"]),
            }
            for r in part.iter_rows(named=True)
        ],
        schema={
            "covariate": pl.String,
            "served_mean": pl.Float64,
            "pool_mean": pl.Float64,
            "comparison_mean": pl.Float64,
            "smd_before": pl.Float64,
            "smd_after": pl.Float64,
            "band": pl.String,
        },
    )


def served_table(served: pl.DataFrame, school_names: Mapping[str, str]) -> pl.DataFrame:
    """The served students a user may see, for the list: id, name, school, grade, start
    date, whether a comparison student was found, and the dose where the data has it."""
    return served.sort("last_name", "first_name", "student_id").select(
        "student_id",
        (pl.col("first_name") + " " + pl.col("last_name")).alias("name"),
        pl.col("school_id").replace(dict(school_names)).alias("school"),
        "grade_level",
        "start_date",
        "matched",
        "sessions",
        "hours",
    )


def effect_chart_measures(rows: pl.DataFrame) -> list[str]:
    """The measures present in `rows`, in the page's order."""
    present = set(rows["measure"].to_list())
    return [m for m in OUTCOME_LABELS if m in present]


def sentences(rows: pl.DataFrame, org_names: Mapping[str, str]) -> Sequence[tuple[str, str | None]]:
    """(sentence, naive note) of every row, in order."""
    names = program_names(rows, org_names)
    return [
        (outcome_sentence(r, names[(r["org_id"], r["service_type"])]), naive_note(r))
        for r in rows.iter_rows(named=True)
    ]


# --- filters --------------------------------------------------------------------------------

#: The subgroups a page can narrow the figures to (`group_by`, `group_value`), as the
#: pipeline cube spells them: Booleans "Y"/"N", blanks "unknown" (indicators/pipeline.py).
SUBGROUP_FIELDS: Final = {
    "race_ethnicity": "Race/ethnicity",
    "gender": "Gender",
    "english_learner": "English learner",
    "disability": "Disability",
    "econ_disadvantaged": "Economically disadvantaged",
}


def subgroup_options() -> list[tuple[str, str]]:
    """Every (group_by, group_value) of the subgroup filter, in vocabulary order, "unknown"
    last in each field (the school is a filter of its own)."""
    values: dict[str, tuple[str, ...]] = {
        "race_ethnicity": RACE_ETHNICITIES,
        "gender": GENDERS,
        "english_learner": ("Y", "N"),
        "disability": ("Y", "N"),
        "econ_disadvantaged": ("Y", "N"),
    }
    return [
        (field, value) for field in SUBGROUP_FIELDS for value in (*values[field], UNKNOWN_GROUP)
    ]


def subgroup_label(option: tuple[str, str] | None) -> str:
    """`("english_learner", "Y")` -> `English learner: yes`; None -> `All students`."""
    if option is None:
        return "All students"
    field, value = option
    words = {"Y": "yes", "N": "no", "F": "female", "M": "male", "X": "nonbinary"}
    shown = words.get(value, value.replace("_", " "))
    return f"{SUBGROUP_FIELDS.get(field, field)}: {shown}"
