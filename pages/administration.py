"""Administration (data stewards): users, releases, agreements, imports, freshness, audit."""

from __future__ import annotations

from datetime import date

import polars as pl
import streamlit as st

from data_access import api
from domain.school_year import school_year_of
from domain.vocabulary import CATEGORIES, ROLES, SERVICE_TYPES, SIGNER_RELATIONSHIPS
from pages import mapped_files
from pages.release_overview import outbox_section, release_requests_section
from ui.components import next_step, page_header, releases_table
from ui.session import require_principal
from ui.text import md


def administration_page() -> None:
    principal = require_principal()
    page_header(
        "Is our data current, and is every look at it allowed?",
        "Users, parent releases, agreements, partner capacity, imports and the audit log of this deployment.",
    )
    if not principal.can(api.Action.ADMINISTER_USERS):
        st.error("Only data stewards see this page.")
        return
    # One section per run (tabs would query and draw all six on every view).
    sections = {
        "Releases": _releases,
        "Release requests": release_requests_section,
        "Outbox and paper releases": outbox_section,
        "Users": _users,
        "Agreements": _agreements,
        "Capacity": _capacity,
        "Import": _imports,
        "Mappings": mapped_files.mappings_section,
        "Matching review": mapped_files.review_section,
        "Data freshness": _freshness,
        "Audit log": _audit,
    }
    chosen = st.segmented_control(
        "Section", list(sections), default="Releases", key="admin_section"
    )
    sections[chosen or "Releases"](principal)


def _releases(principal: api.Principal) -> None:
    st.subheader("Releases expiring in the next 30 days")
    expiring = api.admin_consents(principal, expiring_within_days=30)
    if expiring.height == 0:
        st.caption("None.")
    else:
        st.dataframe(
            expiring.select(
                "consent_id",
                "student_id",
                "first_name",
                "last_name",
                "org_name",
                "categories",
                "expires_date",
            ),
            hide_index=True,
            width="stretch",
            column_config={"expires_date": st.column_config.DateColumn("Expires")},
        )
        next_step(
            f"Ask the {expiring.height} families whether they want to renew before the release lapses."
        )

    st.subheader("Find a student's releases")
    student_id = st.text_input("Student id", key="consent_student").strip()
    if student_id:
        found = api.admin_consents(principal, student_id=student_id)
        releases_table(found)
        active = found.filter(found["active"])["consent_id"].to_list()
        if active:
            with st.form("revoke"):
                consent_id = st.selectbox("Revoke release", active)
                when = st.date_input("Revoked on", value=principal.today)
                if st.form_submit_button("Revoke", type="primary"):
                    try:
                        api.admin_revoke_consent(principal, str(consent_id), when)
                        st.success(
                            f"Release {md(consent_id)} revoked from {when}. Partners lose access on their next request."
                        )
                    except api.InvalidChange as problem:
                        st.error(md(problem))

    st.subheader("Record a new release")
    organisations = api.admin_organisations(principal).filter(pl.col("org_type") != "district")
    names = dict(zip(organisations["org_id"], organisations["org_name"], strict=True))
    with st.form("record_consent", clear_on_submit=False):
        left, right = st.columns(2)
        consent_id = left.text_input("Release id")
        student = right.text_input("Student id")
        org = left.selectbox(
            "Organisation",
            organisations["org_id"].to_list(),
            format_func=lambda o: names.get(o, o),
        )
        categories = right.multiselect("Categories", CATEGORIES)
        purpose = left.text_input("Purpose")
        signed_by = right.text_input("Signed by")
        relationship = left.selectbox("Signer", SIGNER_RELATIONSHIPS)
        signed = right.date_input("Signed on", value=principal.today)
        expires = left.date_input("Expires on (optional)", value=None)
        language = right.text_input("Language (optional)")
        if st.form_submit_button("Record release", type="primary"):
            try:
                api.admin_record_consent(
                    principal,
                    api.ConsentRequest(
                        consent_id=consent_id.strip(), student_id=student.strip(), org_id=str(org), categories=tuple(categories),
                        purpose=purpose, signed_by=signed_by, signer_relationship=str(relationship), signed_date=signed,
                        expires_date=expires, language=language.strip() or None,
                    ),
                )  # fmt: skip
                st.success(f"Release {md(consent_id)} recorded.")
            except api.InvalidChange as problem:
                st.error(md(problem))


def _users(principal: api.Principal) -> None:
    users = api.admin_users(principal)
    st.dataframe(
        users.select(
            "email",
            "display_name",
            "role",
            "org_id",
            "school_id",
            "confidentiality_signed_date",
            "active",
        ),
        hide_index=True,
        width="stretch",
        column_config={
            "confidentiality_signed_date": st.column_config.DateColumn("Confidentiality signed"),
            "active": st.column_config.CheckboxColumn("Active"),
        },
    )
    st.subheader("Add or change a user")
    with st.form("user"):
        left, right = st.columns(2)
        email = left.text_input("Email (as the identity provider signs them in)")
        name = right.text_input("Display name")
        role = left.selectbox("Role", ROLES)
        org = right.text_input("Organisation id (partner staff)")
        school = left.text_input("School id (counselor)")
        student = right.text_input("Student id (student users)")
        signed = left.date_input("Confidentiality agreement signed", value=None)
        active = right.checkbox("Active", value=True)
        if st.form_submit_button("Save user", type="primary"):
            try:
                created = api.admin_save_user(
                    principal,
                    api.UserRequest(
                        email=email, role=str(role), display_name=name or None, org_id=org.strip() or None,
                        school_id=school.strip() or None, student_id=student.strip() or None,
                        confidentiality_signed_date=signed, active=active,
                    ),
                )  # fmt: skip
                st.success(f"{'Added' if created else 'Updated'} {md(email)}.")
            except api.InvalidUser as problem:
                st.error(md(problem))


