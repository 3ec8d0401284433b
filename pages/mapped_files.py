"""Files in other systems' shapes (issue 15): saved column mappings, the mapped upload and
the matching review queue, for the Administration page (data stewards) and the partner's
upload section (partner staff: only services, only their organisation)."""

from __future__ import annotations

import json

import polars as pl
import streamlit as st

from data_access import api
from domain.mapping import CONSTANTS, TARGET_COLUMNS, VOCABULARY, Mapping
from ui.text import md

_NONE = "(not in the file)"


def _problems_table(rejected: api.ImportRejected) -> None:
    st.error(f"Nothing was written: {rejected.result.problem_count:,} problem(s) to fix first.")
    st.dataframe(
        pl.DataFrame(
            [
                {"line": p.line, "column": p.column, "problem": p.message, "value": p.value}
                for p in rejected.problems
            ],
            schema={
                "line": pl.Int64,
                "column": pl.String,
                "problem": pl.String,
                "value": pl.String,
            },
        ),
        hide_index=True,
        width="stretch",
    )


def mapped_upload(principal: api.Principal, targets: tuple[str, ...]) -> None:
    """Upload a file and load it through a saved mapping (a dry run first by default)."""
    names = [n for t in targets for n in api.saved_mapping_names(principal, t)]
    if not names:
        st.caption("No saved mapping yet: a data steward saves one under *Mappings*.")
        return
    name = st.selectbox("Mapping", names, key="mapped_mapping")
    upload = st.file_uploader("File (CSV or XLSX)", type=["csv", "xlsx"], key="mapped_file")
    dry_run = st.checkbox("Only check the file (write nothing)", value=True, key="mapped_dry")
    if upload is None or not st.button("Check" if dry_run else "Import", type="primary"):
        return
    mapping = api.saved_mapping(principal, str(name))
    if mapping is None:
        st.error("That mapping no longer exists.")
        return
    bar = st.progress(0.0, text="Reading the file")

    def progress(done: int, total: int, message: str) -> None:
        bar.progress(min(1.0, done / max(total, 1)), text=md(message))

    try:
        result = api.mapped_import(
            principal, upload.name, upload.getvalue(), mapping, dry_run=dry_run, progress=progress
        )
    except api.ImportRejected as rejected:
        bar.empty()
        _problems_table(rejected)
        return
    except (api.ImportRefused, api.ImportBusy, api.AccessDenied) as refused:
        bar.empty()
        st.error(md(refused))
        return
    verb = "would be" if result.dry_run else "were"
    st.success(
        f"{result.source_rows:,} rows read. Matched {result.matched:,}, ambiguous "
        f"{result.ambiguous:,}, unmatched {result.unmatched:,}: {result.queued:,} {verb} sent to "
        f"the review queue. {result.inserted:,} {mapping.target} rows {verb} added and "
        f"{result.updated:,} updated."
    )


def mappings_section(principal: api.Principal) -> None:
    """Data stewards: build a mapping from a file's header, save it, load files with it."""
    st.subheader("Load a file through a mapping")
    mapped_upload(principal, ("fafsa", "services"))
    st.subheader("Create or change a mapping")
    sample = st.file_uploader(
        "A file of this kind (its header is read)", type=["csv", "xlsx"], key="mapping_sample"
    )
    if sample is None:
        return
    try:
        header, values = api.file_columns(sample.name, sample.getvalue())
    except ValueError as error:
        st.error(md(error))
        return
    target = str(
        st.radio("Loads into", ["fafsa", "services"], horizontal=True, key="mapping_target")
    )
    name = st.text_input("Mapping name", key="mapping_name").strip()
    columns: dict[str, str] = {}
    for column in TARGET_COLUMNS[target]:
        chosen = st.selectbox(column, [_NONE, *header], key=f"mapping_col_{target}_{column}")
        if chosen != _NONE:
            columns[column] = str(chosen)
    constants: dict[str, str] = {}
    for column in CONSTANTS[target]:
        if column not in columns:
            constants[column] = st.text_input(
                f"{column} for the whole file", key=f"mapping_const_{column}"
            ).strip()
    date_format = st.text_input(
        "Date format (blank: YYYY-MM-DD; e.g. %m/%d/%Y)", key="mapping_dates"
    ).strip()
    listed: dict[str, dict[str, str]] = {}
    for column, source in columns.items():
        vocabulary = VOCABULARY.get(column)
        if vocabulary is None and column not in ("school_id", "org_id"):
            continue
        st.markdown(f"**Values of {md(source)}**")
        for value in values.get(source, []):
            if vocabulary is None:
                meant = st.text_input(
                    f"{value} →", value=value, key=f"mapping_val_{column}_{value}"
                )
            else:
                meant = st.selectbox(
                    f"{value} →", ["", *vocabulary], key=f"mapping_val_{column}_{value}"
                )
            if meant:
                listed.setdefault(column, {})[value] = str(meant)
    if not st.button("Save mapping", type="primary"):
        return
    try:
        award = int(constants["award_year"]) if constants.get("award_year") else None
    except ValueError:
        st.error("award_year must be a whole number, 2026 for 2026-27.")
        return
    mapping = Mapping(
        name=name,
        target=target,
        columns=columns,
        values=listed,
        award_year=award,
        org_id=constants.get("org_id") or None,
        service_type=constants.get("service_type") or None,
        date_format=date_format or None,
    )
    try:
        api.save_mapping(principal, mapping)
    except api.InvalidMapping as invalid:
        st.error(md(invalid))
    else:
        st.success(f"Mapping {md(name)} saved.")


def review_section(principal: api.Principal) -> None:
    """Data stewards: the rows matching could not settle; pick a student or reject."""
    items = api.review_queue(principal)
    st.subheader(f"Matching review ({items.height:,} open)")
    if items.height == 0:
        st.caption("Nothing to review.")
        return
    st.dataframe(
        items.select(
            "review_id",
            "target",
            "source_file",
            "line",
            "reason",
            "first_name",
            "last_name",
            "birth_date",
            "school",
            "org_id",
        ),
        hide_index=True,
        width="stretch",
    )
    review_id = st.selectbox("Review item", items["review_id"].to_list(), key="review_item")
    item = items.filter(pl.col("review_id") == review_id).row(0, named=True)
    candidates = json.loads(item["candidates"])
    options = [f"{c['student_id']} (score {c['score']:.2f})" for c in candidates] + [
        "Reject: none of them"
    ]
    choice = st.radio("This row is about", options, key="review_choice")
    if st.button("Resolve", type="primary"):
        picked = (
            None if choice == options[-1] else candidates[options.index(str(choice))]["student_id"]
        )
        try:
            loaded = api.resolve_review(principal, int(review_id), picked)
        except (api.InvalidResolution, api.ImportBusy) as refused:
            st.error(md(refused))
        else:
            st.success(
                f"Resolved: {loaded} row(s) loaded." if picked else "Rejected: nothing loaded."
            )


#: The url path of the partner's upload page (app.py).
PARTNER_UPLOAD_URL = "load-services"


def partner_upload_page() -> None:
    """Partner staff: load their own organisation's service export through a saved mapping."""
    from ui.session import require_principal

    principal = require_principal()
    st.header("Load your organisation's services")
    if not principal.can(api.Action.IMPORT_SERVICES):
        st.error("Only data stewards and partner staff load service exports.")
        return
    st.write(
        "Upload your program's export (Salesforce, Apricot or a spreadsheet). Only services "
        "of your organisation are accepted; every problem is listed with its line, column and value."
    )
    mapped_upload(principal, ("services",))
