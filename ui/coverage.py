"""What the coverage page draws and says ("Where is help missing, and where is it
doubled?", issue 14): the heat map, the table and the sentences, built only from the
figures `data_access.coverage.coverage_view` hands out (exact, or as protected viewers
may see them: a hidden count is never in its input, so it cannot reach a figure)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Final

import plotly.graph_objects as go
import polars as pl

from domain.presentation import FONT_FAMILY, HIDDEN_COLOUR, TEXT_COLOUR, chart_text
from domain.vocabulary import FLAGS
from indicators.definitions import TIER_NAMES, flag_name, flag_title
from ui.figure_memo import memo_figure

#: Sequential scale for "share served by nobody" (light = few, dark = many), from white
#: to the Okabe-Ito blue and darker: one hue, readable in greyscale and by the colour-blind.
SHARE_SCALE: Final = ((0.0, "#F2F7FB"), (0.5, "#56B4E9"), (1.0, "#00466E"))
SERVICE_WORDS: Final = {
    "academic": "tutoring",
    "college_access": "college access",
    "behavioral_health": "behavioral health",
    "family_support": "family support",
}
#: How a sentence says that two partners provide one service type to the same students.
SERVICE_VERBS: Final = {"academic": "tutor", "mentoring": "mentor"}
TABLE_HEADERS: Final = {
    "school": "School",
    "need": "Need",
    "flagged_display": "Flagged",
    "served_addressing_display": "Served for this need",
    "served_addressing_with_release_display": "…with a release",
    "served_other_display": "Served for something else",
    "unserved_display": "Served by nobody",
    "unserved_share": "Share served by nobody (%)",
    "duplicated_display": "Served twice",
}


def service_words(service_type: str) -> str:
    return SERVICE_WORDS.get(service_type, service_type.replace("_", " "))


def _list_words(words: Sequence[str]) -> str:
    if len(words) <= 1:
        return "".join(words)
    return f"{', '.join(words[:-1])} or {words[-1]}"


def school_label(school_id: str, names: Mapping[str, str]) -> str:
    return school_id if school_id not in names else f"{school_id} {names[school_id]}"


def _two_lines(label: str) -> str:
    """A column label broken into two lines at the space nearest its middle, so four
    columns fit side by side ("FAFSA not<br>completed")."""
    spaces = [i for i, c in enumerate(label) if c == " "]
    if not spaces:
        return label
    cut = min(spaces, key=lambda i: abs(len(label) - 2 * i))
    return f"{label[:cut]}<br>{label[cut + 1 :]}"


@memo_figure
def heatmap_figure(schools: pl.DataFrame, school_names: dict[str, str], meeting: bool) -> go.Figure:
    """Schools (rows) x needs (columns), coloured by the share of flagged students served
    by nobody; a cell whose share is not shown is grey with its count's text (`<10`, `*`).
    `schools` is `CoverageView.coverage.schools`."""
    text = chart_text(meeting)
    school_ids = sorted(schools["school_id"].unique().to_list(), reverse=True)
    cells = {(r["school_id"], r["need"]): r for r in schools.iter_rows(named=True)}
    z: list[list[float | None]] = []
    hidden: list[list[float | None]] = []
    labels: list[list[str]] = []
    for school in school_ids:
        z_row, hidden_row, label_row = [], [], []
        for need in FLAGS:
            row = cells.get((school, need))
            share = None if row is None else row["unserved_share"]
            z_row.append(share)
            hidden_row.append(None if share is not None else 1.0)
            if share is not None:
                label_row.append(f"{share:.0f}%")
            elif row is not None and row["flagged"] == 0:
                label_row.append("none flagged")
            else:
                label_row.append("" if row is None else str(row["unserved_display"]))
        z.append(z_row)
        hidden.append(hidden_row)
        labels.append(label_row)
    y = [school_label(s, school_names) for s in school_ids]
    x = [_two_lines(flag_title(n)) for n in FLAGS]
    figure = go.Figure()
    figure.add_trace(
        go.Heatmap(
            z=hidden, x=x, y=y, text=[[t if h else "" for t, h in zip(r, hr, strict=True)]
                                      for r, hr in zip(labels, hidden, strict=True)],
            texttemplate="%{text}",
            colorscale=[(0, HIDDEN_COLOUR), (1, HIDDEN_COLOUR)], showscale=False,
            textfont={"size": text.value, "color": "#FFFFFF"}, hoverinfo="skip", xgap=3, ygap=3,
        )
    )  # fmt: skip
    figure.add_trace(
        go.Heatmap(
            z=z, x=x, y=y, text=[[t if v is not None else "" for t, v in zip(r, zr, strict=True)]
                                 for r, zr in zip(labels, z, strict=True)],
            texttemplate="%{text}", zmin=0, zmax=100,
            colorscale=[list(stop) for stop in SHARE_SCALE], xgap=3, ygap=3,
            textfont={"size": text.value},
            colorbar={"title": {"text": "served by<br>nobody (%)", "font": {"size": text.legend}},
                      "tickfont": {"size": text.tick}, "ticksuffix": "%", "thickness": 16},
            hovertemplate="%{y}<br>%{x}: %{text} of flagged students served by nobody<extra></extra>",
        )
    )  # fmt: skip
    figure.update_layout(
        font={"family": FONT_FAMILY, "size": text.body, "color": TEXT_COLOUR},
        hoverlabel={"font": {"size": text.hover}},
        margin={"l": 10, "r": 10, "t": 70 if meeting else 60, "b": 10},
        height=max(260, 60 + 56 * len(school_ids)),
        plot_bgcolor="#FFFFFF",
        xaxis={
            "side": "top",
            "tickfont": {"size": text.tick, "color": TEXT_COLOUR},
            "tickangle": 0,
        },
        yaxis={"tickfont": {"size": text.tick, "color": TEXT_COLOUR}},
    )
    return figure


def coverage_table(schools: pl.DataFrame, school_names: Mapping[str, str]) -> pl.DataFrame:
    """The table under the heat map: one row per school x need, counts as shown."""
    return schools.select(
        pl.col("school_id")
        .map_elements(lambda s: school_label(s, school_names), return_dtype=pl.String)
        .alias("school"),
        pl.col("need").map_elements(flag_title, return_dtype=pl.String),
        *(c for c in TABLE_HEADERS if c not in ("school", "need")),
    ).rename(TABLE_HEADERS)


def biggest_gap(schools: pl.DataFrame, addressing: Mapping[str, Sequence[str]]) -> str | None:
    """The school x need with the most flagged students that no partner serves for that
    need, in words ("HS05: 140 chronically absent students, 81% with no attendance,
    mentoring or family support"). Only rows whose flagged and served-for-this-need counts
    are shown exactly (their difference is then at least min_cell); None when none is."""
    rows = schools.filter(
        pl.col("flagged").is_not_null() & pl.col("served_addressing").is_not_null()
    ).with_columns(gap=pl.col("flagged") - pl.col("served_addressing"))
    rows = rows.filter(pl.col("gap") > 0)
    if rows.height == 0:
        return None
    top = rows.sort(["gap", "school_id"], descending=[True, False]).row(0, named=True)
    share = round(100 * top["gap"] / top["flagged"])
    kinds = _list_words([service_words(t) for t in addressing[top["need"]]])
    return (
        f"{top['school_id']}: {top['flagged']} students flagged for {flag_name(top['need'])}, "
        f"{share}% with no {kinds} support"
    )


def duplication_sentences(
    pairs: pl.DataFrame, org_names: Mapping[str, str], limit: int = 3
) -> list[str]:
    """The largest duplications shown exactly, in words ("Youth Tutoring Network and Boys
    & Girls Club both tutor 23 students at HS02")."""
    shown = pairs.filter(pl.col("students").is_not_null()).sort(
        ["students", "school_id"], descending=[True, False]
    )
    sentences = []
    for row in shown.head(limit).iter_rows(named=True):
        a = org_names.get(row["org_a"], row["org_a"])
        b = org_names.get(row["org_b"], row["org_b"])
        verb = SERVICE_VERBS.get(row["service_type"])
        doing = (
            f"both {verb} {row['students']} students"
            if verb
            else f"both provide {service_words(row['service_type'])} to {row['students']} students"
        )
        sentences.append(f"{a} and {b} {doing} at {row['school_id']}")
    return sentences


def duplication_table(pairs: pl.DataFrame, org_names: Mapping[str, str]) -> pl.DataFrame:
    return pairs.select(
        pl.col("school_id").alias("School"),
        pl.col("service_type").map_elements(service_words, return_dtype=pl.String).alias("Service"),
        pl.col("org_a").replace_strict(org_names, default=pl.col("org_a")).alias("Organisation"),
        pl.col("org_b").replace_strict(org_names, default=pl.col("org_b")).alias("and organisation"),
        pl.col("students_display").alias("Students served by both"),
    )  # fmt: skip


def tier_table(district: pl.DataFrame) -> pl.DataFrame:
    """Tier against support for the district, tier 3 first (the first to act on)."""
    return district.sort("tier", descending=True).select(
        pl.col("tier")
        .map_elements(lambda t: f"Tier {t} ({TIER_NAMES.get(t, '')})", return_dtype=pl.String)
        .alias("Tier"),
        pl.col("students_display").alias("Students"),
        pl.col("no_service_display").alias("No support"),
        pl.col("one_service_display").alias("One partner service"),
        pl.col("two_or_more_display").alias("Two or more"),
    )


def tier_sentence(district: pl.DataFrame) -> str | None:
    """Tier 3 students with no support, in words, where both counts are shown exactly."""
    top = district.filter(pl.col("tier") == district["tier"].max()) if district.height else district
    if top.height == 0:
        return None
    row = top.row(0, named=True)
    if row["students"] is None or row["no_service"] is None:
        return None
    return (
        f"Tier {row['tier']} ({TIER_NAMES.get(row['tier'], '')}): {row['students']} students, "
        f"{row['no_service']} of them with no support from any partner"
    )
