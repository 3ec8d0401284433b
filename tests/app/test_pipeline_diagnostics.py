"""The college-going diagnostic on the pipeline page: four questions for a leader (exact)
and, protected, for a viewer and in meeting mode; no hidden count reaches the page."""

from __future__ import annotations

import json
import re
from collections.abc import Callable

import pytest
from sqlalchemy import text
from streamlit.testing.v1 import AppTest

from data_access.engine import make_engine
from ui.pipeline_diagnostics import FIGURE_META

QUESTIONS = (
    "Which schools leak most?",
    "Does prior achievement explain the gaps?",
    "Seamless or delayed, two-year or four-year?",
    "On track in grade 9, and what follows",
)


def diagnostic_figures(at: AppTest) -> list[dict]:
    specs = [json.loads(chart.proto.spec) for chart in at.get("plotly_chart")]
    return [s for s in specs if s.get("layout", {}).get("meta") == FIGURE_META]


def numbers_in(figure: dict) -> set[float]:
    """Every number a figure's data carries: bar values, hover and label texts."""
    found: set[float] = set()
    for trace in figure.get("data", []):
        for key in ("x", "y"):
            for value in trace.get(key) or []:
                if isinstance(value, int | float):
                    found.add(round(float(value), 1))
        for label in trace.get("text") or []:
            found.update(round(float(n), 1) for n in re.findall(r"\d+(?:\.\d+)?", str(label)))
    for annotation in figure.get("layout", {}).get("annotations", []):
        found.update(round(float(n), 1) for n in re.findall(r"\d+(?:\.\d+)?", annotation["text"]))
    return found


def published(demo_url: str) -> set[float]:
    """Every number the protected cube holds: shown counts and shares."""
    with make_engine(demo_url).connect() as connection:
        rows = connection.execute(text("SELECT shown, share FROM pipeline_cell_public")).all()
    return {round(float(v), 1) for row in rows for v in row if v is not None}


def test_a_leader_sees_the_four_diagnostic_questions_with_exact_figures(
    page_as: Callable[..., AppTest],
) -> None:
    at = page_as("pipeline.pipeline_page", "leader")
    assert not at.exception, at.exception
    subheaders = [s.value for s in at.subheader]
    for question in QUESTIONS:
        assert question in subheaders
    figures = diagnostic_figures(at)
    assert len(figures) >= 4
    captions = " ".join(c.value for c in at.caption)
    assert "Strategic Data Project" in captions
    assert "Not shown to protect privacy" not in captions


@pytest.mark.parametrize(("who", "state"), [("viewer", {}), ("steward", {"meeting_mode": True})])
def test_protected_diagnostics_carry_only_published_numbers(
    page_as: Callable[..., AppTest], demo_url: str, who: str, state: dict
) -> None:
    at = page_as("pipeline.pipeline_page", who, **state)
    assert not at.exception, at.exception
    subheaders = [s.value for s in at.subheader]
    for question in QUESTIONS:
        assert question in subheaders
    allowed = published(demo_url) | {0.0, 1.0, 2.0, 10.0}  # Oct 31 / Nov 1 / 2-year / <10
    allowed |= {float(y) for y in range(2015, 2040)}  # years in dates
    figures = diagnostic_figures(at)
    assert figures
    for figure in figures:
        leaked = numbers_in(figure) - allowed
        assert not leaked, (leaked, json.dumps(figure.get("data"))[:3000])
    notes = [c.value for c in at.caption if c.value.startswith("Not shown to protect")]
    for note in notes:  # a hidden figure is named with its display only: "(<10)" or "(*)"
        assert not re.search(r"\(\d+\)", note), note
