"""The pipeline page's FAFSA season section (ui/fafsa_season.py) through AppTest: a leader
sees the exact weekly shares, a viewer only the protected ones; no share the protection
withholds reaches a viewer's chart data or text."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import polars as pl
from streamlit.testing.v1 import AppTest

from data_access.engine import make_engine
from data_access.fafsa_season import fafsa_season
from data_access.identity import sign_in
from indicators.fafsa_season import ALL
from tests.app.conftest import SPEC, email
from tests.app.test_pages_by_role import texts

QUESTION = "Are this year's seniors completing the FAFSA on pace?"


def _season_traces(at: AppTest) -> list[dict[str, Any]]:
    for chart in at.get("plotly_chart"):
        spec = json.loads(chart.proto.spec)
        traces = spec["data"]
        if traces and str(traces[0].get("name", "")).startswith("Class of"):
            return list(traces)
    raise AssertionError("no FAFSA season chart")


def _expected(demo_url: str, who: str) -> pl.DataFrame:
    engine = make_engine(demo_url)
    return fafsa_season(engine, sign_in(engine, email(who), SPEC.today)).series


def test_a_leader_sees_this_class_against_earlier_ones_with_exact_shares(
    page_as: Callable[..., AppTest], demo_url: str
) -> None:
    at = page_as("pipeline.pipeline_page", "leader")
    assert not at.exception, at.exception
    assert QUESTION in [s.value for s in at.subheader]
    said = texts(at)
    assert "FAFSA completed by" in said and "last year at the same date" in said
    series = _expected(demo_url, "leader").filter(pl.col("group") == ALL)
    traces = _season_traces(at)
    assert len(traces) == series["class_of"].n_unique()
    for trace in traces:
        class_of = int(trace["name"].split()[2])
        expected = series.filter(pl.col("class_of") == class_of).sort("week")["share"]
        assert trace["y"] == expected.to_list()


def test_a_viewer_sees_only_the_protected_shares_in_the_chart_and_the_text(
    page_as: Callable[..., AppTest], demo_url: str
) -> None:
    at = page_as("pipeline.pipeline_page", "viewer")
    assert not at.exception, at.exception
    protected = _expected(demo_url, "viewer").filter(pl.col("group") == ALL)
    exact = _expected(demo_url, "leader").filter(pl.col("group") == ALL)
    withheld = (
        exact.join(protected, on=["class_of", "week"], suffix="_shown")
        .filter(pl.col("share_shown").is_null() | (pl.col("share") != pl.col("share_shown")))
        .select("class_of", "week", "share")
    )
    assert withheld.height > 0  # the demo has weeks the protection holds back
    traces = _season_traces(at)
    for trace in traces:
        class_of = int(trace["name"].split()[2])
        shown = protected.filter(pl.col("class_of") == class_of).sort("week")["share"]
        assert trace["y"] == shown.to_list()
        hidden = withheld.filter(pl.col("class_of") == class_of)
        for week, share in hidden.select("week", "share").rows():
            assert trace["y"][week] != share
    said = texts(at)
    assert "updated when at least 10 more students complete" in said
    standing = [line for line in said.splitlines() if "FAFSA completed by" in line]
    assert standing, said
    engine = make_engine(demo_url)
    view = fafsa_season(engine, sign_in(engine, email("viewer"), SPEC.today))
    now = view.standing.filter((pl.col("group") == ALL) & (pl.col("class_of") == view.class_of))
    # The sentence is the protected value at the end of the last full week, not today's.
    share = now["share"][0]
    words = "not shown" if share is None else f"{share:.0f}%"
    assert f"by {now['day'][0]:%b} {now['day'][0].day}: {words} this year" in standing[0]
