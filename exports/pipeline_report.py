"""The one-page pipeline report (PDF) for board meetings and grant requests: what the
pipeline page shows for one cohort and grouping, on one US Letter page.

Pure: the frames the page got through `data_access.api` in, PDF bytes out; no database, no
Streamlit, no viewer. It prints only `display`, `shown` and `share` of those frames, and
leaks and gaps computed from shown counts (`indicators.shown`), so a protected viewer's
report holds exactly what their page shows: a hidden count never reaches it. A stage that
is not observable yet (its display says "not yet ...", no count) is a grey bar labelled
"not yet", and a college stage of a class without college data one labelled "not
observed (no college data loaded for this class)", never a number.

Drawn with matplotlib alone (its PDF backend lays out the page and draws the charts): it
installs from the lock file as a wheel on every platform Pathwise runs on, needs no
browser and no system library (unlike Plotly's static export, whose kaleido 1.x needs a
system Chrome), and writes the chart labels as real text (TrueType, `pdf.fonttype` 42), so
they can be searched, read by a screen reader and checked by the tests like the rest of
the page. The charts are the page's charts redrawn: same stage labels, Okabe-Ito colours,
hatching for suppressed stages, grey for not-yet ones, dashes and markers for the trend.
"""

from __future__ import annotations

import io
import textwrap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from typing import TYPE_CHECKING

import polars as pl

from domain.presentation import (
    HIDDEN_COLOUR,
    LINE_STYLES,
    NOT_OBSERVED_DISPLAY,
    NOT_YET_COLOUR,
    NOT_YET_DISPLAY,
    PALETTE,
    SHORT_STAGE_LABELS,
    STAGE_LABELS,
    SUPPRESSED_LABEL,
    is_unobserved,
    not_yet_text,
    unobserved_label,
)
from indicators.observable import NOT_OBSERVED_WORDS, not_yet_words
from indicators.shown import biggest_leak_shown, gaps_shown

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

PAGE_WIDTH, PAGE_HEIGHT = 8.5, 11.0  # inches, US Letter
MARGIN = 0.5
TEXT_WIDTH = PAGE_WIDTH - 2 * MARGIN
#: Gaps listed, largest first (the page's table shows five).
GAPS_LISTED = 5
#: Text and chart heights tried in turn until the report fits on its page.
SCALES = (1.0, 0.9, 0.8)


class ReportOverflow(ValueError):
    """The report does not fit on one page (too many groups for the table)."""


@dataclass(frozen=True)
class Definition:
    """A stage's definition as the definition cards state it, with its published source."""

    title: str
    rule: str
    source: str


@dataclass(frozen=True)
class PipelineReport:
    """Everything the report prints, as the page got it.

    `funnel`: the all-students rows (`stage, display, shown, share`, stages in order);
    `groups`: the rows of the chosen grouping (`group` too), or None for all students;
    `trend`: every cohort's all-students rows (`cohort, stage, display, shown, share`);
    `group_names`: display names of group values (school names); `privacy_note`: how the
    figures are protected, or why they are exact; `definitions`: stage -> definition.
    """

    cohort: int
    as_of: date
    exact: bool
    funnel: pl.DataFrame
    trend: pl.DataFrame
    privacy_note: str
    definitions: Mapping[str, Definition]
    by_label: str | None = None
    groups: pl.DataFrame | None = None
    group_names: Mapping[str, str] = field(default_factory=dict)


def build_report(report: PipelineReport) -> bytes:
    """The report as PDF bytes, on one page: laid out at full size, and again a little
    smaller when a long grouping (eight groups, five long equity-gap sentences) overflows."""
    report = replace(report, funnel=_dated(report.funnel, report.cohort, report.as_of))
    for scale in SCALES:
        page = _Page(scale)
        try:
            _header(page, report)
            _funnel_section(page, report)
            _groups_section(page, report)
            _trend_section(page, report)
            _notes_section(page, report)
        except ReportOverflow:
            if scale == SCALES[-1]:
                raise
            continue
        break
    buffer = io.BytesIO()
    page.figure.savefig(
        buffer,
        format="pdf",
        metadata={
            "Title": f"Pathwise pipeline report, class of {report.cohort}",
            "Creator": "Pathwise",
        },
    )
    return buffer.getvalue()


