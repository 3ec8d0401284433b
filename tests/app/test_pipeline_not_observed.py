"""The pipeline page says "not observed (no college data loaded for this class)" for the
college stages of a class never searched by the Clearinghouse and with no college value
in `outcomes` (issue 15, part 1), to a leader (exact figures) and to a viewer (protected
ones) alike: on grey bars with no number, in the small multiples, and in the seamless or
delayed split; and a class searched with no record found shows its zero.

The world is tests/policy/test_pipeline_not_observed.py's (the small world plus the
graduated classes of 2023, never searched, 2024, searched and none found, and 2025, with
its own outcomes file), refreshed on 2026-11-30; the signed-in user's "today" is pinned to
the same date (ui.session.today).
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from streamlit.testing.v1 import AppTest

from data_access import schema
from data_access.derived import refresh_derived
from data_access.engine import make_engine
from data_access.meta import DEMO_KEY, set_meta
from domain.presentation import NOT_OBSERVED_LABEL, SHORT_STAGE_LABELS
from indicators.observable import NOT_OBSERVED_WORDS
from tests.app.test_pipeline_not_yet import bars, charts, selector
from tests.policy.test_pipeline_not_observed import NOV_30, add_three_graduated_classes
from tests.worlds import build_small_world
from ui.components import STAGE_LABELS

ROLES = ["leader@d.org", "viewer@city.org"]
COLLEGE = [STAGE_LABELS["enrolled_postsecondary"], STAGE_LABELS["persisted"]]


@pytest.fixture(scope="module")
def unsearched_district(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('unsearched') / 'world.db'}"
    engine = make_engine(url)
    schema.upgrade(engine)
    build_small_world(engine)
    add_three_graduated_classes(engine)
    refresh_derived(engine, as_of=NOV_30)
    with engine.begin() as connection:  # a test world: demo sign-in picks its users
        set_meta(connection, {DEMO_KEY: "true"})
    engine.dispose()
    return url


@pytest.fixture
def pipeline_as(
    unsearched_district: str, monkeypatch: pytest.MonkeyPatch
) -> Callable[..., AppTest]:
    monkeypatch.setenv("PATHWISE_DATABASE_URL", unsearched_district)
    monkeypatch.setenv("PATHWISE_DEMO_SIGNIN", "1")
    monkeypatch.setattr("ui.session.today", lambda: NOV_30)

    def run(who: str, cohort: int, by: str | None = None) -> AppTest:
        at = AppTest.from_string(
            "from pages.pipeline import pipeline_page\nfrom ui.guard import guarded\n"
            "guarded(pipeline_page)()\n",
            default_timeout=60,
        )
        at.user = {"is_logged_in": False}
        at.session_state["demo_email"] = who
        at.run()
        selector(at, "Cohort").select(cohort).run()
        if by is not None:
            selector(at, "Compare by").select(by).run()
        assert not at.exception, at.exception
        return at

    return run


@pytest.mark.parametrize("who", ROLES)
def test_a_class_never_searched_says_not_observed_on_grey_bars_with_no_number(
    pipeline_as: Callable[..., AppTest], who: str
) -> None:
    at = pipeline_as(who, 2023)
    funnel = bars(charts(at)[0])
    for label in COLLEGE:
        assert funnel[label]["text"] == NOT_OBSERVED_WORDS, (who, label)
    assert funnel[STAGE_LABELS["graduated"]]["text"] != NOT_OBSERVED_WORDS
    leak = [m.value for m in at.markdown if "Biggest leak" in m.value]
    assert all(label not in line for line in leak for label in COLLEGE), leak
    infos = [i.value for i in at.info]
    assert any(NOT_OBSERVED_WORDS in text for text in infos), infos  # the timing split


@pytest.mark.parametrize("who", ROLES)
def test_the_small_multiples_of_a_class_never_searched_say_not_observed(
    pipeline_as: Callable[..., AppTest], who: str
) -> None:
    at = pipeline_as(who, 2023, by="school_id")
    panels = [bars(figure) for figure in charts(at)[1:3]]  # First High, Second High
    assert len(panels) == 2
    for panel in panels:
        texts = [
            panel[SHORT_STAGE_LABELS[s]]["text"] for s in ("enrolled_postsecondary", "persisted")
        ]
        assert texts == [NOT_OBSERVED_LABEL, NOT_OBSERVED_LABEL], who


@pytest.mark.parametrize("who", ROLES)
def test_a_class_searched_with_no_record_found_shows_its_zero_not_not_observed(
    pipeline_as: Callable[..., AppTest], who: str
) -> None:
    at = pipeline_as(who, 2024)
    funnel = bars(charts(at)[0])
    expected = "0 (0.0%)" if who.startswith("leader") else "<10"
    assert funnel[STAGE_LABELS["enrolled_postsecondary"]]["text"] == expected, who
    assert all(i.value.find(NOT_OBSERVED_WORDS) < 0 for i in at.info)
