"""The widgets and charts every page shares: headers, banners, tables and Plotly figures.

Charts are drawn for a projector: large type (sizes, palette and line styles from
`domain.presentation`, larger in meeting mode), thick marks, and the Okabe-Ito palette,
which stays distinguishable for the common forms of colour blindness. A suppressed figure
is drawn as a hatched placeholder of fixed length, labelled with its display ("<10", "*")
and a note under the plot, and its value never enters the figure (no bar length, hover
text or custom data).
"""

from __future__ import annotations

from collections.abc import Sequence

import plotly.graph_objects as go
import polars as pl
import streamlit as st

from domain.presentation import (
    FONT_FAMILY,
    HIDDEN_COLOUR,
    NOT_YET_COLOUR,
    PALETTE,
    TEXT_COLOUR,
    ChartText,
    chart_text,
    is_unobserved,
    not_yet_text,
    unobserved_label,
)
from domain.presentation import (
    NOT_YET_LABEL as NOT_YET_LABEL,
)
from domain.presentation import (
    STAGE_LABELS as STAGE_LABELS,
)
from domain.presentation import (
    SUPPRESSED_LABEL as SUPPRESSED_LABEL,
)
from ui.i18n import _

TIER_COLOURS = {1: "#009E73", 2: "#E69F00", 3: "#D55E00"}
#: The share of a funnel's x axis left empty right of the longest bar, so a value label
#: drawn outside a bar stays inside the figure (with `cliponaxis=False`).
VALUE_HEADROOM = 0.25


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
        _(
            "**DEMO DATA**: every student, school and organisation here is synthetic. "
            "Do not enter real student information."
        ),
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
    st.success(_("**Next step.** {text}").format(text=text), icon=":material/arrow_forward:")


def section_action(text: str) -> None:
    """A section's own suggestion, shown beside its figures; the page's one "Next step"
    (`next_step`) stays at its end."""
    st.info(text, icon=":material/arrow_forward:")


def plain_text(text: str) -> None:
    """User-written text (notes, reasons) shown verbatim: never rendered as HTML or markdown."""
    st.text(text)


def figure_layout(
    fig: go.Figure, *, height: int = 460, title: str | None = None, meeting: bool = False
) -> go.Figure:
    """Every chart's frame, for a projector: text sizes from `chart_text` (larger in meeting
    mode), axis labels that push the margins instead of being clipped (`automargin`), and a
    legend above the plotting area, never over the data."""
    text: ChartText = chart_text(meeting)
    ticks = {"size": text.tick, "color": TEXT_COLOUR}
    titles = {"size": text.body, "color": TEXT_COLOUR}
    # One update with nested dicts for every axis the figure has: plotly validates each
    # call and each "magic underscore" path, which cost ~100 ms per small-multiples chart.
    axes = {
        name: {"automargin": True, "tickfont": ticks, "title": {"font": titles}}
        for name in _axis_names(fig)
    }
    fig.update_layout(
        {
            "font": {"size": text.body, "family": FONT_FAMILY},
            "height": height,
            "title": {"text": title, "font": {"size": text.title}, "x": 0, "xanchor": "left"}
            if title
            else None,
            "margin": {"l": 10, "r": 10, "t": 60 if title else 20, "b": 10},
            "plot_bgcolor": "white",
            "paper_bgcolor": "white",
            "hoverlabel": {"font": {"size": text.hover}},
            "legend": {
                "font": {"size": text.legend},
                "orientation": "h",
                "x": 0,
                "xanchor": "left",
                "y": 1.02,
                "yanchor": "bottom",
            },
            **axes,
        }
    )
    return fig


def _axis_names(fig: go.Figure) -> list[str]:
    """The layout keys of the figure's axes: `xaxis`, `yaxis`, and `xaxis2`... for subplots."""
    names = {"xaxis", "yaxis"}
    names.update(key for key in fig.layout.to_plotly_json() if key[1:5] == "axis")
    names.update(
        f"{letter}axis{anchor[1:]}"
        for trace in fig.data
        for letter, anchor in (("x", trace.xaxis or "x"), ("y", trace.yaxis or "y"))
        if hasattr(trace, "xaxis")
    )
    return sorted(names)


