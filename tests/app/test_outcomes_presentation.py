"""What the "Is it working?" page says and draws (ui/outcomes.py), on hand-made estimate rows
in the contract's columns (issue 13): one sentence per measure and verdict, words instead of
numbers wherever the protected table hides one, the naive note, and charts that read on a
projector (the checks of tests/app/test_charts_readable.py).
"""

from __future__ import annotations

import json
import re
from typing import Any

import polars as pl
import pytest

from domain.presentation import (
    LINE_STYLES,
    LOWER_IS_BETTER,
    MIN_TEXT_PX,
    OUTCOME_LABELS,
    PALETTE,
    VERDICT_STYLES,
    chart_text,
)
from tests.app.test_charts_readable import assert_readable
from ui.outcomes import (
    EFFECT_HEADROOM,
    LIKELY_TO,
    MATCHING_NOTE,
    MINUS,
    NAIVE_NOTE,
    WWC_ADJUSTED,
    WWC_SATISFIED,
    balance_table,
    effect_figure,
    month_label,
    naive_note,
    not_drawn,
    outcome_sentence,
    program_names,
    program_table,
    subgroup_label,
    subgroup_options,
    trajectory_figure,
)

PROGRAM = "Every Day Counts"
ORG_NAMES = {"ORG05": "Every Day Counts", "ORG03": "Youth Tutoring Network"}
CHANGE = sorted(LOWER_IS_BETTER)
SHARES = [m for m in OUTCOME_LABELS if m not in LOWER_IS_BETTER]


def estimate(**values: Any) -> dict[str, Any]:
    """One `estimates` row of the contract (exact, with its `_display` columns): Every Day
    Counts' attendance program in 2025-26, absence rate, better; `values` override."""
    row: dict[str, Any] = {
        "school_year": 2026,
        "org_id": "ORG05",
        "service_type": "attendance",
        "measure": "absence_rate",
        "group_by": "all",
        "group_value": "all",
        "served": 84,
        "excluded": 2,
        "matched": 80,
        "comparison": 310,
        "unserved": 2400,
        "served_before": 16.2,
        "served_after": 12.9,
        "comparison_before": 15.8,
        "comparison_after": 15.3,
        "effect": -2.8,
        "ci_low": -4.1,
        "ci_high": -1.5,
        "effect_size": -0.34,
        "effect_size_kind": "hedges_g",
        "max_smd": 0.04,
        "balance": "ok",
        "naive_effect": 3.6,
        "verdict": "better",
        "mean_sessions": None,
        "mean_hours": None,
    }
    row.update(values)
    for count in ("served", "matched", "comparison"):
        if f"{count}_display" not in values:
            row[f"{count}_display"] = None if row[count] is None else str(row[count])
    return row


def frame(*rows: dict[str, Any]) -> pl.DataFrame:
    return pl.DataFrame(list(rows), infer_schema_length=None)


def as_json(figure: Any) -> dict[str, Any]:
    return json.loads(json.dumps(figure.to_plotly_json(), default=list))


def numbers(text: str) -> list[str]:
    return re.findall(r"\d+(?:\.\d+)?", text)


# --- the sentence -----------------------------------------------------------------------------


def test_the_issues_example_sentence_is_said_word_for_word() -> None:
    assert outcome_sentence(estimate(), PROGRAM) == (
        "Students served by Every Day Counts missed 2.8 fewer percentage points of school days "
        "than similar students who were not served (95% CI 1.5 to 4.1). Students were not "
        "assigned at random; the comparison matches them on school, grade, absence, failing "
        "marks, prior test results and need."
    )


@pytest.mark.parametrize("measure", CHANGE)
@pytest.mark.parametrize("verdict", ["better", "worse"])
def test_a_change_measure_says_fewer_when_better_and_more_when_worse(
    measure: str, verdict: str
) -> None:
    sign = -1 if verdict == "better" else 1
    row = estimate(
        measure=measure, verdict=verdict, effect=sign * 0.42, ci_low=min(sign * 0.1, sign * 0.74),
        ci_high=max(sign * 0.1, sign * 0.74),
    )  # fmt: skip
    sentence = outcome_sentence(row, PROGRAM)
    places = 2 if measure == "core_fails" else 1
    word = "fewer" if verdict == "better" else "more"
    size = f"{0.42:.{places}f}"
    unit = "failing core marks per student" if measure == "core_fails" else "percentage points"
    assert f"{size} {word} {unit}" in sentence
    assert f"(95% CI {0.1:.{places}f} to {0.74:.{places}f})" in sentence
    assert sentence.endswith(MATCHING_NOTE)