def _agreements(principal: api.Principal) -> None:
    table = api.admin_agreements(principal)
    st.dataframe(
        table.select(
            "agreement_id", "org_name", "categories", "effective_date", "expires_date", "active"
        ),
        hide_index=True,
        width="stretch",
        column_config={"active": st.column_config.CheckboxColumn("Active today")},
    )
    with st.form("agreement"):
        left, right = st.columns(2)
        agreement_id = left.text_input("Agreement id")
        organisations = api.admin_organisations(principal)
        org = right.selectbox("Organisation", organisations["org_id"].to_list())
        categories = left.multiselect("Categories", CATEGORIES)
        effective = right.date_input("Effective from", value=principal.today)
        expires = left.date_input("Expires on (optional)", value=None)
        if st.form_submit_button("Save agreement", type="primary"):
            try:
                api.admin_save_agreement(
                    principal,
                    api.AgreementRequest(
                        agreement_id.strip(), str(org), tuple(categories), effective, expires
                    ),
                )
                st.success(f"Agreement {md(agreement_id)} saved.")
            except api.InvalidChange as problem:
                st.error(md(problem))


#: How the capacity editor names a row offered at any school (`school_id` "").
ANY_SCHOOL_LABEL = "Any school"


def _capacity(principal: api.Principal) -> None:
    """Partner capacity (issue 14 part 2): the year's rows with their open slots, and a
    form to add, change or delete one (the same checks as the `capacity` import file)."""
    year = int(
        st.number_input(
            "School year (the year it ends)",
            min_value=2000,
            max_value=2100,
            value=school_year_of(principal.today),
            step=1,
            key="capacity_year",
        )
    )
    schools = api.school_names()
    # The table is drawn last (in this place), so that it shows a change just made.
    table = st.container()
    organisations = api.admin_organisations(principal)
    school_choices = [ANY_SCHOOL_LABEL, *schools]
    with st.form("capacity"):
        st.write("**Add or change a row** (the same partner, school, type and year replaces it)")
        left, right = st.columns(2)
        names = dict(zip(organisations["org_id"], organisations["org_name"], strict=True))
        org = left.selectbox(
            "Partner", organisations["org_id"].to_list(), format_func=lambda o: str(names[o])
        )
        school = right.selectbox("School", school_choices, format_func=lambda s: schools.get(s, s))
        service_type = left.selectbox("Service type", SERVICE_TYPES)
        slots = right.number_input("Slots", min_value=0, max_value=1_000_000, value=0, step=1)
        accepting = left.checkbox("Takes referrals", value=True)
        if st.form_submit_button("Save capacity", type="primary"):
            row = api.CapacityRow(
                str(org),
                "" if school == ANY_SCHOOL_LABEL else str(school),
                str(service_type),
                year,
                int(slots),
                bool(accepting),
            )
            try:
                new = api.admin_save_capacity(principal, row)
                st.success("Capacity added." if new else "Capacity changed.")
            except api.InvalidCapacity as problem:
                st.error(md(problem))
    rows = api.capacity_rows(principal, year)
    if rows.height:
        keys = rows.select("org_id", "org_name", "school_id", "service_type").rows()
        with st.form("capacity_delete"):
            chosen = st.selectbox(
                "Delete a row",
                range(len(keys)),
                format_func=lambda i: (
                    f"{keys[i][1]}, {schools.get(keys[i][2], keys[i][2] or ANY_SCHOOL_LABEL)}, "
                    f"{keys[i][3]}"
                ),
            )
            if st.form_submit_button("Delete capacity") and chosen is not None:
                org_id, _name, school_id, service = keys[chosen]
                api.admin_delete_capacity(
                    principal, api.CapacityRow(org_id, school_id, service, year, 0)
                )
                st.success("Capacity deleted.")
    with table:
        shown = api.open_capacity(principal, year)
        if shown.height == 0:
            st.caption(f"No partner capacity recorded for {year - 1}-{str(year)[-2:]} yet.")
        else:
            st.dataframe(
                shown.select(
                    "org_name",
                    pl.col("school_id").replace({"": ANY_SCHOOL_LABEL, **schools}).alias("school"),
                    "service_type",
                    "slots",
                    "served",
                    "open_display",
                    "accepting_referrals",
                ),
                hide_index=True,
                width="stretch",
                column_config={
                    "org_name": "Partner",
                    "school": "School",
                    "service_type": "Service type",
                    "slots": st.column_config.NumberColumn("Slots"),
                    "served": st.column_config.NumberColumn("Served now"),
                    "open_display": "Open slots",
                    "accepting_referrals": st.column_config.CheckboxColumn("Takes referrals"),
                },
            )
    next_step(
        "Check the open slots against unmet need on the coverage page, and ask the partners "
        "with open slots whether they would take referrals at the schools with the most need."
    )


