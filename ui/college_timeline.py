"""The college timeline of a student's profile and of My record: the Clearinghouse's terms
and degrees, oldest first (category `outcomes`: `data_access.records` fills
`record.college` only for a viewer who may see the student's outcomes, and that read is
audited with the record)."""

from __future__ import annotations

import polars as pl
import streamlit as st

from data_access.api import StudentRecord
from domain.vocabulary import NSC_ENROLLMENT_STATUSES
from ui.record_view import NOT_SHARED

LEVEL_WORDS = {"4yr": "4-year", "2yr": "2-year", "less_than_2yr": "less than 2-year"}


def timeline_rows(college: pl.DataFrame) -> pl.DataFrame:
    """One line per term or degree, in words: when, where, what."""
    status = pl.col("enrollment_status").replace_strict(
        NSC_ENROLLMENT_STATUSES, default=None, return_dtype=pl.String
    )
    level = pl.col("level").replace_strict(LEVEL_WORDS, default=None, return_dtype=pl.String)
    degree = pl.col("graduated").fill_null(False)
    return college.select(
        pl.coalesce("enrollment_begin", "graduation_date").alias("from"),
        pl.when(degree).then(None).otherwise(pl.col("enrollment_end")).alias("until"),
        pl.col("college_name").alias("college"),
        pl.concat_str(
            [level, pl.col("control"), pl.col("college_state")], separator=", ", ignore_nulls=True
        ).alias("kind"),
        pl.when(degree)
        .then(
            pl.concat_str(
                [pl.lit("degree:"), pl.col("degree_title"), pl.col("major")],
                separator=" ",
                ignore_nulls=True,
            )
        )
        .otherwise(status.fill_null("enrolled (status not released)"))
        .alias("what"),
    ).sort("from", nulls_last=True)


def college_timeline(record: StudentRecord) -> None:
    """The timeline section (nothing but a caption when the outcomes are not shared)."""
    st.subheader("College")
    if record.college is None:
        st.caption(NOT_SHARED)
        return
    search = record.college_search
    if search is None:
        st.caption("Not searched at the National Student Clearinghouse yet: not observed.")
        return
    if not search["record_found"]:
        st.caption("Searched at the National Student Clearinghouse: no college record found.")
        return
    st.dataframe(
        timeline_rows(record.college),
        hide_index=True,
        width="stretch",
        column_config={
            "from": st.column_config.DateColumn("From"),
            "until": st.column_config.DateColumn("Until"),
            "college": st.column_config.TextColumn("College"),
            "kind": st.column_config.TextColumn("Kind"),
            "what": st.column_config.TextColumn("Enrollment"),
        },
    )
