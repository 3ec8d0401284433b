"""Sections of a student's record, shared by the profile and the family's "My record".

Every section draws only what the record holds: a category the viewer may not see is
None in the record and is shown as "not shared with you", never as empty data.
"""

from __future__ import annotations

from datetime import date

import plotly.graph_objects as go
import polars as pl
import streamlit as st

from data_access.api import StudentRecord
from indicators.definitions import chronic_line_label
from indicators.settings import Settings, load_settings
from indicators.trend import attendance_trend
from ui.components import PALETTE, figure_layout
from ui.text import md, plain_html

NOT_SHARED = "Not shared with you."


def identity_line(record: StudentRecord) -> str:
    """Name, id, grade and school as markdown (for a caption or a subheader), values escaped."""
    i = record.identity
    return " · ".join(
        md(value)
        for value in (
            f"{i['first_name']} {i['last_name']}",
            i["student_id"],
            f"grade {i['grade_level']}",
            i["school_name"],
        )
    )


def attendance_figure(record: StudentRecord, settings: Settings | None = None) -> go.Figure | None:
    """Absence rate over time (cumulative, summed across schools), service periods shaded,
    and the chronic-absence line at the deployment's `attendance.chronic_threshold`
    (`settings`, else the loaded settings)."""
    if record.attendance is None or record.attendance.height == 0:
        return None
    trend = attendance_trend(record.attendance)
    fig = go.Figure()
    # Service periods are shaded and named in the legend (labels on the shading overlap
    # as soon as two periods are close).
    for shade, row in enumerate(record.services.iter_rows(named=True)):
        colour = PALETTE[(shade + 2) % len(PALETTE)]
        end = row["end_date"] or date.today()
        fig.add_vrect(x0=row["start_date"], x1=end, fillcolor=colour, opacity=0.15, line_width=0)
        fig.add_scatter(
            x=[None], y=[None], mode="markers", showlegend=True,
            marker={"symbol": "square", "size": 16, "color": colour, "opacity": 0.4},
            name=plain_html(
                f"{row['org_name']} ({row['service_type'].replace('_', ' ')}), "
                f"{row['start_date']:%b %Y} to {end:%b %Y}"
            ),
        )  # fmt: skip
    fig.add_scatter(
        x=trend["as_of_date"],
        y=trend["absence_rate"] * 100,
        mode="lines+markers",
        line={"color": PALETTE[0], "width": 4},
        marker={"size": 10},
        name="absence rate",
        hovertemplate="%{x|%b %d, %Y}: %{y:.1f}% absent<extra></extra>",
    )
    settings = settings or load_settings()
    fig.add_hline(
        y=round(settings.chronic_threshold * 100, 6),  # 0.07 * 100 is 7.000000000000001
        line_dash="dash",
        line_color=PALETTE[3],
        annotation_text=chronic_line_label(settings),
        annotation_position="bottom left",
        annotation_font_size=16,
    )
    fig.update_yaxes(
        title="% of days absent (school year to date)", rangemode="tozero", ticksuffix="%"
    )
    fig.update_xaxes(title=None, type="date")
    figure_layout(fig, height=440)
    fig.update_layout(legend={"orientation": "h", "yanchor": "top", "y": -0.12, "x": 0})
    return fig


def attendance_section(record: StudentRecord) -> None:
    st.subheader("Attendance")
    if record.attendance is None:
        st.caption(NOT_SHARED)
        return
    figure = attendance_figure(record)
    if figure is None:
        st.caption("No attendance recorded.")
        return
    st.plotly_chart(figure, width="stretch")


def marks_section(record: StudentRecord) -> None:
    st.subheader("Marks")
    if record.marks is None:
        st.caption(NOT_SHARED)
        return
    if record.marks.height == 0:
        st.caption("No marks recorded.")
        return
    years = sorted(record.marks["school_year"].unique().to_list(), reverse=True)
    marks = record.marks.filter(pl.col("school_year") == years[0]).select(
        "term", "course_title", "subject", "mark", "credits_attempted", "credits_earned"
    )
    st.caption(f"School year {years[0] - 1}-{years[0] % 100:02d}")
    st.dataframe(
        marks,
        hide_index=True,
        width="stretch",
        column_config={
            "course_title": st.column_config.TextColumn("Course"),
            "subject": st.column_config.TextColumn("Subject"),
            "mark": st.column_config.TextColumn("Mark"),
            "credits_attempted": st.column_config.NumberColumn("Credits attempted", format="%.1f"),
            "credits_earned": st.column_config.NumberColumn("Credits earned", format="%.1f"),
        },
    )


def tests_section(record: StudentRecord) -> None:
    st.subheader("Tests")
    if record.tests is None:
        st.caption(NOT_SHARED)
        return
    if record.tests.height == 0:
        st.caption("No test results recorded.")
        return
    st.dataframe(
        record.tests.sort("school_year", "test_date", descending=True).select(
            "school_year", "test_name", "subject", "proficient", "performance_level", "scale_score"
        ),
        hide_index=True,
        width="stretch",
        column_config={
            "school_year": st.column_config.NumberColumn("Year", format="%d"),
            "test_name": st.column_config.TextColumn("Test"),
            "subject": st.column_config.TextColumn("Subject"),
            "proficient": st.column_config.CheckboxColumn("Proficient"),
            "performance_level": st.column_config.NumberColumn("Level"),
            "scale_score": st.column_config.NumberColumn("Score", format="%d"),
        },
    )


def fafsa_section(record: StudentRecord) -> None:
    st.subheader("FAFSA")
    if record.fafsa is None:
        st.caption(NOT_SHARED)
        return
    if record.fafsa.height == 0:
        st.caption("No FAFSA record.")
        return
    st.dataframe(record.fafsa, hide_index=True, width="stretch")


def services_section(record: StudentRecord) -> None:
    st.subheader("Organisations serving this student")
    if record.services.height == 0:
        st.caption("None recorded that you may see.")
        return
    st.dataframe(
        record.services.select("org_name", "service_type", "start_date", "end_date"),
        hide_index=True,
        width="stretch",
        column_config={
            "org_name": st.column_config.TextColumn("Organisation"),
            "service_type": st.column_config.TextColumn("Service"),
            "start_date": st.column_config.DateColumn("Since"),
            "end_date": st.column_config.DateColumn("Until"),
        },
    )