def _imports(principal: api.Principal) -> None:
    st.write(
        "Load files in the import format (see the documentation): one file per kind, named after it "
        "(`students.csv`, `attendance.xlsx`, ...), or a OneRoster roster export from the SIS (a "
        "`.zip` with its `manifest.csv`). Every problem is listed with its file, line, column "
        "and value; nothing is written unless every file is valid."
    )
    files = st.file_uploader(
        "Files (CSV, XLSX, or a OneRoster ZIP)",
        accept_multiple_files=True,
        type=["csv", "xlsx", "zip"],
    )
    dry_run = st.checkbox("Only check the files (write nothing)", value=True)
    if files and st.button("Check" if dry_run else "Import", type="primary"):
        bar = st.progress(0.0, text="Reading the files")

        def progress(done: int, total: int, message: str) -> None:
            bar.progress(min(1.0, done / max(total, 1)), text=md(message))  # names files

        try:
            result = api.admin_import(
                principal, {f.name: f.getvalue() for f in files}, dry_run=dry_run, progress=progress
            )
        except api.ImportRejected as rejected:
            bar.empty()
            st.error(
                f"Nothing was written: {rejected.result.problem_count:,} problem(s) to fix first."
            )
            st.dataframe(
                pl.DataFrame(
                    [
                        {
                            "file": p.file,
                            "line": p.line,
                            "column": p.column,
                            "problem": p.message,
                            "value": p.value,
                        }
                        for p in rejected.problems
                    ],
                    schema={
                        "file": pl.String,
                        "line": pl.Int64,
                        "column": pl.String,
                        "problem": pl.String,
                        "value": pl.String,
                    },
                ),
                hide_index=True,
                width="stretch",
            )
        except (api.ImportRefused, api.ImportBusy) as refused:
            bar.empty()
            st.error(md(refused))
        else:
            verb = "would insert" if result.dry_run else "inserted"
            st.success(
                f"{'Checked' if result.dry_run else 'Imported'} {len(result.files)} file(s): {result.inserted:,} rows "
                f"{verb}, {result.updated:,} {'would be ' if result.dry_run else ''}updated."
            )
            st.dataframe(
                pl.DataFrame(
                    [
                        {
                            "file": f.name,
                            "rows": f.rows,
                            "inserted": f.inserted,
                            "updated": f.updated,
                        }
                        for f in result.files
                    ]
                ),
                hide_index=True,
                width="stretch",
            )
    st.subheader("Recent imports")
    history = api.admin_import_history(principal)
    if history.height == 0:
        st.caption("No imports yet.")
    else:
        st.dataframe(history, hide_index=True, width="stretch")


def _freshness(principal: api.Principal) -> None:
    computed = api.admin_indicators_as_of(principal)
    lag = api.indicators_lag()
    if lag is not None:
        when = f"{lag.computed_at:%B %d, %Y, %H:%M} UTC" if lag.computed_at else "never"
        st.error(
            f"The indicators are older than the last import: import {lag.import_id} by "
            f"{lag.imported_by} finished {lag.imported_at:%B %d, %Y, %H:%M} UTC, and the "
            f"indicators were last computed {when}. The refresh after that import did not "
            "finish (the process was stopped). Run `pathwise refresh` now; the pages warn "
            "their users until then.",
            icon=":material/update:",
        )
    if computed is None:
        st.warning("The early-warning indicators have not been computed yet: import data first.")
    elif computed < principal.today:
        st.warning(
            f"The early-warning list and the pipeline were computed as of {computed:%B %d, %Y}. "
            "Imports recompute them; between imports, run `pathwise refresh` nightly so that "
            "they follow the calendar (students who left drop off, new FAFSA dates count)."
        )
    else:
        st.success(
            f"The early-warning list and the pipeline are computed as of today, {computed:%B %d, %Y}."
        )
    st.dataframe(api.admin_freshness(principal), hide_index=True, width="stretch")


def _audit(principal: api.Principal) -> None:
    left, middle, right = st.columns(3)
    student_id = left.text_input("Student id", key="audit_student").strip() or None
    user = middle.text_input("User email", key="audit_user").strip() or None
    since = right.date_input("Since", value=date(principal.today.year, 1, 1), key="audit_since")
    events = api.audit_events(principal, student_id=student_id, user_email=user, since=since)
    st.caption(f"{events.height:,} events (newest first; up to 5,000).")
    st.dataframe(
        events.select(
            "occurred_at",
            "user_email",
            "role",
            "org_id",
            "action",
            "outcome",
            "categories",
            "student_count",
            "student_ids",
        ),
        hide_index=True,
        width="stretch",
        column_config={
            "occurred_at": st.column_config.DatetimeColumn("When", format="YYYY-MM-DD HH:mm:ss")
        },
    )
