"""The report module by itself (pure: frames in, PDF bytes out): a stage not observable yet
is printed as "not yet" and never as a number, the longest grouping still fits on one page,
and only what the frames show is printed."""

from __future__ import annotations

import io
from datetime import date

import polars as pl
from pypdf import PdfReader

from domain.vocabulary import PIPELINE_STAGES
from exports.pipeline_report import Definition, PipelineReport, build_report

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
