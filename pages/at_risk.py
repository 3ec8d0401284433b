"""Who needs help this week? The early-warning list of the viewer's students."""

from __future__ import annotations

import polars as pl
import streamlit as st

from data_access import api
from domain import vocabulary
from domain.vocabulary import TIERS
from exports.formats import REDISCLOSURE_NOTICE
from indicators.definitions import definitions, flag_title, tier_label
from indicators.settings import load_settings
from indicators.suggestions import summaries
from ui.components import download_buttons, indicators_lag_notice, next_step, page_header
from ui.navigation import open_student
from ui.session import require_principal


def _filters(principal: api.Principal) -> tuple[api.ListFilters, bool]:
    """The list's filters, and whether to keep only students with no support for their
    flags (offered to those who see every organisation serving a student)."""
    with st.container(border=True):
        first, second, third = st.columns(3)
        caseload_only = False
        school_id = None
        if principal.scope == api.Scope.SCHOOL:
            caseload_only = (
                first.radio("Students", ["My caseload", "My whole school"], horizontal=True)
                == "My caseload"
            )
        elif principal.scope == api.Scope.EVERY_STUDENT:
            schools = api.school_names()
            school_id = first.selectbox(
                "School",
                [None, *sorted(schools)],
                format_func=lambda s: "All schools" if s is None else schools.get(s, s),
            )
        tiers = second.multiselect("Tier", [3, 2, 1], default=[3, 2], format_func=tier_label)
        flags = third.multiselect("Flags (all of)", list(vocabulary.FLAGS), format_func=flag_title)
        fourth, fifth, sixth = st.columns(3)
        grades = fourth.multiselect("Grade", [9, 10, 11, 12])
        served = None
        if api.sees_services(principal):  # never for teachers (docs/access-rules.md)
            served = fifth.selectbox(
                "Served by a partner",
                [None, True, False],
                format_func=lambda v: {None: "Either", True: "Served", False: "Not served"}[v],
            )
        approaching = sixth.toggle("Only students approaching the next absence band")
        search = st.text_input(
            "Search by name or student id", placeholder="e.g. Garcia or S1000123"
        )
        unsupported = api.sees_every_service(principal) and st.toggle(
            "No support for their flags",
            help="Flagged students whom no organisation serves with a service addressing "
            "any of their flags (the need-to-service setting).",
        )
    filters = api.ListFilters(
        caseload_only=caseload_only,
        school_id=school_id,
        grades=tuple(grades),
        tiers=tuple(tiers),
        flags=tuple(flags),
        served=served,
        approaching=True if approaching else None,
        search=search or None,
    )
    return filters, bool(unsupported)


def _with_help(principal: api.Principal, rows: pl.DataFrame, unsupported: bool) -> pl.DataFrame:
    """The rows with `help` (who serves them for their flags, the first suggested partners
    with open slots), narrowed to those with no support for their flags when asked."""
    suggestions = api.suggested_partners(principal, rows["student_id"].to_list())
    if unsupported:
        kept = suggestions.students.filter(pl.col("no_support").fill_null(False))
        rows = rows.join(kept.select("student_id"), on="student_id", how="semi")
    return rows.join(summaries(suggestions), on="student_id", how="left", maintain_order="left")


def _display(rows: pl.DataFrame) -> pl.DataFrame:
    flags = pl.concat_list(
        [
            pl.when(pl.col(f).fill_null(False)).then(pl.lit(flag_title(f))).otherwise(None)
            for f in vocabulary.FLAGS
            if f in rows.columns  # a flag the stored indicators do not carry yet is not raised
        ]
    ).list.drop_nulls()
    return rows.select(
        "student_id",
        (pl.col("first_name") + " " + pl.col("last_name")).alias("name"),
        "school_id",
        "grade_level",
        pl.col("tier")
        .replace_strict({t: tier_label(t, short=True) for t in TIERS}, return_dtype=pl.String)
        .alias("tier"),
        flags.alias("flags"),
        (pl.col("absence_rate") * 100).alias("absence_pct"),
        pl.col("approaching"),
        pl.col("core_fails"),
        pl.col("fafsa_status"),
        *([pl.col("served")] if "served" in rows.columns else []),
        *([pl.col("help")] if "help" in rows.columns else []),
    )


def at_risk_page() -> None:
    principal = require_principal()
    page_header(
        "Who needs help this week?",
        "Students with early-warning flags, the most intensive needs first. Open a student to see why "
        "they are flagged and who is already helping.",
    )
    indicators_lag_notice()
    filters, unsupported = _filters(principal)
    result = api.at_risk_list(principal, filters)
    rows = result.rows
    if rows.height:
        rows = _with_help(principal, rows, unsupported)
    as_of = f" as of {result.computed_as_of:%B %d, %Y}" if result.computed_as_of else ""
    st.caption(f"{rows.height:,} students{as_of}. Flags and tiers use only the data you may see.")
    if rows.height == 0:
        st.info("No student matches these filters.")
        next_step("Widen the filters, or check the pipeline for where the cohort is leaking.")
        return
    table = _display(rows)
    event = st.dataframe(
        table,
        hide_index=True,
        width="stretch",
        height=min(640, 38 + 35 * table.height),
        on_select="rerun",
        selection_mode="single-row",
        key="at_risk_table",
        column_config={
            "student_id": st.column_config.TextColumn("Student id"),
            "name": st.column_config.TextColumn("Name", width="medium"),
            "school_id": st.column_config.TextColumn("School"),
            "grade_level": st.column_config.NumberColumn("Grade", format="%d"),
            "tier": st.column_config.TextColumn(
                "Tier",
                help=f"Tier 3: {definitions(load_settings())['tier_3'].rule}",
            ),
            "flags": st.column_config.ListColumn("Flags", width="large"),
            "absence_pct": st.column_config.ProgressColumn(
                "Absent", format="%.1f%%", min_value=0, max_value=40
            ),
            "approaching": st.column_config.CheckboxColumn(
                "Approaching", help="Within a point (or one absence) of the next band."
            ),
            "core_fails": st.column_config.NumberColumn("Core fails", format="%d"),
            "fafsa_status": st.column_config.TextColumn("FAFSA"),
            "served": st.column_config.CheckboxColumn(
                "Served", help="An organisation is serving the student now."
            ),
            "help": st.column_config.TextColumn(
                "Who could help",
                width="large",
                help="Partners whose services address the student's flags, with open slots at "
                "their school or any school, most open first; or who already serves them.",
            ),
        },
    )
    selected = event.selection.rows if event and event.selection else []
    if selected:
        open_student(str(table["student_id"][selected[0]]))
    notice = REDISCLOSURE_NOTICE if principal.partner else None
    with st.expander("Export this list"):
        st.caption("Exports go through the same rules and are recorded in the audit log.")
        if st.button("Prepare CSV and Excel files"):
            export = api.at_risk_list(principal, filters, action="flags.export")
            files = api.flags_files(export.rows, notice=notice)
            download_buttons(files.csv, files.xlsx, name="pathwise-flags", notice=notice)
    next_step(
        "Pick a tier 3 student without a partner, open the profile, and refer them or write the next step in a note."
    )
