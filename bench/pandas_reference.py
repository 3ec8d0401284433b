"""The same rules as `indicators.student` and `indicators.pipeline`, written the plain way
in pandas: boolean masks, sort_values + drop_duplicates for "the latest", groupby/agg and
merge, no apply. It is the baseline of the benchmark and a second, independent reading of
docs/indicators.md: the suite asserts that both give identical results.

Input: the import-format tables as pandas frames with dates as datetime64 (see
`bench.indicators_suite.to_pandas`).
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from domain.vocabulary import ATTENDANCE_BANDS, FAFSA_STATUSES, GROUP_FIELDS, PIPELINE_STAGES
from indicators.settings import Settings

SCALE = 1_000_000
BOOLEAN_FIELDS = ("english_learner", "disability", "econ_disadvantaged")


def _micro(fraction: float) -> int:
    return round(fraction * SCALE)


def _failing(marks: pd.Series, settings: Settings) -> pd.Series:
    text = marks.str.strip().str.upper()
    letter = text.str.rstrip("+-")
    number = pd.to_numeric(text, errors="coerce")
    return letter.isin(settings.failing_letters) | (number < settings.failing_mark_below)


def _course_summary(marks: pd.DataFrame, settings: Settings) -> pd.DataFrame:
    marks = marks[marks["final"].fillna(True).astype(bool)]
    core_fail = marks["subject"].isin(settings.core_subjects) & _failing(marks["mark"], settings)
    frame = pd.DataFrame(
        {
            "student_id": marks["student_id"],
            "school_year": marks["school_year"],
            "core_fail": core_fail.astype("int64"),
            "semester_fs": (
                (core_fail & marks["term"].isin(["S1", "S2"])).astype("int64")
                + 2 * (core_fail & (marks["term"] == "Y")).astype("int64")
            ),
            "credits_earned": marks["credits_earned"],
            "year_end": marks["term"].isin(["S2", "Y", "Q4", "T3"]),
        }
    )
    return frame.groupby(["student_id", "school_year"], as_index=False).agg(
        core_fails=("core_fail", "sum"),
        core_semester_fs=("semester_fs", "sum"),
        credits_earned=("credits_earned", "sum"),
        has_year_end_mark=("year_end", "any"),
    )


def _on_track(summary: pd.DataFrame, settings: Settings) -> pd.Series:
    meets = (summary["credits_earned"] >= settings.on_track_min_credits) & (
        summary["core_semester_fs"] <= settings.on_track_max_core_semester_fs
    )
    return meets.astype("boolean").where(summary["has_year_end_mark"].astype(bool), pd.NA)


def student_indicators(
    tables: dict[str, pd.DataFrame], school_year: int, as_of: date, settings: Settings
) -> pd.DataFrame:
    """The early-warning columns of `compute_student_indicators`, one row per student."""
    as_of_ts = pd.Timestamp(as_of)

    enrollments = tables["enrollments"]
    current = enrollments[
        (enrollments["school_year"] == school_year)
        & (enrollments["exit_date"].isna() | (enrollments["exit_date"] > as_of_ts))
    ]
    roster = current.sort_values(["student_id", "entry_date", "school_id"]).drop_duplicates(
        "student_id", keep="last"
    )[["student_id", "school_id", "grade_level"]]

    attendance = tables["attendance"]
    attendance = attendance[
        (attendance["school_year"] == school_year) & (attendance["as_of_date"] <= as_of_ts)
    ]
    latest = attendance.sort_values("as_of_date").drop_duplicates(
        ["student_id", "school_id"], keep="last"
    )
    totals = latest.groupby("student_id", as_index=False)[["days_enrolled", "days_absent"]].sum()

    marks = tables["course_marks"]
    grades = _course_summary(marks[marks["school_year"] == school_year], settings)
    grades = grades.drop(columns="school_year")

    scores = tables["test_scores"]
    scores = scores[
        scores["subject"].isin(["ela", "math"])
        & (scores["school_year"] <= school_year)
        & (scores["test_date"].isna() | (scores["test_date"] <= as_of_ts))
    ]
    latest_scores = scores.sort_values(
        ["school_year", "test_date", "test_name"], na_position="first"
    ).drop_duplicates(["student_id", "subject"], keep="last")
    proficiency = latest_scores.pivot(index="student_id", columns="subject", values="proficient")
    proficiency = proficiency.reindex(columns=["ela", "math"]).add_suffix("_proficient")
    proficiency = proficiency.reset_index()

    fafsa = tables["fafsa"]
    fafsa = fafsa[
        (fafsa["award_year"] == school_year)
        & (fafsa["status_date"].isna() | (fafsa["status_date"] <= as_of_ts))
    ].assign(order=lambda f: f["status"].map({s: i for i, s in enumerate(FAFSA_STATUSES)}))
    latest_fafsa = fafsa.sort_values(["status_date", "order"], na_position="first")
    latest_fafsa = latest_fafsa.drop_duplicates("student_id", keep="last")[
        ["student_id", "status"]
    ].rename(columns={"status": "fafsa_status"})

    frame = (
        roster.merge(totals, on="student_id", how="left")
        .merge(grades, on="student_id", how="left")
        .merge(proficiency, on="student_id", how="left")
        .merge(latest_fafsa, on="student_id", how="left")
    )

    enrolled = frame["days_enrolled"]
    absent = frame["days_absent"]
    ok = enrolled.notna() & (enrolled >= settings.min_days_enrolled)
    safe_enrolled = enrolled.fillna(0).astype("int64")
    safe_absent = absent.fillna(0).astype("int64")

    def at_least(fraction: float) -> pd.Series:
        return safe_absent * SCALE >= safe_enrolled * _micro(fraction)

    low, moderate, severe = settings.band_thresholds
    band = np.select(
        [at_least(severe), at_least(moderate), at_least(low)],
        list(reversed(ATTENDANCE_BANDS[1:])),
        default=ATTENDANCE_BANDS[0],
    )
    frame["absence_rate"] = (absent / enrolled).where(ok)
    frame["attendance_band"] = pd.Series(band, index=frame.index, dtype="string").where(ok, pd.NA)
    frame["chronic_absence"] = (
        at_least(settings.chronic_threshold).astype("boolean").where(ok, pd.NA)
    )

    has_marks = frame["core_fails"].notna()
    frame["core_fails"] = frame["core_fails"].astype("Int64")
    frame["course_failure"] = (frame["core_fails"] >= 1).astype("boolean").where(has_marks, pd.NA)
    year_end = frame["has_year_end_mark"].fillna(False).astype(bool)
    meets = (frame["credits_earned"] >= settings.on_track_min_credits) & (
        frame["core_semester_fs"] <= settings.on_track_max_core_semester_fs
    )
    frame["on_track"] = meets.astype("boolean").where(year_end & (frame["grade_level"] == 9), pd.NA)

    ela = frame["ela_proficient"].astype("boolean")
    math = frame["math_proficient"].astype("boolean")
    any_result = ela.notna() | math.notna()
    frame["below_proficient"] = (
        ((~ela.fillna(True)) | (~math.fillna(True))).astype("boolean").where(any_result, pd.NA)
    )

    senior = frame["grade_level"] == 12
    status = frame["fafsa_status"].fillna("not_started").astype("string")
    frame["fafsa_status"] = status.where(senior, pd.NA)
    frame["fafsa_not_completed"] = (status != "completed").astype("boolean").where(senior, pd.NA)

    flags = ["chronic_absence", "course_failure", "below_proficient", "fafsa_not_completed"]
    frame["flag_count"] = sum(frame[f].fillna(False).astype("int64") for f in flags)
    intensive = (
        (frame["flag_count"] >= settings.tier3_min_flags)
        | (frame["core_fails"].fillna(0) >= settings.tier3_min_core_fails)
        | (
            (frame["attendance_band"] == "severe_chronic").fillna(False)
            & settings.tier3_on_severe_chronic
        )
    )
    frame["tier"] = np.where(
        intensive, 3, np.where(frame["flag_count"] >= settings.tier2_min_flags, 2, 1)
    )
    return frame.sort_values("student_id").reset_index(drop=True)


def _label(values: pd.Series, field: str) -> pd.Series:
    if field in BOOLEAN_FIELDS:
        text = values.map({True: "Y", False: "N"})
    else:
        text = values.astype("object")
    return text.where(values.notna(), "unknown").astype("string")


def pipeline_cube(tables: dict[str, pd.DataFrame], settings: Settings) -> pd.DataFrame:
    """The cube of `pipeline_cube` for every cohort: cohort, group_by, group, stage, count."""
    students = tables["students"]
    enrollments = tables["enrollments"]
    years = sorted(students["cohort_year"].dropna().unique().tolist())

    last = enrollments.sort_values(
        ["student_id", "school_year", "entry_date", "exit_date", "school_id"],
        na_position="last",
    ).drop_duplicates("student_id", keep="last")
    transferred = last.loc[last["exit_code"] == "transferred", "student_id"]
    members = students[
        students["cohort_year"].isin(years) & ~students["student_id"].isin(transferred)
    ].rename(columns={"cohort_year": "cohort"})

    ninth = enrollments[enrollments["grade_level"] == 9]
    ninth = pd.DataFrame(
        {"student_id": ninth["student_id"], "cohort": ninth["school_year"] + 3}
    ).drop_duplicates()
    ninth["entered_grade_9"] = True
    twelfth = enrollments[enrollments["grade_level"] == 12]
    twelfth = pd.DataFrame(
        {"student_id": twelfth["student_id"], "cohort": twelfth["school_year"]}
    ).drop_duplicates()
    twelfth["reached_grade_12"] = True

    fafsa = tables["fafsa"]
    fafsa = fafsa[fafsa["award_year"].isin(years)].assign(
        order=lambda f: f["status"].map({s: i for i, s in enumerate(FAFSA_STATUSES)})
    )
    fafsa = fafsa.sort_values(["status_date", "order"], na_position="first").drop_duplicates(
        ["student_id", "award_year"], keep="last"
    )
    completed = pd.DataFrame(
        {
            "student_id": fafsa["student_id"],
            "cohort": fafsa["award_year"],
            "fafsa_completed": fafsa["status"] == "completed",
        }
    )

    marks = tables["course_marks"]
    summary = _course_summary(marks[marks["school_year"].isin([y - 3 for y in years])], settings)
    on_track = pd.DataFrame(
        {
            "student_id": summary["student_id"],
            "cohort": summary["school_year"] + 3,
            "on_track": _on_track(summary, settings),
        }
    )

    # Prior achievement: the earliest high-school math score (ELA without one), its
    # quarter within the cohort among scores of the same test and subject.
    scores = tables["test_scores"]
    scores = scores[scores["subject"].isin(["math", "ela"]) & scores["scale_score"].notna()]
    scores = scores.merge(members[["student_id", "cohort"]], on="student_id")
    scores = scores[
        (scores["school_year"] >= scores["cohort"] - 3)
        & (scores["school_year"] <= scores["cohort"])
    ].assign(subject_rank=lambda f: f["subject"].map({"math": 0, "ela": 1}))
    scores = scores.sort_values(
        ["subject_rank", "school_year", "test_date", "test_name", "scale_score"],
        na_position="last",
        kind="stable",
    ).drop_duplicates(["student_id", "cohort"], keep="first")
    within = scores.groupby(["cohort", "subject", "test_name"])["scale_score"]
    quarter = 1 + (4 * (within.rank(method="min").astype("int64") - 1)) // within.transform("size")
    prior = pd.DataFrame(
        {
            "student_id": scores["student_id"],
            "cohort": scores["cohort"],
            "prior_achievement": "q" + quarter.astype(str),
        }
    )

    outcomes = tables["outcomes"][
        [
            "student_id",
            "graduated",
            "graduation_date",
            "postsecondary_enrolled",
            "persisted_second_year",
        ]
    ]
    frame = (
        members.merge(ninth, on=["student_id", "cohort"], how="left")
        .merge(twelfth, on=["student_id", "cohort"], how="left")
        .merge(completed, on=["student_id", "cohort"], how="left")
        .merge(on_track, on=["student_id", "cohort"], how="left")
        .merge(prior, on=["student_id", "cohort"], how="left")
        .merge(outcomes, on="student_id", how="left")
    )
    deadline = pd.to_datetime(frame["cohort"].astype(str) + "-08-31")
    reached = {
        "entered_grade_9": frame["entered_grade_9"].fillna(False).astype(bool),
        "reached_grade_12": frame["reached_grade_12"].fillna(False).astype(bool),
        "graduated": frame["graduated"].fillna(False).astype(bool)
        & (frame["graduation_date"] <= deadline),
        "fafsa_completed": frame["fafsa_completed"].fillna(False).astype(bool),
        "enrolled_postsecondary": frame["postsecondary_enrolled"].fillna(False).astype(bool),
        "persisted": frame["persisted_second_year"].fillna(False).astype(bool),
    }
    stages = [s for s in PIPELINE_STAGES if s in settings.funnel_stages]
    so_far = pd.Series(True, index=frame.index)
    counts = pd.DataFrame({"cohort": frame["cohort"]})
    for stage in stages:
        so_far = so_far & reached[stage]
        counts[stage] = so_far.astype("int64")
    for field in GROUP_FIELDS:
        counts[field] = _label(frame[field], field)
    counts["all"] = "all"
    # On-track status only counts for students who entered grade 9 in year C-3.
    on_track = frame["on_track"].astype("boolean").where(reached["entered_grade_9"], pd.NA)
    counts["on_track_9"] = (
        on_track.map({True: "on_track", False: "off_track"}).fillna("unknown").astype("string")
    )

    counts["prior_achievement"] = frame["prior_achievement"].fillna("no_score").astype("string")
    counts["prior_achievement_race"] = counts["prior_achievement"] + "|" + counts["race_ethnicity"]

    parts = []
    for field in (
        "all",
        *GROUP_FIELDS,
        "on_track_9",
        "prior_achievement",
        "prior_achievement_race",
    ):
        summed = counts.groupby(["cohort", field], as_index=False)[stages].sum()
        if field == "on_track_9":  # every cohort shows all three groups, zero included
            every = pd.MultiIndex.from_product(
                [sorted(counts["cohort"].unique()), ["on_track", "off_track", "unknown"]],
                names=["cohort", field],
            )
            summed = summed.set_index(["cohort", field]).reindex(every, fill_value=0).reset_index()
        long = summed.melt(
            id_vars=["cohort", field], value_vars=stages, var_name="stage", value_name="count"
        ).rename(columns={field: "group"})
        long.insert(1, "group_by", field)
        parts.append(long)
    return pd.concat(parts, ignore_index=True)


# ---------------------------------------------------------------------------------------
# Program outcomes (docs/outcomes.md): CEM weights and the WLS estimate, the plain way
# ---------------------------------------------------------------------------------------

OUTCOME_STRATUM = (
    "school_id",
    "grade_level",
    "english_learner",
    "disability",
    "econ_disadvantaged",
    "_absence_bin",
    "_fails_bin",
    "_proficiency_bin",
)
OUTCOME_COVARIATES = ("baseline_absence", "baseline_core_fails", "prior_proficiency")
CHANGE_MEASURES = ("absence_rate", "core_fails")


def _cem(group: pd.DataFrame, max_comparisons: int) -> pd.DataFrame:
    """The matched rows of one program-year and measure with their CEM weights."""
    served = group["served"]
    stratum = group.groupby(list(OUTCOME_STRATUM), dropna=False, sort=False).ngroup()
    group = group.assign(_stratum=stratum)
    n_served = served.groupby(stratum).transform("sum")
    order = group.groupby(["_stratum", "served"])["draw"].rank(method="first")
    group = group[served | (order <= max_comparisons * n_served)]
    served = group["served"]
    n_served = served.groupby(group["_stratum"]).transform("sum")
    n_other = (~served).groupby(group["_stratum"]).transform("sum")
    group = group[(n_served > 0) & (n_other > 0)]
    served = group["served"]
    n_served = n_served.loc[group.index]
    n_other = n_other.loc[group.index]
    ratio = (~served).sum() / max(1, served.sum())
    weight = np.where(served, 1.0, n_served / n_other * ratio)
    return group.assign(weight=weight)


def program_estimates(sample: pd.DataFrame, settings: Settings) -> pd.DataFrame:
    """The overall (`all`) estimate of every program-year and measure from
    `indicators.outcomes.outcome_sample`: CEM in pandas, then statsmodels' formula API
    (`smf.wls(...).fit(cov_type="HC1")`) per program-year and measure. Columns
    school_year, org_id, service_type, measure, matched, effect, ci_low, ci_high (measure
    units, before display scaling)."""
    import statsmodels.formula.api as smf

    rows = []
    keys = ["school_year", "org_id", "service_type", "measure"]
    for key, group in sample.groupby(keys, sort=True):
        matched = _cem(group, settings.outcomes_max_comparisons)
        n_matched = int(matched["served"].sum())
        if n_matched < settings.outcomes_min_matched:
            continue
        data = pd.DataFrame({"served": matched["served"].astype(float)})
        if key[3] in CHANGE_MEASURES:
            data["y"] = matched["after"] - matched["before"]
        else:
            data["y"] = matched["after"]
        # Columns that add no rank (constant, duplicate, collinear) are left out, in order;
        # without a rank of its own for `served` there is no estimate.
        kept = [np.ones(len(data))]
        terms = []
        candidates = [("served", data["served"])]
        for column in OUTCOME_COVARIATES:
            values = matched[column].astype(float)
            candidates += [
                (column, values.fillna(0.0)),
                (f"{column}_missing", values.isna().astype(float)),
            ]
        for name, part in candidates:
            trial = np.column_stack([*kept, part.to_numpy()])
            if np.linalg.matrix_rank(trial) > len(kept):
                kept.append(part.to_numpy())
                if name != "served":
                    data[name] = part.to_numpy()
                    terms.append(name)
            elif name == "served":
                break
        if len(kept) == 1:
            continue
        formula = "y ~ served" + "".join(f" + {t}" for t in terms)
        fit = smf.wls(formula, data=data, weights=matched["weight"].to_numpy()).fit(cov_type="HC1")
        low, high = fit.conf_int().loc["served"]
        rows.append((*key, n_matched, fit.params["served"], low, high))
    return pd.DataFrame(rows, columns=[*keys, "matched", "effect", "ci_low", "ci_high"])
