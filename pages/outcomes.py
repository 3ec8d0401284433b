"""Is it working? Each partner program against similar students it did not serve (issue 13).

The list: one row per program (organisation x service type), school year and outcome,
with the effect chart of one outcome and the sentence a work group reads aloud. Opening a
program shows its trajectory, the balance of the matching, the method, a CSV of its
figures and, for a user who may see them, its served students (never in meeting mode).
The figures come from `api.program_outcomes` / `api.program_detail`, which apply the
policy: exact for leaders and stewards, protected for viewers, partners (their own
programs only) and meeting mode.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl
import streamlit as st

from data_access import api
from domain.presentation import ESTIMATED_VERDICTS, OUTCOME_LABELS
from domain.school_year import label as school_year_label
from domain.vocabulary import SERVICE_TYPES
from indicators.definitions import small_counts_rule
from indicators.settings import load_settings
from ui.components import indicators_lag_notice, next_step, page_header
from ui.navigation import PAGES_KEY, open_student
from ui.outcomes import (
    TABLE_COLUMNS,
    balance_table,
    effect_chart_measures,
    effect_figure,
    not_drawn,
    program_names,
    program_table,
    served_table,
    service_label,
    subgroup_label,
    subgroup_options,
    trajectory_figure,
)
from ui.session import require_principal
from ui.text import md

QUESTION = "Is what we do working?"
#: The url paths app.py registers the two pages under.
LIST_URL = "outcomes"
PROGRAM_URL = "outcomes-program"
METHOD = (
    "Each served student is compared with students of the same school, grade and needs who "
    "had similar absence, failing marks and test results before the start but were not "
    "served, and the effect is the served students' change minus that of their comparison "
    "group, adjusted for what still differs. Students were not assigned to programs at "
    "random, so this is strong evidence, not proof: a difference the matching cannot see "
    "(such as motivation) can still explain part of an effect."
)
#: The method in full, for a data steward (written with the method, issue 13).
METHOD_DOC = "docs/outcomes.md"

Program = tuple[int, str, str]


def outcomes_page() -> None:
    """The program list: filters, the effect chart of one outcome with its sentences, every
    program and outcome in a table; a link per program opens the program page."""
    principal = require_principal()
    page_header(
        QUESTION,
        "Each partner program against similar students it did not serve: did its students "
        "miss fewer days, fail fewer courses, complete the FAFSA more often?",
    )
    indicators_lag_notice()
    _protection_caption(principal)
    catalogue = api.program_outcomes(principal)
    if not catalogue.school_years:
        st.info(
            "No program figures yet: they are computed in the refresh from the services "
            "partners report. Load services and run `pathwise refresh`, or build the demo district."
        )
        return
    view = _filtered(principal, catalogue)
    rows = view.rows
    if view.as_of is not None:
        st.caption(f"Figures computed on {view.as_of:%B %d, %Y}.")
    if rows.height == 0:
        st.info("No program has figures for these filters.")
        next_step("Widen the filters: another school year, or all organisations.")
        return
    _effects(rows, view.org_names, meeting=principal.meeting_mode)
    _program_links(rows, view.org_names)
    _program_list(rows, view.org_names)
    years = rows["school_year"].unique().to_list()
    orgs = rows["org_id"].unique().to_list()
    year = years[0] if len(years) == 1 else None
    org = orgs[0] if len(orgs) == 1 else None
    st.download_button(
        "Download the figures (CSV, as `pathwise export outcomes` writes them)",
        lambda: api.export_outcomes(principal, school_year=year, org_id=org),
        file_name="pathwise-program-outcomes.csv",
        mime="text/csv",
        on_click="ignore",
        icon=":material/download:",
    )
    next_step(
        "Open a program to see its students' attendance month by month against their "
        "comparison group, and how closely the two groups were matched."
    )


def _protection_caption(principal: api.Principal) -> None:
    if not principal.exact_aggregates:
        st.caption(
            f"Figures are protected for privacy: {small_counts_rule(load_settings())}; no "
            "effect is shown from a group that small."
        )


def default_year(catalogue: api.OutcomesView) -> int:
    """The newest school year with an estimate to show (a year in progress usually has too
    few students served long enough yet), else the newest."""
    estimated = catalogue.rows.filter(pl.col("verdict").is_in(ESTIMATED_VERDICTS))
    years = [y for y in catalogue.school_years if y in set(estimated["school_year"].to_list())]
    return years[0] if years else catalogue.school_years[0]


def _filtered(principal: api.Principal, catalogue: api.OutcomesView) -> api.OutcomesView:
    """The filters (school year, organisation, service type, school, subgroup) and the
    figures they select."""
    orgs = sorted(
        set(catalogue.rows["org_id"].to_list()),
        key=lambda o: catalogue.org_names.get(o, o),
    )
    present = set(catalogue.rows["service_type"].to_list())
    services = [s for s in SERVICE_TYPES if s in present]
    schools = catalogue.school_names
    with st.container(border=True):
        first, second, third = st.columns(3)
        year = first.selectbox(
            "School year",
            catalogue.school_years,
            index=catalogue.school_years.index(default_year(catalogue)),
            format_func=school_year_label,
        )
        org_id = second.selectbox(
            "Organisation",
            [None, *orgs],
            format_func=lambda o: (
                "All organisations" if o is None else catalogue.org_names.get(o, o)
            ),
        )
        service = third.selectbox(
            "Service type",
            [None, *services],
            format_func=lambda s: (
                "All service types" if s is None else service_label(s).capitalize()
            ),
        )
        fourth, fifth = st.columns(2)
        school = fourth.selectbox(
            "School",
            [None, *sorted(schools)],
            format_func=lambda s: "All schools" if s is None else schools.get(s, s),
        )
        subgroup = fifth.selectbox(
            "Subgroup",
            [None, *subgroup_options()],
            format_func=subgroup_label,
            disabled=school is not None,
            help="One at a time: the figures are worked out for a school or for a subgroup.",
        )
    group_by, group_value = "all", None
    if school is not None:
        group_by, group_value = "school_id", school
    elif subgroup is not None:
        group_by, group_value = subgroup
    return api.program_outcomes(
        principal,
        school_year=int(year),
        org_id=org_id,
        service_type=service,
        group_by=group_by,
        group_value=group_value,
    )


def _effects(rows: pl.DataFrame, org_names: dict[str, str], *, meeting: bool) -> None:
    """The effect chart of one outcome and the sentences to read aloud."""
    measures = effect_chart_measures(rows)
    measure = st.radio(
        "Outcome",
        measures,
        format_func=lambda m: OUTCOME_LABELS.get(m, m),
        horizontal=True,
    )
    outcome = OUTCOME_LABELS.get(str(measure), str(measure))
    st.subheader(f"{outcome}: each program against similar students")
    part = rows.filter(pl.col("measure") == measure)
    if part.filter(pl.col("effect").is_not_null()).height:
        st.plotly_chart(
            effect_figure(rows, org_names, measure=str(measure), meeting=meeting),
            width="stretch",
        )
    missing = not_drawn(rows, org_names, measure=str(measure))
    if missing:
        st.caption("Not drawn: " + "; ".join(md(m) for m in missing) + ".")
    table = program_table(rows, org_names).filter(pl.col("measure") == measure)
    for sentence, note in table.select("sentence", "note").iter_rows():
        st.markdown(f"- {md(sentence)}")
        if note:
            st.caption(md(note))


def _program_list(rows: pl.DataFrame, org_names: dict[str, str]) -> None:
    """Every program, year and outcome, as text (protected counts as "<10" and "*")."""
    st.subheader("Every program and outcome")
    table = program_table(rows, org_names)
    st.dataframe(
        table,
        hide_index=True,
        width="stretch",
        column_order=list(TABLE_COLUMNS),
        column_config={c: st.column_config.TextColumn(t) for c, t in TABLE_COLUMNS.items()},
    )


def _program_links(rows: pl.DataFrame, org_names: dict[str, str]) -> None:
    """A link to every program-year of `rows`: one click opens it. Links, not a page switch
    from the script: `st.switch_page` lost the sidebar's meeting-mode switch (Streamlit
    1.67), a link keeps it, as the sidebar's own links do."""
    names = program_names(rows, org_names)
    programs: list[Program] = sorted(
        {
            (int(y), str(o), str(s))
            for y, o, s in rows.select("school_year", "org_id", "service_type").iter_rows()
        },
        key=lambda p: (names[(p[1], p[2])], -p[0]),
    )
    page = st.session_state.get(PAGES_KEY, {}).get(PROGRAM_URL)
    if page is None:
        return
    st.markdown("**Open a program**")
    columns = st.columns(3)
    for i, (year, org_id, service_type) in enumerate(programs):
        columns[i % len(columns)].page_link(
            page,
            label=md(f"{names[(org_id, service_type)]}, {school_year_label(year)}"),
            icon=":material/open_in_new:",
            query_params={"year": str(year), "org": org_id, "service": service_type},
        )