@pytest.mark.parametrize("measure", SHARES)
@pytest.mark.parametrize("verdict", ["better", "worse"])
def test_a_yes_no_measure_says_more_likely_when_better_and_less_likely_when_worse(
    measure: str, verdict: str
) -> None:
    sign = 1 if verdict == "better" else -1
    row = estimate(
        measure=measure, verdict=verdict, effect=sign * 6.0, ci_low=min(sign * 2.5, sign * 9.5),
        ci_high=max(sign * 2.5, sign * 9.5), served_before=None, comparison_before=None,
        effect_size_kind="cox_index",
    )  # fmt: skip
    sentence = outcome_sentence(row, PROGRAM)
    word = "more" if verdict == "better" else "less"
    assert f"were 6.0 percentage points {word} likely {LIKELY_TO[measure]} than" in sentence
    assert "(95% CI 2.5 to 9.5)" in sentence
    assert sentence.endswith(MATCHING_NOTE)


@pytest.mark.parametrize("measure", list(OUTCOME_LABELS))
def test_an_interval_containing_zero_says_no_clear_difference_with_the_signed_interval(
    measure: str,
) -> None:
    row = estimate(measure=measure, verdict="no_difference", effect=0.6, ci_low=-0.9, ci_high=2.1)
    sentence = outcome_sentence(row, PROGRAM)
    places = 2 if measure == "core_fails" else 1
    assert sentence.startswith(f"No clear difference: students served by {PROGRAM}")
    assert "about as" in sentence and "could be zero" in sentence
    low, high = f"{MINUS}{0.9:.{places}f}", f"+{2.1:.{places}f}"
    assert f"+{0.6:.{places}f}" in sentence and f"95% CI {low} to {high}" in sentence
    assert "fewer" not in sentence and "more likely" not in sentence


@pytest.mark.parametrize(
    ("measure", "effect", "said"),
    [
        ("absence_rate", -1.0, "1.0 fewer percentage point of school days"),
        ("absence_rate", -1.04, "1.0 fewer percentage point of school days"),
        ("absence_rate", -1.1, "1.1 fewer percentage points of school days"),
        ("core_fails", -1.0, "1.00 fewer failing core mark per student"),
        ("core_fails", -0.5, "0.50 fewer failing core marks per student"),
        ("graduated", 1.0, "1.0 percentage point more likely to graduate"),
    ],
)
def test_one_unit_is_singular_and_any_other_amount_plural(
    measure: str, effect: float, said: str
) -> None:
    low, high = sorted((effect * 0.5, effect * 1.5))
    row = estimate(measure=measure, effect=effect, ci_low=low, ci_high=high)
    assert said in outcome_sentence(row, PROGRAM)


@pytest.mark.parametrize("measure", list(OUTCOME_LABELS))
def test_too_few_students_says_so_and_shows_no_effect(measure: str) -> None:
    row = estimate(
        measure=measure, verdict="too_few", served=35, matched=12, effect=None, ci_low=None,
        ci_high=None, effect_size=None, balance=None,
    )  # fmt: skip
    sentence = outcome_sentence(row, PROGRAM)
    assert sentence.startswith("Too few students to tell")
    assert "12 of 35 served students were matched" in sentence
    assert numbers(sentence.split(":", 1)[1]) == ["12", "35"]
    table = program_table(frame(row), ORG_NAMES).row(0, named=True)
    assert table["effect"] == "Too few students to tell" and table["effect_size"] == "—"


def test_too_few_with_a_single_match_is_singular_and_a_small_count_is_said_as_fewer_than() -> None:
    one = estimate(verdict="too_few", served=31, matched=1, effect=None, ci_low=None, ci_high=None)
    assert "1 of 31 served students was matched" in outcome_sentence(one, PROGRAM)
    small = estimate(
        verdict="too_few", matched=None, matched_display="<10", effect=None, ci_low=None,
        ci_high=None,
    )  # fmt: skip
    assert "fewer than 10 of 84 served students were matched" in outcome_sentence(small, PROGRAM)
    hidden = estimate(
        verdict="too_few", served=None, served_display="*", matched=None, matched_display="<10",
        effect=None, ci_low=None, ci_high=None,
    )  # fmt: skip
    sentence = outcome_sentence(hidden, PROGRAM)
    assert sentence.startswith("Too few students to tell") and not numbers(sentence)