def funnel_figure(
    stages: Sequence[str],
    labels: Sequence[str],
    shown: Sequence[int | None],
    display: Sequence[str],
    shares: Sequence[float | None],
    *,
    title: str | None = None,
    colour: str = PALETTE[0],
    meeting: bool = False,
    compact: bool = False,
    height: int | None = None,
    not_yet: Sequence[str | None] | None = None,
) -> go.Figure:
    """A horizontal funnel: shown stages as bars with count and share; hidden ones hatched,
    stages not observable yet in plain grey.

    Hidden and not-yet stages get a bar of fixed length (a quarter of the largest shown
    count) and no hover data, so their value cannot be read off the figure; their label is
    the display ("<10", "*", "not yet"). No legend: a note under the plot says what the
    hatching means. Value labels are never clipped: they sit inside a bar when they fit and
    just past its end otherwise, `cliponaxis` is off and the x axis leaves `VALUE_HEADROOM`
    empty past the longest bar. `compact` (small multiples): shares rounded to whole percents
    and not-yet bars labelled just "not yet" ("not observed" for a college stage without
    data). A stage is not observable yet when `not_yet[i]` is its text ("not yet (from Sep
    1, 2027)", "not observed (no college data loaded for this class)") or its display is
    the cube's `not_yet` or `not_observed`.
    """
    waiting = list(not_yet) if not_yet is not None else [None] * len(shown)
    text = chart_text(meeting)
    known = [v for v in shown if v is not None]
    longest = max(known) if known else 100
    placeholder = longest * 0.25
    fig = go.Figure()
    visible = [i for i, v in enumerate(shown) if v is not None]
    share_format = "{:.0f}%" if compact else "{:.1f}%"
    fig.add_bar(
        y=[labels[i] for i in visible],
        x=[shown[i] for i in visible],
        orientation="h",
        marker={"color": colour},
        text=[
            f"{display[i]} ({share_format.format(shares[i])})"
            if shares[i] is not None
            else display[i]
            for i in visible
        ],
        textposition="auto",
        insidetextanchor="end",
        textfont={"size": text.value},
        outsidetextfont={"size": text.value, "color": TEXT_COLOUR},
        cliponaxis=False,
        hovertemplate="%{y}: %{text}<extra></extra>",
        name="students",
    )
    later = [
        i
        for i, v in enumerate(shown)
        if v is None and (waiting[i] is not None or is_unobserved(display[i]))
    ]
    hidden = [i for i, v in enumerate(shown) if v is None and i not in later]
    if hidden:
        fig.add_bar(
            y=[labels[i] for i in hidden],
            x=[placeholder] * len(hidden),
            orientation="h",
            marker={
                "color": "white",
                "line": {"color": HIDDEN_COLOUR, "width": 2},
                "pattern": {"shape": "/", "fgcolor": HIDDEN_COLOUR},
            },
            text=[display[i] for i in hidden],
            textposition="outside",
            textfont={"size": text.value, "color": HIDDEN_COLOUR},
            cliponaxis=False,
            hoverinfo="skip",
            name=SUPPRESSED_LABEL,
        )
    if later:
        fig.add_bar(
            y=[labels[i] for i in later],
            x=[placeholder] * len(later),
            orientation="h",
            marker={"color": NOT_YET_COLOUR},
            text=[
                unobserved_label(waiting[i] or display[i])
                if compact
                else (waiting[i] or not_yet_text(display[i]))
                for i in later
            ],
            textposition="outside",
            textfont={"size": text.value, "color": HIDDEN_COLOUR},
            cliponaxis=False,
            hoverinfo="skip",
            name=NOT_YET_LABEL,
        )
    fig.update_yaxes(categoryorder="array", categoryarray=list(reversed(labels)))
    fig.update_xaxes(
        showticklabels=False,
        showgrid=False,
        zeroline=False,
        range=[0, longest / (1 - VALUE_HEADROOM)],
    )
    fig.update_layout(barmode="overlay", showlegend=False)
    if hidden:
        fig.add_annotation(
            text=f"Hatched: {SUPPRESSED_LABEL}",
            xref="paper",
            yref="paper",
            x=1,  # right-aligned: a narrow panel's note extends over the stage names' margin
            xanchor="right",
            y=0,
            yanchor="top",
            yshift=-8,
            showarrow=False,
            font={"size": text.note, "color": HIDDEN_COLOUR},
        )
    del stages
    figure = figure_layout(fig, title=title, meeting=meeting, height=height or 460)
    if hidden:
        figure.update_layout(margin={"b": 20 + 2 * text.note})
    return figure


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