def _chosen_program() -> Program | None:
    """The program the link named (`?year=&org=&service=`), or None."""
    params = st.query_params
    year, org_id, service_type = params.get("year"), params.get("org"), params.get("service")
    if not (year and org_id and service_type) or not year.isdigit():
        return None
    return int(year), org_id, service_type


def program_page() -> None:
    """One program-year: its sentences, figures, trajectory, balance, method, a CSV of its
    figures and (for a user who may see them, never in meeting mode) its served students."""
    principal = require_principal()
    back = st.session_state.get(PAGES_KEY, {}).get(LIST_URL)
    if back is not None:
        st.page_link(back, label="All programs", icon=":material/arrow_back:")
    chosen = _chosen_program()
    if chosen is None:
        page_header(QUESTION)
        st.info("Choose a program on the list first.")
        return
    school_year, org_id, service_type = chosen
    detail = api.program_detail(
        principal, school_year=school_year, org_id=org_id, service_type=service_type
    )
    service = service_label(service_type)
    page_header(
        f"Is the {service} program of {md(detail.org_name)} working?",
        f"School year {school_year_label(school_year)}: its students against similar "
        "students it did not serve.",
    )
    _protection_caption(principal)
    estimates = detail.estimates
    org_names = {org_id: detail.org_name}
    if estimates.height == 0:
        st.info("This program has no figures for that school year.")
        next_step("Go back to all programs and choose another year.")
        return
    table = program_table(estimates, org_names)
    for sentence, note in table.select("sentence", "note").iter_rows():
        st.markdown(f"- {md(sentence)}")
        if note:
            st.caption(md(note))
    _dose(estimates)
    st.dataframe(
        table,
        hide_index=True,
        width="stretch",
        column_order=[c for c in TABLE_COLUMNS if c not in ("program", "year")],
        column_config={c: st.column_config.TextColumn(t) for c, t in TABLE_COLUMNS.items()},
    )
    st.download_button(
        "Download the organisation's figures (CSV, as `pathwise export outcomes` writes them)",
        lambda: api.export_outcomes(principal, school_year=school_year, org_id=org_id),
        file_name=f"pathwise-outcomes-{org_id}-{service_type}-{school_year}.csv",
        mime="text/csv",
        on_click="ignore",
        icon=":material/download:",
    )
    if detail.trajectory.height and detail.trajectory["absence_rate"].is_not_null().any():
        st.subheader("Attendance month by month, before and after the start")
        st.plotly_chart(
            trajectory_figure(detail.trajectory, meeting=principal.meeting_mode), width="stretch"
        )
    _balance(detail.balance)
    _method()
    _served(principal, detail)