def test_a_comparison_that_is_not_credible_shows_no_effect() -> None:
    row = estimate(
        verdict="not_comparable", balance="not_comparable", max_smd=0.41, effect=None,
        ci_low=None, ci_high=None, effect_size=None,
    )  # fmt: skip
    sentence = outcome_sentence(row, PROGRAM)
    assert "not" in sentence and "credible" in sentence and not numbers(sentence)
    shown = program_table(frame(row), ORG_NAMES).row(0, named=True)
    assert shown["effect"] == "Comparison not credible" and shown["balance"] == "Not comparable"


# --- protected rows: never a number that is null ----------------------------------------------


def protected_pair() -> tuple[dict[str, Any], dict[str, Any]]:
    """An exact row with distinctive figures, and the protected row the public table makes of
    it: served under min_cell, matched hidden by complementary suppression, effect, interval,
    effect size, means and balance null."""
    exact = estimate(
        served=7, matched=6, comparison=23, served_before=31.7, served_after=27.3,
        comparison_before=29.3, comparison_after=28.9, effect=-7.7, ci_low=-8.8, ci_high=-6.6,
        effect_size=-0.77, naive_effect=5.5,
    )  # fmt: skip
    protected = {
        **exact,
        "served": None,
        "served_display": "<10",
        "matched": None,
        "matched_display": "*",
        "comparison": 23,
        "comparison_display": "23",
        **dict.fromkeys(
            (
                "served_before",
                "served_after",
                "comparison_before",
                "comparison_after",
                "effect",
                "ci_low",
                "ci_high",
                "effect_size",
                "max_smd",
                "balance",
                "naive_effect",
            ),
        ),  # fmt: skip
    }
    return exact, protected


HIDDEN_FIGURES = ["7.7", "8.8", "6.6", "0.77", "31.7", "27.3", "29.3", "28.9", "5.5"]


def test_a_protected_row_shows_its_small_counts_as_text_and_hides_every_null_figure() -> None:
    _, protected = protected_pair()
    shown = program_table(frame(protected), ORG_NAMES).row(0, named=True)
    assert shown["served"] == "<10" and shown["matched"] == "*" and shown["comparison"] == "23"
    assert shown["effect"] == "hidden" and shown["effect_size"] == "—"
    assert shown["naive"] == "—" and shown["balance"] == "—"
    assert "hidden to protect privacy" in shown["sentence"] and not numbers(shown["sentence"])
    everything = json.dumps(shown)
    assert not [figure for figure in HIDDEN_FIGURES if figure in everything]


def test_a_protected_row_is_not_drawn_and_is_listed_as_hidden() -> None:
    exact, protected = protected_pair()
    other = estimate(
        org_id="ORG03", service_type="academic", effect=-1.2, ci_low=-2.0, ci_high=-0.4
    )
    rows = frame(protected, other)
    figure = as_json(effect_figure(rows, ORG_NAMES, measure="absence_rate"))
    assert [t["y"] for t in figure["data"]] == [["Youth Tutoring Network"]]
    said = json.dumps([(t["text"], t["customdata"], t["hovertemplate"]) for t in figure["data"]])
    assert not [f for f in HIDDEN_FIGURES if f in said]
    assert not_drawn(rows, ORG_NAMES, measure="absence_rate") == [
        "Every Day Counts: hidden to protect privacy"
    ]
    drawn = as_json(effect_figure(frame(exact, other), ORG_NAMES, measure="absence_rate"))
    assert sum(len(t["x"]) for t in drawn["data"]) == 2  # the exact row is drawn


# --- the naive comparison ----------------------------------------------------------------------


def test_a_naive_figure_pointing_the_other_way_gets_the_note_on_why() -> None:
    note = naive_note(estimate(effect=-2.8, naive_effect=3.6))
    assert note is not None and NAIVE_NOTE in note and "+3.6 percentage points" in note
    shown = program_table(frame(estimate()), ORG_NAMES).row(0, named=True)
    assert shown["naive"] == "+3.6 (other way)" and shown["note"] == note


@pytest.mark.parametrize("naive", [-4.0, None])
def test_no_note_when_the_naive_figure_agrees_or_is_hidden(naive: float | None) -> None:
    assert naive_note(estimate(effect=-2.8, naive_effect=naive)) is None
    assert naive_note(estimate(effect=None, naive_effect=3.6)) is None


