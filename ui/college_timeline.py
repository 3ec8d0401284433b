"""The college timeline of a student's profile and of My record: the Clearinghouse's terms
and degrees, oldest first (category `outcomes`: `data_access.records` fills
`record.college` only for a viewer who may see the student's outcomes, and that read is
audited with the record)."""

from __future__ import annotations

import polars as pl
import streamlit as st

from data_access.api import StudentRecord
from domain.vocabulary import NSC_CONTROLS, NSC_ENROLLMENT_STATUSES
from ui.i18n import N_, _, format_date, word
from ui.record_view import NOT_SHARED

LEVEL_WORDS = {"4yr": N_("4-year"), "2yr": N_("2-year"), "less_than_2yr": N_("less than 2-year")}


def timeline_rows(college: pl.DataFrame) -> pl.DataFrame:
    """One line per term or degree, in words (the page's language): when, where, what."""
    status = pl.col("enrollment_status").replace_strict(
        {code: word(text) for code, text in NSC_ENROLLMENT_STATUSES.items()},
        default=None,
        return_dtype=pl.String,
    )
    level = pl.col("level").replace_strict(
        {code: _(text) for code, text in LEVEL_WORDS.items()}, default=None, return_dtype=pl.String
    )
    control = pl.col("control").replace_strict(
        {value: word(value) for value in NSC_CONTROLS}, default=pl.col("control")
    )
    degree = pl.col("graduated").fill_null(False)
    return college.select(
        pl.coalesce("enrollment_begin", "graduation_date").alias("from"),
        pl.when(degree).then(None).otherwise(pl.col("enrollment_end")).alias("until"),
        pl.col("college_name").alias("college"),
        pl.concat_str(
            [level, control, pl.col("college_state")], separator=", ", ignore_nulls=True
        ).alias("kind"),
        pl.when(degree)
        .then(
            pl.concat_str(
                [pl.lit(_("degree:")), pl.col("degree_title"), pl.col("major")],
                separator=" ",
                ignore_nulls=True,
            )
        )
        .otherwise(status.fill_null(_("enrolled (status not released)")))
        .alias("what"),
    ).sort("from", nulls_last=True)


def college_timeline(record: StudentRecord) -> None:
    """The timeline section (nothing but a caption when the outcomes are not shared)."""
    st.subheader(_("College"))
    if record.college is None:
        st.caption(_(NOT_SHARED))
        return
    search = record.college_search
    if search is None:
        st.caption(_("Not searched at the National Student Clearinghouse yet: not observed."))
        return
    if not search["record_found"]:
        st.caption(_("Searched at the National Student Clearinghouse: no college record found."))
        return
    rows = timeline_rows(record.college)
    rows = rows.with_columns(  # in this thread: the page's language is in its context
        pl.Series(name, [format_date(day) for day in rows[name].to_list()], pl.String)
        for name in ("from", "until")
    )
    st.dataframe(
        rows,
        hide_index=True,
        width="stretch",
        column_config={
            "from": st.column_config.TextColumn(_("From")),
            "until": st.column_config.TextColumn(_("Until")),
            "college": st.column_config.TextColumn(_("College")),
            "kind": st.column_config.TextColumn(_("Kind")),
            "what": st.column_config.TextColumn(_("Enrollment")),
        },
    )
