"""Every chart of the pipeline page reads on a projector (issue 12, part 4), checked on the
figure JSON the page sends to the browser: no value label that can be clipped, no legend
over the data, axis labels that push the margins, Okabe-Ito colours with a second cue for
greyscale, and no text under 14 px in meeting mode (larger than at a desk).

tests/browser/test_projector.py checks the same page as drawn by Chromium at 1280x720,
1920x1080 and 1400 px.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from domain.presentation import MIN_TEXT_PX, PALETTE, chart_text
from ui.components import VALUE_HEADROOM, funnel_figure

Figure = dict[str, Any]


def figures(at: AppTest) -> list[Figure]:
    return [json.loads(chart.proto.spec) for chart in at.get("plotly_chart")]


def pipeline_by_school(page_as: Callable[..., AppTest], who: str, **state: object) -> AppTest:
    at = page_as("pipeline.pipeline_page", who, **state)
    compare = next(s for s in at.selectbox if s.label == "Compare by")
    compare.set_value("school_id").run()
    assert not at.exception
    return at


def font_sizes(node: Any) -> Iterator[float]:
    """Every font size set anywhere in a figure (layout, traces, annotations, axes)."""
    if isinstance(node, dict):
        for key, value in node.items():
            fonts = ("font", "textfont", "tickfont", "title_font")
            if key in fonts and isinstance(value, dict) and "size" in value:
                sizes = value["size"]
                yield from sizes if isinstance(sizes, list) else [sizes]
            if key == "font_size":
                yield value
            yield from font_sizes(value)
    elif isinstance(node, list):
        for item in node:
            yield from font_sizes(item)


def assert_readable(figure: Figure, *, minimum: int) -> None:
    layout = figure["layout"]
    sizes = list(font_sizes(figure))
    assert sizes and min(sizes) >= minimum, (minimum, sorted(set(sizes)))
    bars = [t for t in figure["data"] if t.get("type") == "bar"]
    for trace in bars:
        if trace.get("text"):
            # A label past the end of a bar is drawn even outside the axis range...
            assert trace.get("cliponaxis") is False, trace.get("name")
    for orientation, values, axis in (("h", "x", "xaxis"), ("v", "y", "yaxis")):
        # ...and the value axis leaves room for it past the longest bar.
        lengths = [
            v
            for t in bars
            if t.get("orientation", "v") == orientation
            for v in t.get(values) or []
            if isinstance(v, int | float)
        ]
        if lengths:
            low, high = layout[axis]["range"]
            assert low == 0 and max(lengths) <= high * (1 - VALUE_HEADROOM) + 1e-9, (
                axis,
                max(lengths),
                high,
            )
    if layout.get("showlegend", True) and len(figure["data"]) > 1:
        legend = layout["legend"]
        # Outside the plotting area [0, 1] x [0, 1] of paper coordinates.
        assert legend.get("y", 1) >= 1 or legend.get("x", 1.02) >= 1, legend
    for axis in ("xaxis", "yaxis"):
        if axis in layout:
            assert layout[axis].get("automargin") is True, (axis, layout[axis])
    colours = [
        t.get("marker", {}).get("color") or t.get("line", {}).get("color") for t in figure["data"]
    ]
    lines = [t for t in figure["data"] if t.get("type") == "scatter"]
    for colour, trace in zip(colours, figure["data"], strict=True):
        if trace.get("type") == "scatter" or trace.get("name") == "students":
            assert colour in PALETTE, (trace.get("name"), colour)
    # Lines differ by dash and marker too, so the chart reads in greyscale.
    cues = [(t["line"].get("dash"), t["marker"].get("symbol")) for t in lines]
    assert len(set(cues)) == len(cues), cues


def test_every_pipeline_chart_reads_on_a_projector_in_meeting_mode(
    page_as: Callable[..., AppTest],
) -> None:
    at = pipeline_by_school(page_as, "leader", meeting_mode=True)
    charts = figures(at)
    assert len(charts) >= 4  # all students, at least two schools, the trend
    for figure in charts:
        assert_readable(figure, minimum=max(MIN_TEXT_PX, chart_text(True).smallest()))
    assert chart_text(True).smallest() > chart_text(False).smallest()


def test_every_pipeline_chart_reads_at_a_desk(page_as: Callable[..., AppTest]) -> None:
    for who in ("leader", "viewer"):
        for figure in figures(pipeline_by_school(page_as, who)):
            assert_readable(figure, minimum=MIN_TEXT_PX)


def test_the_by_school_panels_have_no_legend_and_name_hidden_bars_below_the_plot(
    page_as: Callable[..., AppTest],
) -> None:
    at = pipeline_by_school(page_as, "viewer")
    panels = [f for f in figures(at) if f["layout"].get("height") == 360]
    assert len(panels) >= 2
    for panel in panels:
        assert panel["layout"]["showlegend"] is False
        for note in panel["layout"].get("annotations", []):
            assert note["yref"] == "paper" and note["y"] <= 0 and note["yanchor"] == "top"
    hatched = [p for p in panels if len(p["data"]) > 1]
    assert hatched, "the demo has no suppressed stage in a school panel"
    assert all(p["layout"]["annotations"] for p in hatched)


def test_a_not_yet_stage_is_a_grey_bar_labelled_not_yet_without_a_number() -> None:
    figure = funnel_figure(
        ["entered_grade_9", "reached_grade_12", "graduated"],
        ["Entered grade 9", "Reached grade 12", "Graduated"],
        [120, 40, None],
        ["120", "40", "not yet (from Sep 1, 2027)"],
        [100.0, 33.3, None],
        meeting=True,
    ).to_plotly_json()
    not_yet = next(t for t in figure["data"] if t["name"] == "not yet")
    assert list(not_yet["text"]) == ["not yet (from Sep 1, 2027)"]
    assert "hatch" not in json.dumps(not_yet) and not_yet.get("hoverinfo") == "skip"
    assert figure["layout"].get("annotations", ()) == ()  # nothing suppressed
    assert_readable(json.loads(json.dumps(figure, default=list)), minimum=18)


@pytest.mark.parametrize("meeting", [False, True])
def test_a_value_label_has_room_past_the_longest_bar(meeting: bool) -> None:
    figure = funnel_figure(
        ["a", "b"], ["A", "B"], [188, 3], ["188", "3"], [100.0, 1.6], meeting=meeting
    ).to_plotly_json()
    assert figure["layout"]["xaxis"]["range"][1] >= 188 / (1 - VALUE_HEADROOM)
    assert figure["data"][0]["cliponaxis"] is False


@pytest.mark.parametrize("who", ["leader", "viewer"])
def test_the_pipeline_offers_the_one_page_report(page_as: Callable[..., AppTest], who: str) -> None:
    at = page_as("pipeline.pipeline_page", who)
    assert not at.exception
    labels = [b.proto.label for b in at.get("download_button")]
    assert "Download a one-page report (PDF)" in labels


def test_the_cubes_not_yet_code_is_drawn_as_not_yet() -> None:
    figure = funnel_figure(
        ["entered_grade_9", "graduated"], ["Entered grade 9", "Graduated"], [120, None],
        ["120", "not_yet"], [100.0, None],
    ).to_plotly_json()  # fmt: skip
    not_yet = next(t for t in figure["data"] if t["name"] == "not yet")
    assert list(not_yet["text"]) == ["not yet"]
    assert all(t["name"] != "suppressed to protect privacy" for t in figure["data"])


def test_the_pages_not_yet_texts_label_the_grey_bars_and_only_not_yet_in_a_small_panel() -> None:
    def not_yet_texts(compact: bool) -> list[str]:
        figure = funnel_figure(
            ["entered_grade_9", "graduated"], ["Entered grade 9", "Graduated"], [120, None],
            ["120", "not_yet"], [100.0, None], not_yet=[None, "not yet (from Sep 1, 2027)"],
            compact=compact,
        ).to_plotly_json()  # fmt: skip
        return list(next(t for t in figure["data"] if t["name"] == "not yet")["text"])

    assert not_yet_texts(False) == ["not yet (from Sep 1, 2027)"]
    assert not_yet_texts(True) == ["not yet"]