# --- the program list ----------------------------------------------------------------------------


def test_the_list_names_each_program_and_says_the_service_only_for_an_organisation_with_two() -> (
    None
):
    rows = frame(
        estimate(),
        estimate(org_id="ORG03", service_type="academic"),
        estimate(org_id="ORG03", service_type="mentoring"),
    )
    names = program_names(rows, ORG_NAMES)
    assert names[("ORG05", "attendance")] == "Every Day Counts"
    assert names[("ORG03", "academic")] == "Youth Tutoring Network (academic)"
    table = program_table(rows, ORG_NAMES)
    assert table["year"].unique().to_list() == ["2025-26"]
    first = table.row(0, named=True)
    assert (
        first["served_change"] == "16.2% → 12.9%" and first["comparison_change"] == "15.8% → 15.3%"
    )
    assert first["effect"] == f"{MINUS}2.8 ({MINUS}4.1 to {MINUS}1.5)"
    assert first["effect_size"] == f"Hedges' g {MINUS}0.34"
    assert first["verdict"] == "Better than similar students"


def test_a_yes_no_measure_shows_only_its_after_share_and_a_cox_index() -> None:
    row = estimate(
        measure="fafsa_completed", served_before=None, comparison_before=None, served_after=61.0,
        comparison_after=52.5, effect=8.5, ci_low=3.0, ci_high=14.0, effect_size=0.31,
        effect_size_kind="cox_index",
    )  # fmt: skip
    shown = program_table(frame(row), ORG_NAMES).row(0, named=True)
    assert shown["served_change"] == "61.0%" and shown["comparison_change"] == "52.5%"
    assert (
        shown["effect_size"] == "Cox index +0.31"
        and shown["outcome"] == "FAFSA completed by June 30"
    )


def test_subgroups_use_the_cubes_values_and_plain_labels() -> None:
    options = subgroup_options()
    assert ("english_learner", "Y") in options and ("english_learner", "unknown") in options
    assert all(field != "school_id" for field, _ in options)
    assert subgroup_label(("english_learner", "Y")) == "English learner: yes"
    assert subgroup_label(None) == "All students"


# --- charts --------------------------------------------------------------------------------------


def effect_rows() -> pl.DataFrame:
    return frame(
        estimate(),
        estimate(org_id="ORG03", service_type="academic", verdict="no_difference", effect=0.4,
                 ci_low=-0.8, ci_high=1.6),
        estimate(org_id="ORG09", service_type="family_support", verdict="worse", effect=1.9,
                 ci_low=0.6, ci_high=3.2),
    )  # fmt: skip


@pytest.mark.parametrize("meeting", [False, True])
def test_the_effect_chart_reads_on_a_projector(meeting: bool) -> None:
    figure = as_json(
        effect_figure(effect_rows(), ORG_NAMES, measure="absence_rate", meeting=meeting)
    )
    minimum = max(MIN_TEXT_PX, chart_text(meeting).smallest())
    assert_readable(figure, minimum=minimum)
    for trace in figure["data"]:
        assert trace["cliponaxis"] is False  # a value label above a point is never cut
    low, high = figure["layout"]["xaxis"]["range"]
    widest = max(abs(v) for v in (-4.1, -1.5, -0.8, 1.6, 0.6, 3.2))
    assert low == -high and widest <= high * (1 - EFFECT_HEADROOM) + 1e-9


def test_the_effect_chart_has_a_zero_line_and_names_the_better_side() -> None:
    lower = as_json(effect_figure(effect_rows(), ORG_NAMES, measure="absence_rate"))
    assert [s["x0"] for s in lower["layout"]["shapes"]] == [0]
    title = lower["layout"]["xaxis"]["title"]["text"]
    assert title.startswith("← better") and title.endswith("worse →")
    share = estimate(measure="graduated", effect=4.0, ci_low=1.0, ci_high=7.0)
    higher = as_json(effect_figure(frame(share), ORG_NAMES, measure="graduated"))
    title = higher["layout"]["xaxis"]["title"]["text"]
    assert title.startswith("← worse") and title.endswith("better →")