def _dated(funnel: pl.DataFrame, cohort: int, as_of: date) -> pl.DataFrame:
    """The funnel with each not-yet stage's words and date, and each not-observed stage's
    words, as the page prints them."""
    stages = funnel["stage"].to_list()
    words = [
        not_yet_words(stage, cohort, stages, as_of)
        if display == NOT_YET_DISPLAY
        else NOT_OBSERVED_WORDS
        if display == NOT_OBSERVED_DISPLAY
        else display
        for stage, display in funnel.select("stage", "display").iter_rows()
    ]
    return funnel.with_columns(display=pl.Series(words, dtype=pl.String))


def _figure() -> Figure:
    """A Letter-sized figure. matplotlib is imported here, when a report is drawn: it takes
    half a second to import, which every command and page would otherwise pay."""
    import matplotlib
    from matplotlib.figure import Figure

    # Chart labels as TrueType text (searchable, extractable), not Type 3 glyph procedures.
    matplotlib.rcParams["pdf.fonttype"] = 42
    return Figure(figsize=(PAGE_WIDTH, PAGE_HEIGHT))


class _Page:
    """A Letter page laid out top to bottom in inches; `ReportOverflow` past the margin."""

    def __init__(self, scale: float = 1.0) -> None:
        self.figure = _figure()
        self.top = MARGIN  # inches from the top edge of the next free line
        self.scale = scale  # of text sizes and heights

    def _y(self, inches_from_top: float) -> float:
        return 1 - inches_from_top / PAGE_HEIGHT

    def _reserve(self, inches: float) -> float:
        start = self.top
        self.top += inches
        if self.top > PAGE_HEIGHT - MARGIN + 1e-9:
            raise ReportOverflow("the pipeline report does not fit on one page")
        return start

    def text(
        self, text: str, *, size: float = 9, bold: bool = False, colour: str = "black"
    ) -> None:
        """A paragraph wrapped to the text width (DejaVu Sans averages ~0.56 em a character)."""
        size *= self.scale
        per_line = max(20, int(TEXT_WIDTH * 72 / (size * 0.56)))
        lines = textwrap.wrap(text, per_line) or [""]
        line_height = size * 1.25 / 72
        start = self._reserve(line_height * len(lines))
        for i, line in enumerate(lines):
            self.figure.text(
                MARGIN / PAGE_WIDTH,
                self._y(start + line_height * (i + 0.8)),
                line,
                fontsize=size,
                fontweight="bold" if bold else "normal",
                color=colour,
                va="baseline",
            )

    def space(self, inches: float) -> None:
        self._reserve(inches * self.scale)

    def axes(self, height: float, *, left: float = 1.6, right: float = 0.2) -> Axes:
        """Axes `height` inches tall (times the scale), `left` inches for tick labels."""
        height *= self.scale
        start = self._reserve(height)
        return self.figure.add_axes(
            (
                (MARGIN + left) / PAGE_WIDTH,
                self._y(start + height),
                (TEXT_WIDTH - left - right) / PAGE_WIDTH,
                height / PAGE_HEIGHT,
            )
        )


def _header(page: _Page, report: PipelineReport) -> None:
    page.text(f"Where do our students leave the path? Class of {report.cohort}", size=15, bold=True)
    grouping = f"by {report.by_label.lower()}" if report.by_label else "all students"
    kind = "exact figures" if report.exact else "privacy-protected figures"
    page.text(
        f"Pathwise pipeline report, {grouping}, {kind}. As of {report.as_of:%B} "
        f"{report.as_of.day}, {report.as_of.year}.",
        size=9.5,
        colour="#333333",
    )
    page.text(
        "Each cohort from entering grade 9 to a second year of college; every stage counts "
        "only students who reached all the earlier ones.",
        size=8.5,
        colour="#333333",
    )
    page.space(0.08)


