"""The one-page pipeline report (issue 12, part 4): read through `data_access.api` on both
databases, it opens as one PDF page holding what the page shows, is audited as an export,
and a protected viewer's report holds no number the viewer's page does not show.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable
from datetime import date

import polars as pl
import pytest
from pypdf import PdfReader
from sqlalchemy import Engine, select

from data_access import api
from data_access.audit import AUDIT_EVENT
from data_access.demo_build import build_demo
from data_access.identity import sign_in
from data_access.policy import Principal
from demo_district.generate import DemoSpec
from indicators.definitions import COHORT_SOURCE, definitions
from indicators.settings import load_settings
from indicators.shown import biggest_leak_shown, gaps_shown

TODAY = date(2026, 11, 30)
COHORT = 2025
NUMBER = re.compile(r"\d[\d,]*(?:\.\d+)?")


@pytest.fixture
def district(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> Engine:
    build_demo(engine, DemoSpec(students=300, seed=5, today=TODAY))
    monkeypatch.setenv("PATHWISE_DATABASE_URL", engine.url.render_as_string(hide_password=False))
    return engine


def who(engine: Engine, role: str) -> Principal:
    return sign_in(engine, f"{role}@demo.pathwise.example", TODAY)


def pdf_text(pdf: bytes) -> tuple[int, str]:
    reader = PdfReader(io.BytesIO(pdf))
    return len(reader.pages), "\n".join(page.extract_text() for page in reader.pages)


def numbers(text: str) -> set[str]:
    return {n.replace(",", "") for n in NUMBER.findall(text)}


def _formats(values: Iterable[float | None], *digits: int) -> set[str]:
    return {f"{abs(v):.{d}f}" for v in values if v is not None for d in digits}


def shown_numbers(principal: Principal, by: str | None) -> set[str]:
    """Every number the page may print for this viewer: shown counts and shares, leaks and
    gaps of shown counts, cohorts and the date, the y axis of the trend, and the numbers of
    the fixed texts (definitions, sources, privacy note)."""
    funnel = api.pipeline(principal, COHORT).rows
    groups = api.pipeline(principal, COHORT, by).rows if by else funnel.head(0)
    trend = api.pipeline_trend(principal)
    frames = [funnel, groups, trend]
    allowed: set[str] = set()
    for frame in frames:
        allowed |= {str(v) for v in frame["shown"].drop_nulls()}
        allowed |= _formats(frame["share"], 0, 1)
        allowed |= numbers(" ".join(frame["display"].to_list()))  # "<10" says the minimum
    allowed |= {str(c) for c in trend["cohort"].unique()}
    leak = biggest_leak_shown(funnel)
    if leak is not None:
        allowed |= {str(leak["lost"]), f"{leak['share_lost']:.0f}"}
    if by:
        gaps = gaps_shown(groups.select("group", "stage", "shown"), funnel.select("stage", "shown"))
        for column in ("group_rate", "rest_rate", "gap_points"):
            allowed |= _formats(gaps[column], 1)
    allowed |= {str(TODAY.day), str(TODAY.year), "0", "20", "40", "60", "80", "100"}
    settings = load_settings()
    for card in definitions(settings).values():
        allowed |= numbers(f"{card.title} {card.rule} {card.source}")
    allowed |= {str(settings.min_cell)}
    return allowed


def test_the_report_is_one_page_with_the_funnel_leak_gaps_trend_date_sources_and_privacy(
    district: Engine,
) -> None:
    pdf = api.pipeline_report(who(district, "leader"), COHORT, "school_id", "School")
    pages, text = pdf_text(pdf)
    assert pdf.startswith(b"%PDF") and pages == 1
    flat = " ".join(text.split())
    for expected in (
        f"Class of {COHORT}",
        "November 30, 2026",
        "Entered grade 9",
        "Second year of college",
        "Biggest leak",
        "By school",
        "Central High School",
        "Largest equity gaps",
        "Cohort over cohort",
        "Privacy",
        "Definitions and sources",
        "34 CFR 200.19(b)",
        "exact figures",
    ):
        assert expected in flat, expected
    assert COHORT_SOURCE.split(",")[0] in flat


def test_a_viewers_report_holds_no_number_the_viewers_page_does_not_show(
    district: Engine,
) -> None:
    viewer, leader = who(district, "viewer"), who(district, "leader")
    revealed = 0
    for by in (None, "school_id", "race_ethnicity", "disability"):
        allowed = shown_numbers(viewer, by)
        _, text = pdf_text(api.pipeline_report(viewer, COHORT, by))
        assert "privacy-protected figures" in " ".join(text.split())
        assert numbers(text) <= allowed, (by, sorted(numbers(text) - allowed))
        # The check can fail: the leader's report of the same view prints hidden counts.
        exact = api.pipeline(leader, COHORT, by).rows
        hidden = api.pipeline(viewer, COHORT, by).rows["shown"].is_null()
        revealing = {str(c) for c in exact.filter(hidden)["shown"]} - allowed
        if revealing:
            _, leaders = pdf_text(api.pipeline_report(leader, COHORT, by))
            assert numbers(leaders) & revealing
            revealed += 1
    assert revealed, "no hidden count in this world: the check above proves nothing"


def test_meeting_mode_prints_the_protected_report_even_for_a_leader(district: Engine) -> None:
    leader = who(district, "leader")
    _, text = pdf_text(api.pipeline_report(leader.in_meeting_mode(), COHORT, "school_id"))
    assert numbers(text) <= shown_numbers(leader.in_meeting_mode(), "school_id")


def test_the_report_is_audited_as_an_export(district: Engine) -> None:
    api.pipeline_report(who(district, "viewer"), COHORT, "gender", "Gender")
    with district.connect() as connection:
        events = connection.execute(
            select(AUDIT_EVENT.c.action, AUDIT_EVENT.c.detail).where(
                AUDIT_EVENT.c.user_email == "viewer@demo.pathwise.example"
            )
        ).all()
    assert [e.action for e in events] == ["pipeline.export"]
    assert "pdf" in str(events[0].detail) and "gender" in str(events[0].detail)


def test_a_role_without_figures_gets_no_report(district: Engine) -> None:
    with pytest.raises(api.AccessDenied):
        api.pipeline_report(who(district, "student"), COHORT)


def test_the_report_matches_the_frames_the_page_reads(district: Engine) -> None:
    viewer = who(district, "viewer")
    _, text = pdf_text(api.pipeline_report(viewer, COHORT))
    flat = " ".join(text.split())
    for row in api.pipeline(viewer, COHORT).rows.iter_rows(named=True):
        label = f"{row['display']} ({row['share']:.1f}%)" if row["share"] is not None else None
        assert label is None or label in flat, label
    assert pl.Series(sorted(numbers(text))).len() > 0
