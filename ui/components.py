"""The widgets and charts every page shares: headers, banners, tables and Plotly figures.

Charts are drawn for a projector: large type, thick marks, and the Okabe-Ito palette, which
stays distinguishable for the common forms of colour blindness. A suppressed figure is
drawn as a hatched placeholder of fixed length, labelled "suppressed to protect privacy",
and its value never enters the figure (no bar length, hover text or custom data).
"""

from __future__ import annotations

from collections.abc import Sequence

import plotly.graph_objects as go
import polars as pl
import streamlit as st

#: Okabe & Ito (2008) colour-blind-safe palette.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#56B4E9", "#CC79A7", "#F0E442", "#000000")
TIER_COLOURS = {1: "#009E73", 2: "#E69F00", 3: "#D55E00"}
SUPPRESSED_LABEL = "suppressed to protect privacy"
NOT_YET_LABEL = "not observed yet"
NOT_YET_COLOUR = "#DDDDDD"
STAGE_LABELS = {
    "entered_grade_9": "Entered grade 9",
    "reached_grade_12": "Reached grade 12",
    "graduated": "Graduated",
    "fafsa_completed": "FAFSA completed",
    "enrolled_postsecondary": "Enrolled in college",
    "persisted": "Second year of college",
}
FONT = {"size": 20, "family": "Source Sans Pro, Arial, sans-serif"}


def page_header(question: str, lead: str | None = None) -> None:
    """Every page opens with the question it answers."""
    st.title(question)
    if lead:
        st.caption(lead)


def indicators_lag_notice() -> None:
    """Said on every page that shows indicators when they were computed before the last
    import (its refresh was interrupted): the figures do not show that import yet."""
    from data_access import api

    lag = api.indicators_lag()
    if lag is None:
        return
    st.warning(
        "These flags and figures were computed before the latest import "
        f"({lag.imported_at:%B %d, %Y, %H:%M} UTC) and do not include it yet. "
        "Your data steward brings them up to date by running `pathwise refresh`.",
        icon=":material/update:",
    )


def demo_banner() -> None:
    st.warning(
        "**DEMO DATA**: every student, school and organisation here is synthetic. "
        "Do not enter real student information.",
        icon=":material/science:",
    )


def meeting_banner() -> None:
    st.info(
        "**Meeting mode is on**: only privacy-protected totals are shown; no names, no ids, "
        "no small groups. Switch it off in the sidebar when the meeting is over.",
        icon=":material/groups:",
    )


def next_step(text: str) -> None:
    """Each page ends in an action, not a data dump."""
    st.success(f"**Next step.** {text}", icon=":material/arrow_forward:")


def plain_text(text: str) -> None:
    """User-written text (notes, reasons) shown verbatim: never rendered as HTML or markdown."""
    st.text(text)


def figure_layout(fig: go.Figure, *, height: int = 460, title: str | None = None) -> go.Figure:
    fig.update_layout(
        font=FONT,
        height=height,
        title={"text": title, "font": {"size": 24}} if title else None,
        margin={"l": 10, "r": 10, "t": 60 if title else 20, "b": 10},
        plot_bgcolor="white",
        paper_bgcolor="white",
        hoverlabel={"font_size": 18},
        legend={"font": {"size": 18}},
    )
    return fig


def funnel_figure(
    stages: Sequence[str],
    labels: Sequence[str],
    shown: Sequence[int | None],
    display: Sequence[str],
    shares: Sequence[float | None],
    *,
    title: str | None = None,
    colour: str = PALETTE[0],
    not_yet: Sequence[str | None] | None = None,
) -> go.Figure:
    """A horizontal funnel: exact stages as bars with count and share; hidden ones hatched.

    Hidden stages get a bar of fixed length (a quarter of the largest shown count) with a
    hatch pattern and no hover data, so their value cannot be read off the figure. Stages
    not observed yet (`not_yet[i]` is the text to show, e.g. "not yet (from Sep 1, 2027)")
    get the same fixed bar in grey, with that text and no number.
    """
    waiting = list(not_yet) if not_yet is not None else [None] * len(shown)
    known = [v for v in shown if v is not None]
    placeholder = (max(known) if known else 100) * 0.25
    fig = go.Figure()
    exact_y = [labels[i] for i, v in enumerate(shown) if v is not None]
    exact_x = [v for v in shown if v is not None]
    exact_text = [
        f"{display[i]} ({shares[i]:.1f}%)" if shares[i] is not None else display[i]
        for i, v in enumerate(shown)
        if v is not None
    ]
    fig.add_bar(
        y=exact_y,
        x=exact_x,
        orientation="h",
        marker={"color": colour},
        text=exact_text,
        textposition="auto",
        textfont={"size": 20},
        hovertemplate="%{y}: %{text}<extra></extra>",
        name="students",
    )
    hidden = [i for i, v in enumerate(shown) if v is None and waiting[i] is None]
    later = [i for i, v in enumerate(shown) if v is None and waiting[i] is not None]
    if later:
        fig.add_bar(
            y=[labels[i] for i in later],
            x=[placeholder] * len(later),
            orientation="h",
            marker={"color": NOT_YET_COLOUR, "line": {"color": "#999999", "width": 1}},
            text=[waiting[i] for i in later],
            textposition="outside",
            textfont={"size": 18, "color": "#555555"},
            hoverinfo="skip",
            name=NOT_YET_LABEL,
        )
    if hidden:
        fig.add_bar(
            y=[labels[i] for i in hidden],
            x=[placeholder] * len(hidden),
            orientation="h",
            marker={
                "color": "white",
                "line": {"color": "#555555", "width": 2},
                "pattern": {"shape": "/", "fgcolor": "#555555"},
            },
            text=[f"{display[i]}: {SUPPRESSED_LABEL}" for i in hidden],
            textposition="outside",
            textfont={"size": 18},
            hoverinfo="skip",
            name=SUPPRESSED_LABEL,
        )
    fig.update_yaxes(
        categoryorder="array", categoryarray=list(reversed(labels)), tickfont={"size": 20}
    )
    fig.update_xaxes(showticklabels=False, showgrid=False, zeroline=False)
    fig.update_layout(barmode="overlay", showlegend=bool(hidden or later))
    del stages
    return figure_layout(fig, title=title)


def download_buttons(
    csv_text: str | None,
    xlsx_bytes: bytes | None,
    *,
    name: str,
    notice: str | None = None,
) -> None:
    if notice:
        st.caption(notice)
    left, right = st.columns(2)
    if csv_text is not None:
        left.download_button(
            "Download CSV",
            csv_text,
            file_name=f"{name}.csv",
            mime="text/csv",
            icon=":material/download:",
        )
    if xlsx_bytes is not None:
        right.download_button(
            "Download Excel",
            xlsx_bytes,
            file_name=f"{name}.xlsx",
            mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            icon=":material/download:",
        )


def releases_table(releases: pl.DataFrame) -> None:
    """Parent releases with their dates and whether each is active today."""
    st.dataframe(
        releases.select(
            "consent_id",
            "org_name",
            "categories",
            "signed_date",
            "expires_date",
            "revoked_date",
            "active",
        ),
        hide_index=True,
        width="stretch",
        column_config={
            "consent_id": st.column_config.TextColumn("Release"),
            "org_name": st.column_config.TextColumn("Organisation"),
            "categories": st.column_config.TextColumn("Categories"),
            "signed_date": st.column_config.DateColumn("Signed"),
            "expires_date": st.column_config.DateColumn("Expires"),
            "revoked_date": st.column_config.DateColumn("Revoked"),
            "active": st.column_config.CheckboxColumn("Active today"),
        },
    )
