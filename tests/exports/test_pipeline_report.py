"""The report module by itself (pure: frames in, PDF bytes out): a stage not observable yet
is printed as "not yet" and never as a number, the longest grouping still fits on one page,
and only what the frames show is printed."""

from __future__ import annotations

import io
import re
from datetime import date

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st
from pypdf import PdfReader

from domain.presentation import SHORT_STAGE_LABELS, STAGE_LABELS
from domain.vocabulary import PIPELINE_STAGES
from exports.pipeline_report import Definition, PipelineReport, build_report
from indicators.shown import biggest_leak_shown, gaps_shown
from indicators.suppression import suppress_groups

STAGES = list(PIPELINE_STAGES)
CARDS = {s: Definition(s.replace("_", " ").title(), "A rule.", "A source") for s in STAGES}


def funnel(
    displays: list[str], shown: list[int | None], shares: list[float | None]
) -> pl.DataFrame:
    return pl.DataFrame(
        {"stage": STAGES, "display": displays, "shown": shown, "share": shares},
        schema={"stage": pl.String, "display": pl.String, "shown": pl.Int64, "share": pl.Float64},
    )


def text_of(pdf: bytes) -> str:
    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) == 1
    return " ".join(reader.pages[0].extract_text().split())


def report(rows: pl.DataFrame, **extra: object) -> PipelineReport:
    trend = rows.with_columns(cohort=pl.lit(2027, dtype=pl.Int64))
    return PipelineReport(
        cohort=2027,
        as_of=date(2026, 11, 30),
        exact=True,
        funnel=rows,
        trend=trend,
        privacy_note="Exact figures.",
        definitions=CARDS,
        **extra,  # type: ignore[arg-type]
    )


def test_a_stage_not_observable_yet_prints_not_yet_and_no_number() -> None:
    rows = funnel(
        ["412", "377", "not yet (from Sep 1, 2027)", "not yet (from Jul 1, 2027)",
         "not yet (from Nov 1, 2027)", "not yet (from Nov 1, 2028)"],
        [412, 377, None, None, None, None],
        [100.0, 91.5, None, None, None, None],
    )  # fmt: skip
    text = text_of(build_report(report(rows)))
    assert "not yet (from Sep 1, 2027)" in text and "not yet (from Nov 1, 2028)" in text
    assert "412 (100.0%)" in text and "377 (91.5%)" in text
    # The biggest leak is between observed stages only.
    assert "Biggest leak: 35 students, 8%" in text
    assert "suppressed" not in text


def test_the_cubes_not_yet_code_prints_not_yet_with_the_date_it_becomes_observable() -> None:
    rows = funnel(
        ["412", "377", "not_yet", "not_yet", "not_yet", "not_yet"],
        [412, 377, None, None, None, None],
        [100.0, 91.5, None, None, None, None],
    )
    text = text_of(build_report(report(rows)))
    assert "not_yet" not in text and "suppressed" not in text
    # The class of 2027 as of Nov 30, 2026: graduation (and FAFSA with it) from Sep 1, 2027.
    assert text.count("not yet (from Sep 1, 2027)") == 2
    assert "not yet (from Nov 1, 2027)" in text and "not yet (from Nov 1, 2028)" in text


def test_the_longest_grouping_fits_on_one_page() -> None:
    rows = funnel(
        ["1000", "900", "800", "600", "500", "400"],
        [1000, 900, 800, 600, 500, 400],
        [100.0, 90.0, 80.0, 60.0, 50.0, 40.0],
    )
    groups = pl.concat(
        [
            rows.with_columns(
                group=pl.lit(f"School number {i} with a long name"),
                shown=pl.col("shown") // (i + 2),
                display=(pl.col("shown") // (i + 2)).cast(pl.String),
            )
            for i in range(10)
        ]
    ).select("group", "stage", "display", "shown", "share")
    text = text_of(build_report(report(rows, by_label="School", groups=groups)))
    assert "School number 9 with" in text and "Definitions and sources" in text


def test_a_hidden_stage_prints_its_display_and_never_a_count() -> None:
    rows = funnel(
        ["40", "*", "<10", "<10", "<10", "<10"],
        [40, None, None, None, None, None],
        [100.0, None, None, None, None, None],
    )
    text = text_of(build_report(report(rows)))
    assert "*: suppressed to protect privacy" in text
    assert "<10: suppressed to protect privacy" in text
    assert "No leak can be stated" in text


@st.composite
def cohort_by_group(draw: st.DrawFn) -> dict[str, list[int]]:
    """Six-stage funnels of two to four groups (nested: a stage never exceeds the one
    before), with many small and close counts so that suppression has work to do."""
    table = {}
    for g in range(draw(st.integers(2, 4))):
        count = draw(st.integers(0, 150))
        counts = [count]
        for _ in STAGES[1:]:
            count -= (
                draw(st.integers(0, count))
                if draw(st.booleans())
                else draw(st.integers(0, min(count, 12)))
            )
            counts.append(count)
        table[f"G{g}"] = counts
    return table


def numbers(text: str) -> set[str]:
    return {n.replace(",", "") for n in re.findall(r"\d[\d,]*(?:\.\d+)?", text)}


@settings(max_examples=12, deadline=None)
@given(cohort_by_group())
def test_no_hidden_count_of_a_protected_grouping_reaches_the_pdf(
    table: dict[str, list[int]],
) -> None:
    counts = pl.DataFrame(
        [(g, s, c) for g, values in table.items() for s, c in zip(STAGES, values, strict=True)],
        schema={"group": pl.String, "stage": pl.String, "count": pl.Int64},
        orient="row",
    )
    protected = suppress_groups(counts, min_cell=10)
    rows = protected.totals.select("stage", "display", "shown", "share")
    groups = protected.groups.select("group", "stage", "display", "shown", "share")
    pdf = build_report(
        PipelineReport(
            cohort=2024,
            as_of=date(2026, 11, 30),
            exact=False,
            funnel=rows,
            trend=rows.with_columns(cohort=pl.lit(2024, dtype=pl.Int64)),
            privacy_note="Protected.",
            definitions=CARDS,
            by_label="Group",
            groups=groups,
        )
    )
    printed = numbers(text_of(pdf).replace("Group G", "Group "))
    allowed = {"2024", "30", "2026", "0", "20", "40", "60", "80", "100", "10"}
    allowed |= {str(g) for g in range(len(table))}  # the group names G0, G1...
    allowed |= numbers(" ".join([*STAGE_LABELS.values(), *SHORT_STAGE_LABELS.values()]))
    for frame in (rows, groups):
        allowed |= {str(v) for v in frame["shown"].drop_nulls()}
        allowed |= {f"{v:.{d}f}" for v in frame["share"].drop_nulls() for d in (0, 1)}
    leak = biggest_leak_shown(rows)
    if leak is not None:
        allowed |= {str(leak["lost"]), f"{leak['share_lost']:.0f}"}
    gaps = gaps_shown(groups.select("group", "stage", "shown"), rows.select("stage", "shown"))
    for column in ("group_rate", "rest_rate", "gap_points"):
        allowed |= {f"{abs(v):.1f}" for v in gaps[column]}
    assert printed <= allowed, sorted(printed - allowed)
