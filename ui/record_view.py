"""Sections of a student's record, shared by the profile and the family's "My record".

Every section draws only what the record holds: a category the viewer may not see is
None in the record and is shown as "not shared with you", never as empty data.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import plotly.graph_objects as go
import polars as pl
import streamlit as st

from data_access.api import StudentRecord
from domain.vocabulary import parse_list
from indicators.settings import Settings, load_settings
from indicators.trend import attendance_trend
from ui.components import PALETTE, figure_layout
from ui.i18n import (
    N_,
    _,
    format_date,
    format_datetime,
    format_decimal,
    format_percent,
    number_symbols,
    word,
)
from ui.text import md, plain_html

#: Said for a category the viewer may not see (translated where it is shown).
NOT_SHARED = N_("Not shared with you.")


def identity_line(record: StudentRecord) -> str:
    """Name, id, grade and school as markdown (for a caption or a subheader), values escaped."""
    i = record.identity
    return " · ".join(
        md(value)
        for value in (
            f"{i['first_name']} {i['last_name']}",
            i["student_id"],
            _("grade {grade}").format(grade=i["grade_level"]),
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
                _("{organisation} ({service}), {start} to {end}").format(
                    organisation=row["org_name"],
                    service=word(row["service_type"]),
                    start=format_date(row["start_date"], "MMM y"),
                    end=format_date(end, "MMM y"),
                )
            ),
        )  # fmt: skip
    fig.add_scatter(
        x=trend["as_of_date"],
        y=trend["absence_rate"] * 100,
        mode="lines+markers",
        line={"color": PALETTE[0], "width": 4},
        marker={"size": 10},
        name=_("absence rate"),
        customdata=[
            _("{day}: {share} absent").format(day=format_date(day), share=format_percent(rate, 1))
            for day, rate in zip(trend["as_of_date"], trend["absence_rate"], strict=True)
        ],
        hovertemplate="%{customdata}<extra></extra>",
    )
    settings = settings or load_settings()
    threshold = round(settings.chronic_threshold * 100, 6)  # 0.07 * 100 is 7.000000000000001
    fig.add_hline(
        y=threshold,
        line_dash="dash",
        line_color=PALETTE[3],
        annotation_text=_("chronic absence ({share})").format(
            share=format_percent(settings.chronic_threshold, 0 if threshold.is_integer() else 1)
        ),
        annotation_position="bottom left",
        annotation_font_size=16,
    )
    fig.update_yaxes(
        title=_("Share of days absent (school year to date)"), rangemode="tozero", ticksuffix="%"
    )
    months = _month_ticks(trend["as_of_date"].min(), trend["as_of_date"].max())
    fig.update_xaxes(
        title=None,
        type="date",
        tickvals=months,
        ticktext=[format_date(month, "MMM y") for month in months],
    )
    figure_layout(fig, height=440)
    fig.update_layout(
        legend={"orientation": "h", "yanchor": "top", "y": -0.12, "x": 0},
        separators=number_symbols(),
    )
    return fig


def _month_ticks(first: object, last: object, most: int = 8) -> list[date]:
    """First days of months from `first` to `last`, every n-th so there are at most `most`
    (the x axis labels, written by Babel so the month names are in the page's language)."""
    if not isinstance(first, date) or not isinstance(last, date):
        return []
    months = []
    year, month = first.year, first.month
    while (year, month) <= (last.year, last.month):
        months.append(date(year, month, 1))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    step = -(-len(months) // most)
    return months[::step]


def attendance_section(record: StudentRecord) -> None:
    st.subheader(_("Attendance"))
    if record.attendance is None:
        st.caption(_(NOT_SHARED))
        return
    figure = attendance_figure(record)
    if figure is None:
        st.caption(_("No attendance recorded."))
        return
    st.plotly_chart(figure, width="stretch")


def marks_section(record: StudentRecord) -> None:
    st.subheader(_("Marks"))
    if record.marks is None:
        st.caption(_(NOT_SHARED))
        return
    if record.marks.height == 0:
        st.caption(_("No marks recorded."))
        return
    years = sorted(record.marks["school_year"].unique().to_list(), reverse=True)
    marks = record.marks.filter(pl.col("school_year") == years[0]).select(
        "term", "course_title", "subject", "mark", "credits_attempted", "credits_earned"
    )
    st.caption(_("School year {years}").format(years=f"{years[0] - 1}-{years[0] % 100:02d}"))
    st.dataframe(
        _as_text(
            _as_text(marks, word, "subject"),
            lambda value: format_decimal(value, 1),
            "credits_attempted",
            "credits_earned",
        ),
        hide_index=True,
        width="stretch",
        column_config={
            "term": st.column_config.TextColumn(_("Term")),
            "course_title": st.column_config.TextColumn(_("Course")),
            "subject": st.column_config.TextColumn(_("Subject")),
            "mark": st.column_config.TextColumn(_("Mark")),
            "credits_attempted": st.column_config.TextColumn(_("Credits attempted")),
            "credits_earned": st.column_config.TextColumn(_("Credits earned")),
        },
    )


def _as_text(frame: pl.DataFrame, write: Callable[[Any], str], *columns: str) -> pl.DataFrame:
    """`columns` of `frame` as text written by `write` in the page's language (`word`,
    `format_date`, `format_decimal`...), a blank cell for no value (a grid shows a null as
    the English "None"). Computed here, in the page's thread, not with `map_elements`: the
    page's language lives in this thread's context, which Polars' worker threads do not
    share."""
    return frame.with_columns(
        pl.Series(name, ["" if v is None else write(v) for v in frame[name].to_list()], pl.String)
        for name in columns
    )


def tests_section(record: StudentRecord) -> None:
    st.subheader(_("Tests"))
    if record.tests is None:
        st.caption(_(NOT_SHARED))
        return
    if record.tests.height == 0:
        st.caption(_("No test results recorded."))
        return
    st.dataframe(
        _as_text(
            record.tests.sort("school_year", "test_date", descending=True).select(
                "school_year",
                "test_name",
                "subject",
                "proficient",
                "performance_level",
                "scale_score",
            ),
            word,
            "subject",
        ),
        hide_index=True,
        width="stretch",
        column_config={
            "school_year": st.column_config.NumberColumn(_("Year"), format="%d"),
            "test_name": st.column_config.TextColumn(_("Test")),
            "subject": st.column_config.TextColumn(_("Subject")),
            "proficient": st.column_config.CheckboxColumn(_("Proficient")),
            "performance_level": st.column_config.NumberColumn(_("Level")),
            "scale_score": st.column_config.NumberColumn(_("Score"), format="%d"),
        },
    )


def fafsa_section(record: StudentRecord) -> None:
    st.subheader(_("FAFSA"))
    if record.fafsa is None:
        st.caption(_(NOT_SHARED))
        return
    if record.fafsa.height == 0:
        st.caption(_("No FAFSA record."))
        return
    st.dataframe(
        _as_text(
            _as_text(record.fafsa.select("award_year", "status", "status_date"), word, "status"),
            format_date,
            "status_date",
        ),
        hide_index=True,
        width="stretch",
        column_config={
            "award_year": st.column_config.NumberColumn(_("Award year"), format="%d"),
            "status": st.column_config.TextColumn(_("Status")),
            "status_date": st.column_config.TextColumn(_("Since")),
        },
    )


def services_section(record: StudentRecord) -> None:
    st.subheader(_("Organisations serving this student"))
    if record.services.height == 0:
        st.caption(_("None recorded that you may see."))
        return
    st.dataframe(
        _as_text(
            _as_text(
                record.services.select("org_name", "service_type", "start_date", "end_date"),
                word,
                "service_type",
            ),
            format_date,
            "start_date",
            "end_date",
        ),
        hide_index=True,
        width="stretch",
        column_config={
            "org_name": st.column_config.TextColumn(_("Organisation")),
            "service_type": st.column_config.TextColumn(_("Service")),
            "start_date": st.column_config.TextColumn(_("Since")),
            "end_date": st.column_config.TextColumn(_("Until")),
        },
    )


#: What a partner did, in words a family reads, by audit action (the partner events of
#: the disclosure log); an action not listed is shown as its code.
DISCLOSURE_ACTIONS: dict[str, str] = {
    "student.read": N_("looked at the record"),
    "student.export": N_("exported the record"),
    "flags.list": N_("saw the student in a list of students who need help"),
    "flags.export": N_("exported a list of students who need help"),
    "notes.read": N_("read the notes"),
    "referral.read": N_("read a referral"),
    "referral_loop.read": N_("saw what came of the student's referrals"),
    "suggestions.read": N_("saw which partners could help"),
    "outcomes.read": N_("saw the student among those a program served"),
    "outcomes.export": N_("exported the students a program served"),
}


def disclosure_rows(log: pl.DataFrame) -> pl.DataFrame:
    """The disclosure log (`data_access.api.disclosure_log`) as a family reads it, in the
    page's language: when, who, what they did, which data, and how when it was not an
    ordinary read in Pathwise that day (an export the district's operator ran from the
    command line on the partner's behalf, the date whose rules were applied)."""
    rows = log.to_dicts()
    return pl.DataFrame(
        {
            "occurred_at": [format_datetime(row["occurred_at"]) for row in rows],
            "org_name": [row["org_name"] for row in rows],
            "action": [_(DISCLOSURE_ACTIONS.get(row["action"], row["action"])) for row in rows],
            "categories": [
                ", ".join(word(c) for c in parse_list(row["categories"])) for row in rows
            ],
            "how": [_how(row) or "" for row in rows],
        },
        schema=dict.fromkeys(("occurred_at", "org_name", "action", "categories", "how"), pl.String),
    )


def _how(row: dict[str, object]) -> str | None:
    said = []
    if row["via"] == "cli":
        said.append(
            _(
                "exported from the command line by the district's operator "
                "(operating-system user {user}) on behalf of {email}"
            ).format(user=row["os_user"] or _("unknown"), email=row["user_email"])
        )
    if isinstance(row["rules_as_of"], date):
        said.append(_("under the rules as of {day}").format(day=format_date(row["rules_as_of"])))
    return ", ".join(said) or None


#: What kind of organisation a release names, in words a family reads
#: (domain.vocabulary.ORG_TYPES).
ORG_KINDS: dict[str, str] = {
    "district": N_("the school district"),
    "community": N_("a community organisation"),
    "hub": N_("a community hub"),
}
#: How a release was given (`consent.method`; blank: typed in from paper by the district).
RELEASE_METHODS: dict[str, str] = {
    "electronic": N_("signed online"),
    "paper": N_("signed on paper"),
}


def what_it_does(org_type: str, service_types: list[str]) -> str:
    """The organisation's kind and the services it offers, in the page's language."""
    kind = _(ORG_KINDS[org_type]) if org_type in ORG_KINDS else word(org_type)
    if not service_types:
        return kind
    return _("{kind} offering {services}").format(
        kind=kind, services=", ".join(word(s) for s in service_types)
    )


def release_summary(release: dict[str, Any]) -> str:
    """One release in plain words (markdown, values escaped): who may see what, and why."""
    return _(
        "**{organisation}** ({what}) may see {child}'s {categories}. Purpose: {purpose}"
    ).format(
        organisation=md(release["org_name"]),
        what=md(what_it_does(release["org_type"], release["service_types"])),
        child=md(release["first_name"]),
        categories=", ".join(word(c) for c in release["categories"]),
        purpose=md(release["purpose"]),
    )


def release_may_be_withdrawn(release: dict[str, Any], today: date) -> bool:
    """Not withdrawn yet and not ended: in effect now, or signed to start later."""
    revoked, expires = release["revoked_date"], release["expires_date"]
    return (revoked is None or revoked > today) and (expires is None or expires >= today)


def release_dates(release: dict[str, Any], today: date) -> str:
    """When and how the release was signed, and whether it is in effect, in words."""
    method = release["method"]
    signed = _("Signed on {day} by {signer}").format(
        day=format_date(release["signed_date"]), signer=md(release["signed_by"])
    )
    if method in RELEASE_METHODS:
        signed = _("{signed} ({how})").format(signed=signed, how=_(RELEASE_METHODS[method]))
    revoked, expires = release["revoked_date"], release["expires_date"]
    if revoked is not None and revoked <= today:
        state = _("Withdrawn on {day}.").format(day=format_date(revoked))
    elif expires is not None and expires < today:
        state = _("Ended on {day}.").format(day=format_date(expires))
    elif release["signed_date"] > today:
        state = _("Starts on {day}.").format(day=format_date(release["signed_date"]))
    elif expires is not None:
        state = _("In effect until {day}.").format(day=format_date(expires))
    else:
        state = _("In effect until you withdraw it.")
    return _("{signed}. {state}").format(signed=signed, state=state)