def test_each_verdict_has_its_own_okabe_ito_colour_and_marker_so_it_reads_in_greyscale() -> None:
    figure = as_json(effect_figure(effect_rows(), ORG_NAMES, measure="absence_rate"))
    styles = [(t["marker"]["color"], t["marker"]["symbol"]) for t in figure["data"]]
    assert styles == [VERDICT_STYLES[v] for v in ("better", "worse", "no_difference")]
    assert all(colour in PALETTE for colour, _ in styles)
    assert len({symbol for _, symbol in styles}) == len(styles)
    better = figure["data"][0]
    assert better["error_x"]["arrayminus"] == pytest.approx([-2.8 - -4.1])
    assert better["error_x"]["array"] == pytest.approx([-1.5 - -2.8])


def test_program_names_on_the_chart_are_text_not_markup() -> None:
    names = {"ORG05": '<a href="http://x">Evil</a>'}
    figure = as_json(effect_figure(frame(estimate()), names, measure="absence_rate"))
    assert figure["data"][0]["y"] == ['&lt;a href="http://x"&gt;Evil&lt;/a&gt;']


def trajectory() -> pl.DataFrame:
    rows = []
    for group, shift in (("served", 2.0), ("comparison", 0.0)):
        for offset in range(-3, 4):
            rate = 12.0 + shift - (shift * 1.5 if offset >= 0 and group == "served" else 0.0)
            rows.append(
                {"school_year": 2026, "org_id": "ORG05", "service_type": "attendance",
                 "group": group, "month_offset": offset,
                 "absence_rate": None if (group, offset) == ("served", 2) else rate,
                 "students": 40}
            )  # fmt: skip
    return pl.DataFrame(rows)


@pytest.mark.parametrize("meeting", [False, True])
def test_the_trajectory_reads_on_a_projector_and_marks_the_start(meeting: bool) -> None:
    figure = as_json(trajectory_figure(trajectory(), meeting=meeting))
    assert_readable(figure, minimum=max(MIN_TEXT_PX, chart_text(meeting).smallest()))
    served, comparison = figure["data"]
    assert (served["line"]["dash"], served["marker"]["symbol"]) == LINE_STYLES[0][:2]
    assert (comparison["line"]["dash"], comparison["marker"]["symbol"]) == LINE_STYLES[1][:2]
    axis = figure["layout"]["xaxis"]
    assert axis["ticktext"][axis["tickvals"].index(0)] == "Start"
    assert [s["x0"] for s in figure["layout"]["shapes"]] == [0]


def test_a_hidden_month_is_a_gap_not_a_zero() -> None:
    served = as_json(trajectory_figure(trajectory()))["data"][0]
    assert served["connectgaps"] is False
    assert served["y"][served["x"].index(2)] is None


def test_months_are_labelled_relative_to_the_start() -> None:
    assert [month_label(m) for m in (-2, 0, 3)] == [f"{MINUS}2", "Start", "+3"]


# --- balance -------------------------------------------------------------------------------------


def test_each_covariate_gets_its_wwc_band_from_its_difference_after_matching() -> None:
    middle = (WWC_SATISFIED + WWC_ADJUSTED) / 2
    smds = {"baseline_absence_rate": WWC_SATISFIED, "prior_proficiency": -middle,
            "english_learner": 2 * WWC_ADJUSTED, "grade_level": None}  # fmt: skip
    balance = pl.DataFrame(
        [
            {"school_year": 2026, "org_id": "ORG05", "service_type": "attendance",
             "measure": measure, "covariate": covariate, "served_mean": 1.0, "pool_mean": 0.4,
             "comparison_mean": 0.9, "smd_before": 0.6, "smd_after": smd}
            for covariate, smd in smds.items()
            for measure in ("absence_rate", "core_fails")
        ],
        schema_overrides={"smd_after": pl.Float64},
    )  # fmt: skip
    table = balance_table(balance, "absence_rate")
    assert table.height == len(smds)
    assert table["band"].to_list() == [
        "Well matched", "Close; adjusted for the rest", "Not comparable", "—",
    ]  # fmt: skip
    assert table["covariate"][0] == "Absence rate before the start (%)"


def test_too_few_when_both_counts_are_small_says_how_few_it_served_once() -> None:
    tiny = estimate(
        verdict="too_few", served=None, served_display="<10", matched=None,
        matched_display="<10", effect=None, ci_low=None, ci_high=None,
    )  # fmt: skip
    said = outcome_sentence(tiny, PROGRAM)
    assert said.endswith("to absence: it served fewer than 10 students.")
    assert "fewer than 10 of fewer than 10" not in said
