"""Pages say what the deployment's settings and the definitions say, and a new flag
cannot crash them.

The thresholds drawn or written on a page (the chronic-absence line, the smallest count
shown) come from the loaded settings (`PATHWISE_SETTINGS` names a TOML file overriding
indicators/defaults.toml); flag titles and tier labels come from indicators/definitions.py.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from data_access.demo_build import build_demo
from data_access.engine import make_engine
from demo_district.generate import DemoSpec
from domain import vocabulary
from tests.app.conftest import email
from tests.app.test_pages_by_role import table, texts

#: A deployment stricter on absence (15%) and looser on small counts (5) than the defaults.
SETTINGS_TOML = """\
[attendance]
band_thresholds = [0.05, 0.15, 0.20]
chronic_threshold = 0.15

[suppression]
min_cell = 5
"""


@pytest.fixture(scope="module")
def settings_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("settings") / "pathwise.toml"
    path.write_text(SETTINGS_TOML)
    return path


@pytest.fixture(scope="module")
def district_under_settings(
    tmp_path_factory: pytest.TempPathFactory, settings_file: Path
) -> Iterator[str]:
    """A small demo district whose indicators and pipeline were computed under the file's
    settings, so the figures and the words on the page agree."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PATHWISE_SETTINGS", str(settings_file))
        url = f"sqlite:///{tmp_path_factory.mktemp('labels') / 'demo.db'}"
        engine = make_engine(url)
        build_demo(engine, DemoSpec(students=300, seed=11, today=date.today()))
        engine.dispose()
    yield url


@pytest.fixture
def page_under_settings(
    district_under_settings: str, settings_file: Path, monkeypatch: pytest.MonkeyPatch
) -> Callable[..., AppTest]:
    """Run one page function as a demo user with the deployment's settings file loaded."""
    monkeypatch.setenv("PATHWISE_DATABASE_URL", district_under_settings)
    monkeypatch.setenv("PATHWISE_DEMO_SIGNIN", "1")
    monkeypatch.setenv("PATHWISE_SETTINGS", str(settings_file))

    def run(page: str, who: str, **state: object) -> AppTest:
        module, function = page.split(".")
        at = AppTest.from_string(
            f"from pages.{module} import {function}\nfrom ui.guard import guarded\n"
            f"guarded({function})()\n",
            default_timeout=60,
        )
        at.user = {"is_logged_in": False}
        at.session_state["demo_email"] = email(who)
        for key, value in state.items():
            at.session_state[key] = value
        at.run()
        return at

    return run


def chart_specs(at: AppTest) -> list[dict]:
    """The Plotly figures of the page, as the JSON the browser receives."""
    return [json.loads(chart.proto.spec) for chart in at.get("plotly_chart")]


def chronic_lines(spec: dict) -> list[tuple[float, str]]:
    """(height, label) of every horizontal line drawn across the attendance figure."""
    layout = spec["layout"]
    heights = [s["y0"] for s in layout.get("shapes", []) if s.get("y0") == s.get("y1")]
    labels = [a["text"] for a in layout.get("annotations", [])]
    return list(zip(heights, labels, strict=True))


def test_the_profile_draws_and_states_the_deployments_chronic_absence_threshold(
    page_under_settings: Callable[..., AppTest],
) -> None:
    listed = page_under_settings("at_risk.at_risk_page", "counselor.hs01")
    assert not listed.exception, listed.exception
    assert not listed.error, [e.value for e in listed.error]
    student_id = table(listed).filter(table(listed)["absence_pct"].is_not_null())["student_id"][0]
    at = page_under_settings("student.student_page", "counselor.hs01", profile_student=student_id)
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    (figure,) = chart_specs(at)
    assert chronic_lines(figure) == [(15, "chronic absence (15%)")]
    page = texts(at)
    assert "Absent 15% or more of the days enrolled" in page


def test_the_family_sees_the_deployments_threshold_on_its_own_record(
    page_under_settings: Callable[..., AppTest], district_under_settings: str
) -> None:
    from data_access.bulk import read_table
    from data_access.models import User, table_of

    users = read_table(make_engine(district_under_settings), table_of(User))
    parent = users.filter(users["role"] == "parent")["email"][0]
    at = page_under_settings("my_record.my_record_page", parent)
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    figures = chart_specs(at)
    assert figures and all(chronic_lines(f) == [(15, "chronic absence (15%)")] for f in figures)


def test_the_pipeline_states_the_deployments_smallest_count(
    page_under_settings: Callable[..., AppTest],
) -> None:
    at = page_under_settings("pipeline.pipeline_page", "viewer")
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    page = texts(at)
    assert "a count under 5 shows as “<5”" in page
    assert "<10" not in page
    shown = [t for f in chart_specs(at) for d in f["data"] for t in d.get("text") or []]
    assert not any("<10" in str(t) for t in shown)


def test_the_tier_column_explains_tier_3_with_the_settings(
    page_under_settings: Callable[..., AppTest],
) -> None:
    at = page_under_settings("at_risk.at_risk_page", "counselor.hs01")
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    config = json.loads(at.dataframe[0].proto.columns)
    assert config["tier"]["help"] == (
        "Tier 3: 2 or more flags, severe chronic absence, or 2 or more core failures."
    )


@pytest.fixture
def a_new_flag(monkeypatch: pytest.MonkeyPatch) -> str:
    """A fifth flag in the vocabulary with no title, no definition card and no data yet:
    what a developer has right after adding it, before the rest of DEVELOPERS.md's
    checklist."""
    monkeypatch.setattr(vocabulary, "FLAGS", (*vocabulary.FLAGS, "attendance_drop"))
    return "attendance_drop"


def test_a_new_flag_without_title_card_or_data_does_not_crash_the_list(
    a_new_flag: str, app_as: Callable[..., AppTest]
) -> None:
    at = app_as("counselor.hs01")
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    assert at.title[0].value == "Who needs help this week?"
    flags = next(m for m in at.multiselect if m.label == "Flags (all of)")
    assert "Attendance drop" in flags.options
    assert table(at).height > 0


def test_a_new_flag_without_title_card_or_data_does_not_crash_the_profile(
    a_new_flag: str, app_as: Callable[..., AppTest], page_as: Callable[..., AppTest]
) -> None:
    student_id = table(app_as("counselor.hs01"))["student_id"][0]
    at = page_as("student.student_page", "counselor.hs01", profile_student=student_id)
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    labels = [e.label for e in at.expander]
    assert "Attendance drop: not shown (no data, or not shared with you)" in labels
    assert any(label.startswith("Chronic absence: ") for label in labels)