def _bar_label(display: str, share: float | None) -> str:
    return f"{display} ({share:.1f}%)" if share is not None else display


def _funnel_section(page: _Page, report: PipelineReport) -> None:
    rows = report.funnel
    page.text(f"Class of {report.cohort}: all students", size=11, bold=True)
    axes = page.axes(0.23 * max(rows.height, 1) + 0.05)
    _draw_funnel(axes, rows)
    leak = biggest_leak_shown(rows.select("stage", "shown"))
    page.space(0.05)
    if leak is not None and leak["lost"]:
        page.text(
            f"Biggest leak: {leak['lost']:,} students, {leak['share_lost']:.0f}%, left between "
            f"“{STAGE_LABELS[str(leak['from_stage'])]}” and "
            f"“{STAGE_LABELS[str(leak['to_stage'])]}”.",
            size=10.5,
            bold=True,
        )
    else:
        page.text("No leak can be stated from the figures shown.", size=10.5, bold=True)


def _draw_funnel(axes: Axes, rows: pl.DataFrame) -> None:
    """The page's funnel: shown stages as bars with count and share, suppressed ones hatched,
    not-yet ones grey; a hidden stage's bar has a fixed length (a quarter of the largest
    shown count), so its value cannot be read off."""
    stages = rows["stage"].to_list()
    shown = rows["shown"].to_list()
    display = rows["display"].to_list()
    shares = rows["share"].to_list()
    known = [v for v in shown if v is not None]
    longest = max(known) if known else 100
    placeholder = longest * 0.25
    positions = list(range(len(stages)))[::-1]
    for y, value, text, share in zip(positions, shown, display, shares, strict=True):
        if value is not None:
            axes.barh(y, value, color=PALETTE[0], height=0.7)
            label = _bar_label(text, share)
        elif is_unobserved(text):
            axes.barh(y, placeholder, color=NOT_YET_COLOUR, height=0.7)
            label = not_yet_text(text)
        else:
            axes.barh(
                y, placeholder, color="white", edgecolor=HIDDEN_COLOUR, hatch="///", height=0.7
            )
            label = f"{text}: {SUPPRESSED_LABEL}"
        end = value if value is not None else placeholder
        axes.text(end + longest * 0.015, y, label, va="center", fontsize=8.5)
    axes.set_yticks(positions, [STAGE_LABELS.get(s, s) for s in stages], fontsize=8.5)
    axes.set_xlim(0, longest * 1.6)
    axes.set_ylim(-0.5, len(stages) - 0.5)
    axes.xaxis.set_visible(False)
    for side in ("top", "right", "bottom"):
        axes.spines[side].set_visible(False)


def _groups_section(page: _Page, report: PipelineReport) -> None:
    if report.groups is None or report.by_label is None:
        page.text(
            "Largest equity gaps: choose a grouping (“Compare by”) on the page to list them.",
            size=9,
            colour="#333333",
        )
        return
    groups = report.groups
    names = report.group_names
    page.space(0.05)
    page.text(f"By {report.by_label.lower()}", size=11, bold=True)
    _group_table(page, groups, names)
    gaps = gaps_shown(
        groups.select("group", "stage", "shown"), report.funnel.select("stage", "shown")
    )
    page.space(0.05)
    page.text(
        "Largest equity gaps (a group's step-to-step rate against the rest of the cohort)",
        size=9.5,
        bold=True,
    )
    if gaps.height == 0:
        page.text("None can be stated from the figures shown.", size=9)
    for gap in gaps.sort("gap_points").head(GAPS_LISTED).iter_rows(named=True):
        page.text(
            f"{names.get(gap['group'], gap['group'])}: "
            f"{STAGE_LABELS[gap['from_stage']]} → {STAGE_LABELS[gap['to_stage']]}, "
            f"{gap['group_rate']:.1f}% against {gap['rest_rate']:.1f}% for the rest "
            f"({gap['gap_points']:+.1f} points)",
            size=8.5,
        )


