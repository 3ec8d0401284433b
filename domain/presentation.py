"""How figures look, in one place: the page's Plotly charts and the PDF report's matplotlib
charts read their colours, line styles, stage labels and text sizes from here.

- Colours: the Okabe & Ito (2008) palette ("Color Universal Design"), which stays
  distinguishable for the common forms of colour blindness. Colour is never the only cue:
  lines of one chart also differ in dash and marker (`LINE_STYLES`), and suppressed and
  not-yet-observable bars differ from shown ones by hatching and grey, so a chart still reads
  when printed in greyscale.
- Text: a projector at 1280x720 or 1920x1080 is read from the back of a room, so in meeting
  mode chart text is larger (18-24 px) and nothing is smaller than 14 px; at a desk charts
  use 14-20 px.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

#: Okabe & Ito (2008) colour-blind-safe palette, darkest-contrast colours first.
PALETTE: Final = (
    "#0072B2",  # blue
    "#E69F00",  # orange
    "#009E73",  # bluish green
    "#D55E00",  # vermillion
    "#56B4E9",  # sky blue
    "#CC79A7",  # reddish purple
    "#F0E442",  # yellow (too light for text or thin lines on white: last)
    "#000000",  # black
)
#: Bars of stages that cannot be shown: suppressed ones hatched in dark grey on white,
#: not-yet-observable ones plain light grey (both read in greyscale).
HIDDEN_COLOUR: Final = "#555555"
NOT_YET_COLOUR: Final = "#C8C8C8"
#: Labels and tick labels: near-black, for contrast on a washed-out projector.
TEXT_COLOUR: Final = "#262730"
#: One (Plotly dash, Plotly marker symbol, matplotlib linestyle, matplotlib marker) per line
#: of a chart, so the lines differ without colour.
LINE_STYLES: Final = (
    ("solid", "circle", "-", "o"),
    ("dash", "square", "--", "s"),
    ("dot", "diamond", ":", "D"),
    ("dashdot", "triangle-up", "-.", "^"),
    ("longdash", "x", (0, (8, 3)), "X"),
    ("longdashdot", "star", (0, (8, 3, 2, 3)), "*"),
)
SUPPRESSED_LABEL: Final = "suppressed to protect privacy"
NOT_YET_LABEL: Final = "not yet"
STAGE_LABELS: Final = {
    "entered_grade_9": "Entered grade 9",
    "reached_grade_12": "Reached grade 12",
    "graduated": "Graduated",
    "fafsa_completed": "FAFSA completed",
    "enrolled_postsecondary": "Enrolled in college",
    "persisted": "Second year of college",
}
#: The stage names of small multiples, where a panel is a third or half of the page wide.
SHORT_STAGE_LABELS: Final = {
    "entered_grade_9": "Grade 9",
    "reached_grade_12": "Grade 12",
    "graduated": "Graduated",
    "fafsa_completed": "FAFSA",
    "enrolled_postsecondary": "College",
    "persisted": "College yr 2",
}
FONT_FAMILY: Final = "Source Sans Pro, Arial, sans-serif"
#: Nothing on a chart is smaller than this, in any mode (px).
MIN_TEXT_PX: Final = 14


@dataclass(frozen=True)
class ChartText:
    """Text sizes of a chart in px: body (axis titles), title, values on bars, tick labels,
    legend, notes under a chart, and hover labels."""

    body: int
    title: int
    value: int
    tick: int
    legend: int
    note: int
    hover: int

    def smallest(self) -> int:
        return min(self.body, self.title, self.value, self.tick, self.legend, self.note)


#: At a desk (1400 px browser).
DESK_TEXT: Final = ChartText(body=16, title=20, value=16, tick=16, legend=16, note=14, hover=16)
#: In meeting mode, on a projector: everything larger.
MEETING_TEXT: Final = ChartText(body=20, title=24, value=20, tick=20, legend=18, note=18, hover=18)


def chart_text(meeting: bool) -> ChartText:
    """The text sizes of every chart: larger in meeting mode (projected), never under 14 px."""
    return MEETING_TEXT if meeting else DESK_TEXT


#: The display the cube stores for a stage not observable yet (`indicators.observable`).
NOT_YET_DISPLAY: Final = "not_yet"


def is_not_yet(display: str | None) -> bool:
    """A stage not observable yet: the cube's `not_yet`, or a page's "not yet (from Nov 1,
    2027)". Drawn and printed as "not yet", never as a number."""
    return display is not None and (display == NOT_YET_DISPLAY or display.startswith(NOT_YET_LABEL))


def not_yet_text(display: str) -> str:
    """What a not-yet or not-observed stage says: the page's own text, or "not yet" / "not
    observed" for the cube's code."""
    if display == NOT_YET_DISPLAY:
        return NOT_YET_LABEL
    return NOT_OBSERVED_LABEL if display == NOT_OBSERVED_DISPLAY else display


#: The display the cube stores for a college stage of a class without college data
#: (`indicators.observable.college_not_observed`), and its short label.
NOT_OBSERVED_DISPLAY: Final = "not_observed"
NOT_OBSERVED_LABEL: Final = "not observed"


def is_not_observed(display: str | None) -> bool:
    """A college stage of a class without college data: the cube's `not_observed`, or the
    page's "not observed (no college data loaded for this class)"."""
    return display is not None and (
        display == NOT_OBSERVED_DISPLAY or display.startswith(NOT_OBSERVED_LABEL)
    )


def is_unobserved(display: str | None) -> bool:
    """A stage drawn in plain grey and never as a number: not yet, or not observed."""
    return is_not_yet(display) or is_not_observed(display)


def unobserved_label(display: str | None) -> str:
    """The short label of such a stage (small multiples, table cells)."""
    return NOT_OBSERVED_LABEL if is_not_observed(display) else NOT_YET_LABEL


# --- "Is it working?" (issue 13): program outcomes --------------------------------------

#: The outcome measures of a program, in the order the page lists them, and their names.
OUTCOME_LABELS: Final = {
    "absence_rate": "Absence rate",
    "core_fails": "Failing core marks",
    "on_track": "On track at the end of grade 9",
    "fafsa_completed": "FAFSA completed by June 30",
    "graduated": "Graduated",
    "enrolled_postsecondary": "Enrolled in college",
    "persisted": "Second year of college",
}
#: Change measures: a lower figure is the better one (fewer days missed, fewer failing marks).
#: Every other measure is a yes/no share, where higher is better.
LOWER_IS_BETTER: Final = frozenset({"absence_rate", "core_fails"})
#: What each verdict of an outcome estimate says, in plain words.
VERDICT_LABELS: Final = {
    "better": "Better than similar students",
    "worse": "Worse than similar students",
    "no_difference": "No clear difference",
    "too_few": "Too few students to tell",
    "not_comparable": "Comparison not credible",
}
#: The verdicts that come with an estimate (the others show no effect).
ESTIMATED_VERDICTS: Final = ("better", "worse", "no_difference")
#: (Okabe-Ito colour, Plotly marker symbol) of each estimated verdict on an effect chart:
#: the symbols differ too, so the chart reads in greyscale.
VERDICT_STYLES: Final = {
    "better": (PALETTE[2], "circle"),
    "worse": (PALETTE[3], "square"),
    "no_difference": (PALETTE[0], "diamond"),
}
#: The What Works Clearinghouse bands of baseline balance (largest |SMD| after matching).
BALANCE_LABELS: Final = {
    "ok": "Well matched",
    "adjusted": "Close; adjusted for the rest",
    "not_comparable": "Not comparable",
}
