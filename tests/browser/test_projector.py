"""The pipeline page on a projector (issue 12, part 4): drawn by Chromium at the two common
projector modes in meeting mode, and at 1400 px for a leader at a desk, every chart is
measured as drawn: each text (value labels, stage names, titles, notes, legend entries)
lies inside its figure, value labels do not cover the stage names, the legend does not
cover the plotting area, and in meeting mode no chart text is under 14 px. The screenshots
go to docs/screenshots/ for the README's gallery.
"""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect
from pypdf import PdfReader

from domain.presentation import MIN_TEXT_PX
from tests.browser.conftest import screenshot, sign_in, wait_for_app

#: For every Plotly figure of the page: its box, the plotting area, the legend, and every
#: SVG text with its box and font size (page coordinates, px).
MEASURE = """
() => [...document.querySelectorAll('.js-plotly-plot')].map((plot) => {
  const box = (el) => { const r = el.getBoundingClientRect();
    return {left: r.left, top: r.top, right: r.right, bottom: r.bottom,
            width: r.width, height: r.height}; };
  const area = plot.querySelector('.nsewdrag');
  const legend = plot.querySelector('.legend');
  const title = plot.querySelector('.gtitle');
  return {
    figure: box(plot.querySelector('.main-svg')),
    area: area ? box(area) : null,
    legend: legend ? box(legend) : null,
    title: title ? title.textContent : '',
    texts: [...plot.querySelectorAll('svg text')]
      .filter((t) => t.textContent.trim() !== '' && t.getBBox().width > 0)
      .map((t) => ({text: t.textContent, cls: t.getAttribute('class') || '',
                    parent: t.parentNode.getAttribute('class') || '',
                    size: parseFloat(getComputedStyle(t).fontSize), box: box(t)})),
  };
})
"""
SLACK = 1.0  # px of anti-aliasing


def inside(inner: dict[str, float], outer: dict[str, float]) -> bool:
    return (
        inner["left"] >= outer["left"] - SLACK
        and inner["right"] <= outer["right"] + SLACK
        and inner["top"] >= outer["top"] - SLACK
        and inner["bottom"] <= outer["bottom"] + SLACK
    )


def overlap(a: dict[str, float], b: dict[str, float]) -> bool:
    return (
        min(a["right"], b["right"]) - max(a["left"], b["left"]) > SLACK
        and min(a["bottom"], b["bottom"]) - max(a["top"], b["top"]) > SLACK
    )


def open_pipeline_by_school(page: Page, url: str) -> None:
    page.goto(url)
    wait_for_app(page)
    expect(page.get_by_text("Where do our students leave the path?")).to_be_visible()
    page.get_by_test_id("stSelectbox").filter(has_text="Compare by").click()
    page.get_by_role("option", name="School").click()
    wait_for_app(page)
    expect(page.get_by_text("By school")).to_be_visible()
    page.wait_for_timeout(800)  # Plotly lays out after the script has finished


def show_the_school_panels(page: Page) -> None:
    """Scroll the "By school" small multiples (the view a work group projects) to the top of
    the window for the screenshot; Streamlit scrolls its own container, not the document."""
    page.get_by_text("By school").evaluate("(el) => el.scrollIntoView({block: 'start'})")
    page.mouse.move(1, 1)  # no hover: Plotly's toolbar shows only under the pointer
    page.wait_for_timeout(500)


def assert_charts_readable(page: Page, *, meeting: bool) -> list[dict[str, Any]]:
    charts: list[dict[str, Any]] = page.evaluate(MEASURE)
    assert len(charts) >= 4, "the all-students funnel, the school panels and the trend"
    for chart in charts:
        where = chart["title"] or "trend"
        for text in chart["texts"]:
            assert inside(text["box"], chart["figure"]), (where, text["text"], "is cut off")
            if meeting:
                assert text["size"] >= MIN_TEXT_PX, (where, text["text"], text["size"])
        labels = [t for t in chart["texts"] if "bartext" in t["cls"]]
        stage_names = [t for t in chart["texts"] if "ytick" in t["parent"] or "ytick" in t["cls"]]
        for label in labels:
            for name in stage_names:
                assert not overlap(label["box"], name["box"]), (where, label["text"], name["text"])
        for i, label in enumerate(labels):
            for other in labels[i + 1 :]:
                assert not overlap(label["box"], other["box"]), (where, label["text"])
        if chart["legend"] and chart["area"] and chart["legend"]["width"] > 0:
            assert not overlap(chart["legend"], chart["area"]), (where, "legend over the data")
    return charts


@pytest.mark.parametrize(("width", "height"), [(1280, 720), (1920, 1080)])
def test_the_pipeline_reads_on_a_projector_in_meeting_mode(
    browser: Browser, app_url: str, width: int, height: int
) -> None:
    leader = browser.new_page(viewport={"width": width, "height": height})
    sign_in(leader, app_url, "leader")
    open_pipeline_by_school(leader, f"{app_url}/pipeline?mode=meeting")
    expect(leader.get_by_text("Meeting mode is on")).to_be_visible()
    charts = assert_charts_readable(leader, meeting=True)
    assert any("Hatched" in t["text"] for c in charts for t in c["texts"]), "no suppressed bar"
    show_the_school_panels(leader)
    screenshot(leader, f"pipeline-meeting-{width}x{height}")
    leader.get_by_text("Cohort over cohort").evaluate("(el) => el.scrollIntoView({block: 'start'})")
    leader.wait_for_timeout(500)
    screenshot(leader, f"pipeline-meeting-trend-{width}x{height}")
    if width == 1280:
        assert_the_report_downloads_protected(leader)
    leader.close()


def assert_the_report_downloads_protected(page: Page) -> None:
    """The download button hands over the one-page PDF, protected in meeting mode."""
    with page.expect_download() as download:
        page.get_by_role("button", name="Download a one-page report (PDF)").click()
    path = download.value.path()
    reader = PdfReader(str(path))
    text = " ".join(reader.pages[0].extract_text().split())
    assert len(reader.pages) == 1 and "By school" in text
    assert "privacy-protected figures" in text


def test_the_pipeline_reads_at_a_leaders_desk(browser: Browser, app_url: str) -> None:
    leader = browser.new_page(viewport={"width": 1400, "height": 1000})
    sign_in(leader, app_url, "leader")
    open_pipeline_by_school(leader, f"{app_url}/pipeline")
    assert_charts_readable(leader, meeting=False)
    show_the_school_panels(leader)
    screenshot(leader, "pipeline-leader-1400")
    leader.close()
