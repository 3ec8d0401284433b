"""The PDF report of a class without college data (issue 15, part 1): its college stages
print "not observed (no college data loaded for this class)", never a number, and are
left out of the biggest leak and the equity gaps."""

from __future__ import annotations

import polars as pl

from domain.presentation import NOT_OBSERVED_LABEL
from exports.pipeline_report import build_report
from indicators.observable import NOT_OBSERVED, NOT_OBSERVED_WORDS
from tests.exports.test_pipeline_report import funnel, report, text_of

DISPLAYS = ["412", "377", "350", "300", NOT_OBSERVED, NOT_OBSERVED]
SHOWN = [412, 377, 350, 300, None, None]
SHARES = [100.0, 91.5, 85.0, 72.8, None, None]


def test_the_college_stages_of_a_class_without_data_print_not_observed_and_no_number() -> None:
    text = text_of(build_report(report(funnel(DISPLAYS, SHOWN, SHARES))))
    assert text.count(NOT_OBSERVED_WORDS) == 2
    assert NOT_OBSERVED not in text and "suppressed" not in text
    # The biggest leak is between observed stages only (graduated -> FAFSA, 14%).
    assert "Biggest leak: 50 students, 14%" in text


def test_the_group_table_says_not_observed_for_those_stages() -> None:
    groups = pl.concat(
        [
            funnel(DISPLAYS, SHOWN, SHARES).with_columns(group=pl.lit(name))
            for name in ("HS1", "HS2")
        ]
    )
    text = text_of(build_report(report(funnel(DISPLAYS, SHOWN, SHARES), by_label="School",
                                       groups=groups)))  # fmt: skip
    assert text.count(NOT_OBSERVED_LABEL) >= 2 + 2 * 2  # the funnel's two, each group's two