def _dose(estimates: pl.DataFrame) -> None:
    row = estimates.row(0, named=True)
    sessions, hours = row.get("mean_sessions"), row.get("mean_hours")
    parts = []
    if sessions is not None:
        parts.append(f"{sessions:.1f} sessions")
    if hours is not None:
        parts.append(f"{hours:.1f} hours")
    if parts:
        st.caption(f"Dose: the matched served students had on average {' and '.join(parts)}.")


def _balance(balance: pl.DataFrame) -> None:
    if balance.height == 0:
        return
    st.subheader("How alike were the two groups before the start?")
    measures = [m for m in OUTCOME_LABELS if m in set(balance["measure"].to_list())]
    measure = (
        st.selectbox("Matching for", measures, format_func=lambda m: OUTCOME_LABELS.get(m, m))
        if len(measures) > 1
        else measures[0]
    )
    st.caption(
        "The standardised mean difference (SMD) of each starting figure, in standard "
        "deviations. What Works Clearinghouse bands: up to 0.05 well matched, up to 0.25 "
        "close enough when adjusted for, more: not comparable."
    )
    st.dataframe(
        balance_table(balance, str(measure)),
        hide_index=True,
        width="stretch",
        column_config={
            "covariate": st.column_config.TextColumn("Before the start"),
            "served_mean": st.column_config.NumberColumn("Served", format="%.2f"),
            "pool_mean": st.column_config.NumberColumn("All not served", format="%.2f"),
            "comparison_mean": st.column_config.NumberColumn("Matched comparison", format="%.2f"),
            "smd_before": st.column_config.NumberColumn("SMD before matching", format="%+.2f"),
            "smd_after": st.column_config.NumberColumn("SMD after matching", format="%+.2f"),
            "band": st.column_config.TextColumn("Band"),
        },
    )


def _method() -> None:
    st.subheader("How is this worked out?")
    st.markdown(METHOD)
    document = Path(__file__).resolve().parents[1] / METHOD_DOC
    if document.exists():
        with st.expander(f"The method in full, with its sources ({METHOD_DOC})"):
            st.markdown(document.read_text(encoding="utf-8"))


def _served(principal: api.Principal, detail: api.ProgramDetail) -> None:
    served = detail.served_students
    if principal.meeting_mode or served is None:
        next_step(
            "Read the sentence above to your work group, and ask what the program does "
            "differently from the ones that show no clear difference."
        )
        return
    st.subheader("Served students you may see")
    if served.height == 0:
        st.caption("None of this program's students is in your scope.")
        next_step("Go back to all programs and compare this one with the others.")
        return
    table = served_table(served, api.school_names())
    event = st.dataframe(
        table,
        hide_index=True,
        width="stretch",
        on_select="rerun",
        selection_mode="single-row",
        key="outcomes_served",
        column_config={
            "student_id": st.column_config.TextColumn("Student id"),
            "name": st.column_config.TextColumn("Name"),
            "school": st.column_config.TextColumn("School"),
            "grade_level": st.column_config.NumberColumn("Grade", format="%d"),
            "start_date": st.column_config.DateColumn("Started"),
            "matched": st.column_config.CheckboxColumn(
                "Matched", help="A similar student who was not served was found."
            ),
            "sessions": st.column_config.NumberColumn("Sessions", format="%d"),
            "hours": st.column_config.NumberColumn("Hours", format="%.1f"),
        },
    )
    selected = event.selection.rows if event and event.selection else []
    if selected:
        open_student(str(table["student_id"][selected[0]]))
    next_step("Open a student to see how they are doing now and who else is helping them.")
