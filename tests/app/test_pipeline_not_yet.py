"""The pipeline page as of 2026-11-30 (issue 12, "Observed stages only"): the class of 2027
(today's seniors) has reached grade 12 and nothing later yet, and the page says so to a
leader (exact figures) and to a viewer (protected ones) alike: "not yet (from DATE)" on a
grey bar, no such stage in the biggest leak or the equity gaps, trend lines that stop at
the last class observed, and a cohort selector that marks classes in progress and opens
on the newest class with every stage observed.

The demo district is built as of 2026-11-30 and the signed-in user's "today" is pinned to
the same date (ui.session.today), so the test does not depend on the real date.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from datetime import date
from typing import Any

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from data_access.demo_build import build_demo
from data_access.engine import make_engine
from demo_district.generate import DemoSpec
from tests.app.conftest import email
from ui.components import NOT_YET_LABEL, STAGE_LABELS

NOV_30 = date(2026, 11, 30)
LATER = ["graduated", "fafsa_completed", "enrolled_postsecondary", "persisted"]
#: The last class with each stage observed as of 2026-11-30 (indicators.observable).
LAST_OBSERVED = {
    "reached_grade_12": 2027,
    "graduated": 2026,
    "fafsa_completed": 2026,
    "enrolled_postsecondary": 2026,
    "persisted": 2025,
}
ROLES = ["leader", "viewer"]


@pytest.fixture(scope="module")
def november_district(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('november') / 'demo.db'}"
    engine = make_engine(url)
    build_demo(engine, DemoSpec(students=600, seed=9, today=NOV_30))
    engine.dispose()
    return url


@pytest.fixture
def pipeline_as(november_district: str, monkeypatch: pytest.MonkeyPatch) -> Callable[..., AppTest]:
    monkeypatch.setenv("PATHWISE_DATABASE_URL", november_district)
    monkeypatch.setenv("PATHWISE_DEMO_SIGNIN", "1")
    monkeypatch.setattr("ui.session.today", lambda: NOV_30)

    def run(who: str, cohort: int | None = None, by: str | None = None) -> AppTest:
        at = AppTest.from_string(
            "from pages.pipeline import pipeline_page\nfrom ui.guard import guarded\n"
            "guarded(pipeline_page)()\n",
            default_timeout=60,
        )
        at.user = {"is_logged_in": False}
        at.session_state["demo_email"] = email(who)
        at.run()
        if cohort is not None:
            selector(at, "Cohort").select(cohort).run()
        if by is not None:
            selector(at, "Compare by").select(by).run()
        assert not at.exception, at.exception
        return at

    return run


def selector(at: AppTest, label: str) -> Any:
    return next(box for box in at.selectbox if box.label == label)


def charts(at: AppTest) -> list[dict[str, Any]]:
    return [json.loads(chart.proto.spec) for chart in at.get("plotly_chart")]


def bars(figure: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Stage label -> (trace name, text) of a funnel figure's bars."""
    found = {}
    for trace in figure["data"]:
        for label, text in zip(trace["y"], trace["text"], strict=True):
            found[label] = {"trace": trace.get("name"), "text": text}
    return found


def values(data: Any) -> list[Any]:
    """A Plotly JSON array: a list, or typed bytes ({"dtype", "bdata"}) for a numpy array."""
    if isinstance(data, dict):
        return np.frombuffer(base64.b64decode(data["bdata"]), dtype=data["dtype"]).tolist()
    return list(data)


def texts(at: AppTest) -> str:
    return "\n".join(m.value for m in at.markdown)


@pytest.mark.parametrize("who", ROLES)
def test_the_class_of_2027_shows_not_yet_on_grey_bars_for_its_later_stages(
    pipeline_as: Callable[..., AppTest], who: str
) -> None:
    at = pipeline_as(who, cohort=2027)
    funnel = bars(charts(at)[0])
    assert funnel[STAGE_LABELS["graduated"]] == {
        "trace": NOT_YET_LABEL,
        "text": "not yet (from Sep 1, 2027)",
    }
    assert funnel[STAGE_LABELS["fafsa_completed"]]["text"] == "not yet (from Sep 1, 2027)"
    assert funnel[STAGE_LABELS["enrolled_postsecondary"]]["text"] == "not yet (from Nov 1, 2027)"
    assert funnel[STAGE_LABELS["persisted"]]["text"] == "not yet (from Nov 1, 2028)"
    for stage in ("entered_grade_9", "reached_grade_12"):
        assert funnel[STAGE_LABELS[stage]]["trace"] != NOT_YET_LABEL
    figure = charts(at)[0]
    grey = next(t for t in figure["data"] if t.get("name") == NOT_YET_LABEL)
    assert grey["hoverinfo"] == "skip" and "pattern" not in grey["marker"]
    assert len(set(values(grey["x"]))) == 1  # one fixed length: no count behind it


@pytest.mark.parametrize("who", ROLES)
def test_the_biggest_leak_and_the_equity_gaps_leave_out_stages_not_observed_yet(
    pipeline_as: Callable[..., AppTest], who: str
) -> None:
    at = pipeline_as(who, cohort=2027, by="race_ethnicity")
    later_labels = [STAGE_LABELS[s] for s in LATER]
    leak = [m for m in texts(at).splitlines() if "Biggest leak" in m]
    assert all(label not in line for line in leak for label in later_labels), leak
    for frame in at.dataframe:
        steps = frame.value["step"].to_list() if "step" in frame.value.columns else []
        assert all(label not in step for step in steps for label in later_labels), steps
    if who == "leader":
        assert leak and STAGE_LABELS["reached_grade_12"] in leak[0]
        assert any("step" in f.value.columns for f in at.dataframe)


@pytest.mark.parametrize("who", ROLES)
def test_trend_lines_stop_at_the_last_class_observed(
    pipeline_as: Callable[..., AppTest], who: str
) -> None:
    at = pipeline_as(who)
    (trend,) = [
        c
        for c in charts(at)
        if c["layout"].get("xaxis", {}).get("title", {}).get("text") == "Class of"
    ]
    last = {trace["name"]: max(values(trace["x"])) for trace in trend["data"]}
    for stage, cohort in LAST_OBSERVED.items():
        if who == "leader":
            assert last[STAGE_LABELS[stage]] == cohort, stage
        else:  # a protected share may be missing, never one not observed yet
            assert last.get(STAGE_LABELS[stage], 0) <= cohort, stage
    assert all(0 not in values(trace["y"]) for trace in trend["data"])


@pytest.mark.parametrize("who", ROLES)
def test_the_cohort_selector_marks_classes_in_progress_and_opens_on_a_complete_one(
    pipeline_as: Callable[..., AppTest], who: str
) -> None:
    at = pipeline_as(who)
    box = selector(at, "Cohort")
    assert box.value == 2025  # the newest class with a second year observed
    assert "Class of 2027 — in progress" in box.options
    assert "Class of 2026 — in progress" in box.options  # no second year until Nov 2027
    assert "Class of 2025" in box.options