def _group_table(page: _Page, groups: pl.DataFrame, names: Mapping[str, str]) -> None:
    """Each group's funnel as a row of the table (the page's small multiples)."""
    from matplotlib.transforms import Bbox  # imported with the figure (see `_figure`)

    stages = groups["stage"].unique(maintain_order=True).to_list()
    labels = groups["group"].unique(maintain_order=True).to_list()
    cells: list[list[str]] = []
    for group in labels:
        part = groups.filter(pl.col("group") == group)
        by_stage = {r["stage"]: r for r in part.iter_rows(named=True)}
        row = []
        for stage in stages:
            cell = by_stage.get(stage)
            if cell is None:
                row.append("")
            elif cell["shown"] is None and is_unobserved(cell["display"]):
                row.append(unobserved_label(cell["display"]))
            else:
                row.append(_bar_label(cell["display"], cell["share"]))
        cells.append(row)
    row_height = 0.17
    axes = page.axes(row_height * (len(labels) + 1), left=0, right=0)
    axes.axis("off")
    table = axes.table(
        cellText=cells,
        rowLabels=[_clip(names.get(g, g), 22) for g in labels],
        colLabels=[SHORT_STAGE_LABELS.get(s, s) for s in stages],
        bbox=Bbox.from_bounds(0.2, 0, 0.8, 1),
        cellLoc="center",
    )
    table.auto_set_font_size(False)
    table.set_fontsize(7.5)
    for (line, _column), box in table.get_celld().items():
        box.set_edgecolor("#BBBBBB")
        if line == 0:
            box.set_text_props(fontweight="bold")


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _trend_section(page: _Page, report: PipelineReport) -> None:
    page.space(0.08)
    page.text("Cohort over cohort (% of the entering class)", size=11, bold=True)
    shares = report.trend.filter(
        pl.col("share").is_not_null() & (pl.col("stage") != report.trend["stage"].first())
    )
    if shares.height == 0:
        page.text("Not enough figures can be shown.", size=9)
        return
    page.space(0.08)  # room for the top tick label
    axes = page.axes(1.5, left=0.6, right=2.0)
    stages = shares["stage"].unique(maintain_order=True).to_list()
    order = [s for s in STAGE_LABELS if s in stages]
    for i, stage in enumerate(order):
        part = shares.filter(pl.col("stage") == stage).sort("cohort")
        _dash, _symbol, linestyle, marker = LINE_STYLES[i % len(LINE_STYLES)]
        axes.plot(
            part["cohort"].to_list(),
            part["share"].to_list(),
            color=PALETTE[i % len(PALETTE)],
            linestyle=linestyle,
            marker=marker,
            linewidth=2,
            markersize=5,
            label=STAGE_LABELS[stage],
        )
    cohorts = sorted(shares["cohort"].unique().to_list())
    axes.set_xticks(cohorts, [str(c) for c in cohorts], fontsize=8)
    axes.set_ylim(0, 100)
    axes.yaxis.set_major_formatter("{x:.0f}%")
    axes.tick_params(axis="y", labelsize=8)
    axes.set_xlabel("Class of", fontsize=8.5)
    axes.grid(axis="y", color="#DDDDDD")
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)
    axes.legend(loc="center left", bbox_to_anchor=(1.02, 0.5), fontsize=8, frameon=False)
    page.space(0.32)  # tick labels and "Class of" under the axes


def _notes_section(page: _Page, report: PipelineReport) -> None:
    page.space(0.05)
    page.text("Privacy", size=9.5, bold=True)
    page.text(report.privacy_note, size=8)
    page.space(0.05)
    page.text("Definitions and sources", size=9.5, bold=True)
    cards = [report.definitions[s] for s in STAGE_LABELS if s in report.definitions]
    page.text(" ".join(f"{card.title}: {card.rule}" for card in cards), size=7.5)
    sources: Sequence[str] = list(dict.fromkeys(c.source for c in report.definitions.values()))
    page.text("Sources: " + "; ".join(sources) + ".", size=7, colour="#333333")
