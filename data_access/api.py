"""The public face of `data_access`: what the pages and the command line may call.

Every function here reads or writes through the access policy with the principal it is
given, and audits in the same transaction. None of them hands out an engine, a session
or a table: a page that wanted raw rows would have to go around this module (and the
tests in tests/test_architecture.py fail if any page or UI module does).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl
from sqlalchemy import Connection, Engine, select

from data_access import (
    administration,
    aggregates,
    coverage,
    disclosures,
    notes,
    outcomes,
    records,
    referrals,
    roster,
)
from data_access import capacity as _capacity
from data_access import fafsa_season as _fafsa_season
from data_access import mapped_import as _mapped
from data_access import mappings as _mappings
from data_access.administration import AgreementRequest, ConsentRequest, InvalidChange
from data_access.aggregates import PIPELINE_GROUPINGS, PipelineView
from data_access.audit import record_event, recording_refusals
from data_access.busy import BUSY_MESSAGE, DatabaseBusy
from data_access.capacity import CapacityRow, InvalidCapacity
from data_access.coverage import CoverageView
from data_access.derived import IndicatorLag, refresh_derived
from data_access.derived import indicators_lag as _indicators_lag
from data_access.engine import get_engine
from data_access.fafsa_season import FafsaSeason
from data_access.identity import guardian_language as _guardian_language
from data_access.identity import refuse_sign_in as _refuse_sign_in
from data_access.identity import sign_in as _sign_in
from data_access.importing import (
    ImportBusy,
    ImportRefused,
    ImportRejected,
    ImportResult,
    import_files,
    import_path,
)
from data_access.importing.api import AfterImport, RecordImport
from data_access.importing.lock import import_lock
from data_access.importing.writing import FileRecord
from data_access.mapped_import import MappedResult
from data_access.mappings import InvalidMapping, InvalidResolution
from data_access.meta import LoadedCounts, is_demo, loaded_counts, read_meta
from data_access.models import User, table_of
from data_access.notes import InvalidNote
from data_access.outcomes import OutcomesView, ProgramDetail
from data_access.policy import (
    AccessDenied,
    Action,
    Principal,
    Scope,
    lands_on_figures,
    require,
    require_program,
    sees_services,
)
from data_access.records import StudentRecord, VisibilityReason
from data_access.referral_loop import referral_loop as _referral_loop
from data_access.referrals import InvalidReferral
from data_access.roster import AtRiskList, ListFilters
from data_access.suggestions import Suggestions
from data_access.suggestions import suggested_partners as _suggested_partners
from data_access.users import InvalidUser, UserRequest
from domain.mapping import Mapping
from domain.progress import Progress, no_progress
from domain.vocabulary import PIPELINE_STAGES, ROLES
from exports import formats as export_format
from exports.coverage_csv import coverage_csv
from exports.outcomes_csv import outcomes_csv
from exports.pipeline_report import Definition as ReportDefinition
from exports.pipeline_report import PipelineReport, build_report
from indicators.definitions import SUPPRESSION_SOURCE, definitions, small_counts_rule
from indicators.settings import load_settings

USER = table_of(User)

__all__ = [
    "CapacityRow",
    "InvalidCapacity",
    "capacity_rows",
    "open_capacity",
    "realignment",
    "admin_save_capacity",
    "admin_delete_capacity",
    "InvalidMapping",
    "InvalidResolution",
    "Mapping",
    "MappedResult",
    "AccessDenied",
    "Action",
    "BUSY_MESSAGE",
    "DatabaseBusy",
    "ImportBusy",
    "IndicatorLag",
    "indicators_lag",
    "ImportRefused",
    "ImportRejected",
    "ImportResult",
    "admin_import",
    "admin_import_path",
    "AtRiskList",
    "ExportFiles",
    "export_flags",
    "export_pipeline",
    "export_student",
    "flags_files",
    "PIPELINE_GROUPINGS",
    "ListFilters",
    "PipelineView",
    "OutcomesView",
    "ProgramDetail",
    "program_outcomes",
    "program_detail",
    "export_outcomes",
    "partner_organisations",
    "at_risk_list",
    "consent_coverage",
    "pipeline",
    "pipeline_cohorts",
    "pipeline_report",
    "pipeline_trend",
    "school_names",
    "fafsa_season",
    "FafsaSeason",
    "AgreementRequest",
    "ConsentRequest",
    "InvalidChange",
    "InvalidUser",
    "UserRequest",
    "admin_agreements",
    "admin_consents",
    "admin_freshness",
    "admin_import_history",
    "admin_organisations",
    "admin_record_consent",
    "admin_revoke_consent",
    "admin_save_agreement",
    "admin_save_user",
    "admin_users",
    "InvalidNote",
    "Scope",
    "lands_on_figures",
    "InvalidReferral",
    "LoadedCounts",
    "Principal",
    "CoverageView",
    "StudentRecord",
    "VisibilityReason",
    "add_note",
    "audit_events",
    "counts",
    "create_referral",
    "demo_users",
    "my_students",
    "disclosure_log",
    "is_demo_database",
    "notes_for",
    "referrals_for",
    "respond_to_referral",
    "Suggestions",
    "suggested_partners",
    "referral_loop",
    "sees_every_service",
    "sees_services",
    "sign_in",
    "refuse_sign_in",
    "guardian_language",
    "student_record",
]


def sign_in(email: str, today: date | None = None) -> Principal:
    return _sign_in(get_engine(), email, today)


def refuse_sign_in(email: str, refusal: AccessDenied) -> None:
    """Record a sign-in the identity provider's claims did not allow (audited)."""
    _refuse_sign_in(get_engine(), email, refusal)


def guardian_language(principal: Principal) -> str | None:
    """A parent's language on file (`guardians.language`), None for anyone else."""
    return _guardian_language(get_engine(), principal)


def is_demo_database() -> bool:
    return is_demo(get_engine())


def demo_users() -> list[dict[str, str]]:
    """The users a trainer may act as: only ever on the demo database."""
    engine = get_engine()
    with recording_refusals(engine, None, "demo_sign_in.list"):
        if not is_demo(engine):
            raise AccessDenied("Demo sign-in exists only on the demo database.", code="not_demo")
    order = {role: i for i, role in enumerate(ROLES)}
    with engine.connect() as connection:
        rows = connection.execute(
            select(USER.c.email, USER.c.role, USER.c.display_name).order_by(USER.c.email)
        ).all()
    people = [dict(r._mapping) for r in rows]
    return sorted(people, key=lambda p: (order.get(p["role"], 99), p["email"]))


def my_students(principal: Principal) -> list[dict[str, str]]:
    """A parent's children or a student's own id, with names (for the family view)."""
    return records.family_students(get_engine(), principal)


def indicators_lag() -> IndicatorLag | None:
    """The last import, when the stored indicators were computed before it (no student data:
    dates and the import's number; pages say the figures do not include it yet)."""
    return _indicators_lag(get_engine())


def counts() -> LoadedCounts:
    """How many schools, organisations, students and users are loaded (no student data)."""
    return loaded_counts(get_engine())


def student_record(principal: Principal, student_id: str, **options: Any) -> StudentRecord:
    return records.student_record(get_engine(), principal, student_id, **options)


def notes_for(principal: Principal, student_id: str) -> pl.DataFrame:
    return notes.notes_for(get_engine(), principal, student_id)


def add_note(
    principal: Principal, student_id: str, body: str, *, shared_with_family: bool = False
) -> int:
    return notes.add_note(
        get_engine(), principal, student_id, body, shared_with_family=shared_with_family
    )


def referrals_for(principal: Principal, student_id: str | None = None) -> pl.DataFrame:
    return referrals.referrals(get_engine(), principal, student_id)


def create_referral(principal: Principal, student_id: str, org_id: str, reason: str) -> int:
    return referrals.create_referral(get_engine(), principal, student_id, org_id, reason)


def respond_to_referral(
    principal: Principal, referral_id: int, status: str, response: str = ""
) -> None:
    referrals.respond_to_referral(get_engine(), principal, referral_id, status, response)


def suggested_partners(principal: Principal, student_ids: Sequence[str]) -> Suggestions:
    """Suggested partners of the students asked about that the principal may see (audited)."""
    return _suggested_partners(get_engine(), principal=principal, student_ids=student_ids)


def referral_loop(principal: Principal) -> pl.DataFrame:
    """What became of the referrals, per partner and school, as the principal may see it."""
    return _referral_loop(get_engine(), principal=principal)


def sees_every_service(principal: Principal) -> bool:
    """Whether the principal sees every organisation serving a student (so may know who
    has no support for their flags): not a teacher, not a partner (its own only)."""
    return sees_services(principal) and not principal.partner


def disclosure_log(principal: Principal, student_id: str | None = None) -> pl.DataFrame:
    return disclosures.disclosure_log(get_engine(), principal, student_id)


def audit_events(
    principal: Principal,
    *,
    student_id: str | None = None,
    since: date | None = None,
    user_email: str | None = None,
    action: str | None = None,
) -> pl.DataFrame:
    return disclosures.audit_events(
        get_engine(),
        principal,
        student_id=student_id,
        since=since,
        user_email=user_email,
        action=action,
    )


# --- the data steward's work (admin only; each function re-checks) -------------------


def admin_users(principal: Principal) -> pl.DataFrame:
    return administration.users(get_engine(), principal)


def admin_save_user(principal: Principal, request: UserRequest) -> bool:
    return administration.save_user_as(get_engine(), principal, request)


def admin_organisations(principal: Principal) -> pl.DataFrame:
    return administration.organisations(get_engine(), principal)


def admin_agreements(principal: Principal) -> pl.DataFrame:
    return administration.agreements(get_engine(), principal)


def admin_save_agreement(principal: Principal, request: AgreementRequest) -> None:
    administration.save_agreement(get_engine(), principal, request)


def capacity_rows(principal: Principal, school_year: int) -> pl.DataFrame:
    """One school year's partner capacity rows (data_access/capacity.py)."""
    return _capacity.read_capacity(get_engine(), principal=principal, school_year=school_year)


def open_capacity(principal: Principal, school_year: int) -> pl.DataFrame:
    """Open slots of one school year's capacity, as the principal may see them."""
    return _capacity.open_capacity(get_engine(), principal=principal, school_year=school_year)


def realignment(principal: Principal, *, meeting: bool = False) -> pl.DataFrame:
    """Unmet need against open capacity at other schools (data_access/capacity.py)."""
    return _capacity.realignment_view(get_engine(), principal=principal, meeting=meeting)


def admin_save_capacity(principal: Principal, row: CapacityRow) -> bool:
    """Add or change a capacity row (steward only, audited); returns whether it was new."""
    return _capacity.save_capacity_row(get_engine(), principal=principal, row=row)


def admin_delete_capacity(principal: Principal, row: CapacityRow) -> bool:
    """Delete the capacity row with `row`'s key (steward only, audited)."""
    return _capacity.delete_capacity_row(
        get_engine(),
        principal=principal,
        org_id=row.org_id,
        school_id=row.school_id,
        service_type=row.service_type,
        school_year=row.school_year,
    )


def admin_consents(
    principal: Principal, *, student_id: str | None = None, expiring_within_days: int | None = None
) -> pl.DataFrame:
    return administration.consents(
        get_engine(), principal, student_id=student_id, expiring_within_days=expiring_within_days
    )


def admin_record_consent(principal: Principal, request: ConsentRequest) -> None:
    administration.record_consent(get_engine(), principal, request)


def admin_revoke_consent(principal: Principal, consent_id: str, revoked: date) -> None:
    administration.revoke_consent(get_engine(), principal, consent_id, revoked)


def admin_freshness(principal: Principal) -> pl.DataFrame:
    return administration.data_freshness(get_engine(), principal)


def admin_indicators_as_of(principal: Principal) -> date | None:
    return administration.indicators_computed_as_of(get_engine(), principal)


def admin_import_history(principal: Principal) -> pl.DataFrame:
    return administration.import_history(get_engine(), principal)


# --- lists and figures ---------------------------------------------------------------


def at_risk_list(
    principal: Principal, filters: ListFilters | None = None, *, action: str = "flags.list"
) -> AtRiskList:
    return roster.at_risk_list(get_engine(), principal, filters or ListFilters(), action=action)


def pipeline_cohorts(principal: Principal) -> list[int]:
    return aggregates.pipeline_cohorts(get_engine(), principal)


def pipeline(principal: Principal, cohort: int, by: str | None = None) -> PipelineView:
    return aggregates.pipeline(get_engine(), principal, cohort, by)


def pipeline_trend(principal: Principal) -> pl.DataFrame:
    return aggregates.pipeline_trend(get_engine(), principal)


def consent_coverage(principal: Principal) -> pl.DataFrame:
    return aggregates.consent_coverage(get_engine(), principal)


def fafsa_season(principal: Principal) -> FafsaSeason:
    """The FAFSA season week by week, exact or protected by who is asking."""
    return _fafsa_season.fafsa_season(get_engine(), principal)


def program_outcomes(
    principal: Principal,
    *,
    school_year: int | None = None,
    org_id: str | None = None,
    service_type: str | None = None,
    group_by: str = "all",
    group_value: str | None = None,
) -> OutcomesView:
    """ "Is it working?": the stored outcome estimates the principal may see (exact for
    leaders and stewards, protected for the others; a partner its own programs only)."""
    return outcomes.program_outcomes(
        get_engine(), principal, school_year=school_year, org_id=org_id,
        service_type=service_type, group_by=group_by, group_value=group_value,
    )  # fmt: skip


def program_detail(
    principal: Principal, *, school_year: int, org_id: str, service_type: str
) -> ProgramDetail:
    """One program-year's estimates, balance, trajectory and (for those who may see them,
    audited) served students."""
    return outcomes.program_detail(
        get_engine(), principal, school_year=school_year, org_id=org_id, service_type=service_type
    )


def school_names() -> dict[str, str]:
    """School ids and names (not student data)."""
    return aggregates.school_names(get_engine())


@dataclass(frozen=True)
class ExportFiles:
    csv: str
    xlsx: bytes


def flags_files(rows: pl.DataFrame, *, notice: str | None = None) -> ExportFiles:
    """The CSV (docs/command-line.md format) and XLSX of early-warning rows already read through the policy."""
    table = export_format.flags_table(rows)
    return ExportFiles(
        export_format.to_csv(table), export_format.to_xlsx(table, sheet="flags", notice=notice)
    )


def partner_organisations(principal: Principal) -> pl.DataFrame:
    """Community and hub organisations (for referrals; not student data)."""
    organisations = administration.organisations(get_engine(), principal)
    return organisations.filter(pl.col("org_type") != "district")


# --- exports (the command line and the download buttons) ------------------------------


def export_flags(
    principal: Principal, *, school_year: int | None = None, as_of: date | None = None
) -> pl.DataFrame:
    """`export flags`: every student the user may see who is enrolled in the school year as
    of the date, in the docs/command-line.md format (audited as an export). Reads the stored indicators
    when they were computed for that year and date, and recomputes live otherwise."""
    engine = get_engine()
    as_of = as_of or principal.today
    stored = read_meta(engine)
    if stored.get("indicators_as_of") == as_of.isoformat() and school_year in (
        None,
        int(stored.get("indicators_school_year", 0)),
    ):
        result = roster.at_risk_list(
            engine, principal, ListFilters(), action="flags.export", order=()
        )
    else:
        result = roster.live_list(engine, principal, school_year, as_of)
    return export_format.flags_table(result.rows)


def export_pipeline(principal: Principal, cohort: int, by: str | None = None) -> pl.DataFrame:
    """`export pipeline`: cohort,group_by,group,stage,count,share as text, read and audited
    in one transaction."""
    engine = get_engine()
    aggregates.require_aggregates(engine, principal, "pipeline.read")
    with engine.begin() as connection:
        view = aggregates.pipeline_in(connection, principal, cohort, by)
        record_event(
            connection,
            principal,
            "pipeline.export",
            detail={"cohort": cohort, "by": by, "exact": view.exact},
        )
    return export_format.pipeline_table(view.rows)


def export_outcomes(
    principal: Principal, *, school_year: int | None = None, org_id: str | None = None
) -> str:
    """`export outcomes`: the CSV of docs/command-line.md (program-years the user may see,
    exact or protected as on the page), read and audited in one transaction; a role
    without outcome rights, or a partner naming another organisation, is refused
    (audited)."""
    engine = get_engine()
    with recording_refusals(engine, principal, "outcomes.export"):
        require_program(principal, Action.EXPORT_OUTCOMES, org_id)
    with engine.begin() as connection:
        view = outcomes.outcomes_in(connection, principal, school_year=school_year, org_id=org_id)
        record_event(
            connection,
            principal,
            "outcomes.export",
            detail={"school_year": school_year, "org_id": org_id, "exact": view.exact},
        )
    return outcomes_csv(view.rows)


def coverage_view(principal: Principal, *, meeting: bool = False) -> CoverageView:
    """ "Where is help missing?": need and coverage by school as the principal may see it
    (exact for leaders and stewards; protected for the others and in meeting mode)."""
    return coverage.coverage_view(get_engine(), principal=principal, meeting=meeting)


def export_coverage(
    principal: Principal, *, school_year: int | None = None, as_of: date | None = None
) -> str:
    """`export coverage`: the CSV of issue 14's command-line contract (exact or
    protected as on the page), audited as an export; a role without coverage rights is
    refused (audited)."""
    rows = coverage.coverage_export(
        get_engine(), principal=principal, school_year=school_year, as_of=as_of
    )
    return coverage_csv(rows)


def pipeline_report(
    principal: Principal, cohort: int, by: str | None = None, by_label: str | None = None
) -> bytes:
    """The one-page PDF of the pipeline page for a cohort and grouping (`by_label`: the
    grouping's name on the page), audited as an export. Built from the same frames the page
    reads through this module (`pipeline`, `pipeline_trend`): protected for a protected
    viewer and in meeting mode, exact for leaders; never from raw counts."""
    engine = get_engine()
    view = aggregates.pipeline(engine, principal, cohort)
    groups = aggregates.pipeline(engine, principal, cohort, by).rows if by else None
    trend = aggregates.pipeline_trend(engine, principal)
    settings = load_settings()
    with engine.begin() as connection:
        record_event(
            connection,
            principal,
            "pipeline.export",
            detail={"cohort": cohort, "by": by, "exact": view.exact, "format": "pdf"},
        )
    cards = definitions(settings)
    if view.exact:
        privacy = (
            "Exact figures, as district leaders see them: counts under "
            f"{settings.min_cell} are printed. Share this report only with people who may see "
            "student-level figures; for a privacy-protected version, switch on meeting mode "
            "and download it again."
        )
    else:
        privacy = (
            f"Figures are protected for privacy: {small_counts_rule(settings)} "
            f"(after {SUPPRESSION_SOURCE})."
        )
    return build_report(
        PipelineReport(
            cohort=cohort,
            as_of=principal.today,
            exact=view.exact,
            funnel=view.rows,
            trend=trend,
            privacy_note=privacy,
            definitions={
                stage: ReportDefinition(cards[stage].title, cards[stage].rule, cards[stage].source)
                for stage in PIPELINE_STAGES
                if stage in cards
            },
            by_label=(by_label or by.replace("_", " ")) if by else None,
            groups=groups,
            group_names=aggregates.school_names(engine) if by == "school_id" else {},
        )
    )


def export_student(principal: Principal, student_id: str) -> dict[str, Any]:
    """`export student`: one record as the user may see it (audited as an export)."""
    record = records.student_record(get_engine(), principal, student_id, action="student.export")
    return export_format.record_document(record)


def admin_import(
    principal: Principal,
    files: dict[str, bytes],
    *,
    dry_run: bool = True,
    progress: Progress = no_progress,
) -> ImportResult:
    """Load uploaded files (admin only), then refresh the derived tables. Raises
    `ImportRejected` (every problem, nothing written) or `ImportRefused`."""
    engine = _may_import(principal)
    return import_files(
        engine,
        files,
        dry_run=dry_run,
        progress=progress,
        imported_by=principal.email,
        after_import=refresh_derived,
        record=_recording_import(principal),
    )


def admin_import_path(
    principal: Principal,
    path: Path,
    *,
    dry_run: bool = False,
    progress: Progress = no_progress,
    after_import: AfterImport | None = refresh_derived,
    nsc: bool = False,
    oneroster: bool = False,
) -> ImportResult:
    """`pathwise import PATH`: a file or a folder, as `admin_import` loads uploads (the
    same check, the same audit event); `imported_by` is the operating-system user.
    `nsc=True`: `pathwise import nsc FILE` (a Clearinghouse detail report by any name);
    `oneroster=True`: `pathwise import oneroster ZIP` (a OneRoster package by any name)."""
    engine = _may_import(principal)
    return import_path(
        engine,
        path,
        nsc=nsc,
        oneroster=oneroster,
        dry_run=dry_run,
        progress=progress,
        after_import=after_import,
        record=_recording_import(principal),
    )


def _may_import(principal: Principal) -> Engine:
    """The engine, when the principal may load files (a refusal is recorded)."""
    engine = get_engine()
    with recording_refusals(engine, principal, "import"):
        require(principal, Action.IMPORT_FILES)
    return engine


def _recording_import(principal: Principal) -> RecordImport:
    """The `import` audit event, written inside the import's own transaction (so that an
    import is never committed without it); the refresh that follows is not part of it."""

    def record(connection: Connection, import_id: int, files: Sequence[FileRecord]) -> None:
        record_event(
            connection,
            principal,
            "import",
            detail={"import_id": import_id, "files": sorted(f.name for f in files)},
        )

    return record


# --- Mapped files: state FAFSA files and partners' service exports (issue 15) ------------


def mapped_import(
    principal: Principal,
    file: str,
    data: bytes,
    mapping: Mapping,
    *,
    dry_run: bool = True,
    progress: Progress = no_progress,
    after_import: AfterImport | None = refresh_derived,
) -> MappedResult:
    """Load a state FAFSA file or a partner's service export through `mapping`. Data
    stewards load either; partner staff only services, only their own organisation's
    (policy `IMPORT_SERVICES`). Raises `ImportRejected` (nothing written)."""
    engine = get_engine()
    only_org: str | None = None
    with recording_refusals(engine, principal, "import"):
        if mapping.target == "services" and not principal.can(Action.IMPORT_FILES):
            require(principal, Action.IMPORT_SERVICES)
            only_org = principal.org_id
            if only_org is None:
                raise AccessDenied("Your account names no organisation.")
            if mapping.org_id is not None and mapping.org_id != only_org:
                raise AccessDenied("You may import only your organisation's services.")
        else:
            require(principal, Action.IMPORT_FILES)
    settings = load_settings()
    return _mapped.import_mapped(
        engine,
        file,
        data,
        mapping,
        principal=principal,
        near=settings.near_match_score,
        gap_days=settings.service_period_gap_days,
        dry_run=dry_run,
        only_org=only_org,
        progress=progress,
        after_import=after_import,
    )


def saved_mapping(principal: Principal, name: str) -> Mapping | None:
    """A saved mapping by name (stewards; partner staff for services)."""
    if not (principal.can(Action.IMPORT_FILES) or principal.can(Action.IMPORT_SERVICES)):
        return None
    return _mappings.load_mapping(get_engine(), name)


def saved_mapping_names(principal: Principal, target: str | None = None) -> list[str]:
    if not (principal.can(Action.IMPORT_FILES) or principal.can(Action.IMPORT_SERVICES)):
        return []
    return _mappings.mapping_names(get_engine(), target)


def save_mapping(principal: Principal, mapping: Mapping) -> None:
    """Save a mapping (stewards only); raises `InvalidMapping`."""
    engine = get_engine()
    with recording_refusals(engine, principal, "save mapping"):
        require(principal, Action.IMPORT_FILES)
    _mappings.save_mapping(engine, mapping, principal.email)


def review_queue(principal: Principal) -> pl.DataFrame:
    """The open review items (stewards only). Reading them is audited: they hold names and
    birth dates, and their candidates are students."""
    engine = get_engine()
    with recording_refusals(engine, principal, "read review queue"):
        require(principal, Action.IMPORT_FILES)
    items = _mapped.open_reviews(engine)
    with engine.begin() as connection:
        record_event(connection, principal, "read review queue", detail={"items": items.height})
    return items


def resolve_review(
    principal: Principal,
    review_id: int,
    student_id: str | None,
    *,
    after_resolve: AfterImport | None = refresh_derived,
) -> int:
    """Pick a student for a review item (its rows are loaded) or reject it (`student_id`
    None). Stewards only; audited. Loading and its refresh hold the import lock, as an
    import does: `ImportBusy` while an import or a refresh runs (nothing is loaded).
    Raises `InvalidResolution`."""
    engine = get_engine()
    with recording_refusals(engine, principal, "resolve match"):
        require(principal, Action.IMPORT_FILES)
    with import_lock(engine, principal.email):
        loaded = _mappings.resolve(engine, principal, review_id, student_id)
        if loaded and after_resolve is not None:
            after_resolve(engine)
    return loaded


def file_columns(name: str, data: bytes) -> tuple[tuple[str, ...], dict[str, list[str]]]:
    """A file's header and, per column, its distinct values (at most 50 each), for building
    a mapping on the Administration page. Raises `ValueError` (its first problem) for a
    file that cannot be read."""
    from data_access.importing.reading import Unreadable, cell_column, file_parts

    try:
        parts = list(file_parts(name, data, name.lower().endswith(".xlsx")))
    except Unreadable as unreadable:
        raise ValueError(str(unreadable.problems[0])) from unreadable
    header = parts[0].header
    values: dict[str, list[str]] = {}
    for position, column in enumerate(header):
        seen = pl.concat([p.cells.get_column(cell_column(position)) for p in parts])
        values[column] = sorted(seen.drop_nulls().unique().head(50).to_list())
    return header, values


# ---------------------------------------------------------------------------------------
# Release requests (issue 16 part 1): data_access/releases.py and data_access/mail.py.
# The family's side (`open_release_link`, `sign_release`, `decline_release`) has no
# principal: the single-use token is the authority, verified there.
# ---------------------------------------------------------------------------------------

from data_access import mail as _mail  # noqa: E402
from data_access import releases as _releases  # noqa: E402
from data_access.mail import MailSettings as MailSettings  # noqa: E402
from data_access.mail import MailSettingsError as MailSettingsError  # noqa: E402
from data_access.releases import Compose as Compose  # noqa: E402
from data_access.releases import CreatedRequest as CreatedRequest  # noqa: E402
from data_access.releases import InvalidRequest as InvalidRequest  # noqa: E402
from data_access.releases import InvalidSignature as InvalidSignature  # noqa: E402
from data_access.releases import LinkRefused as LinkRefused  # noqa: E402
from data_access.releases import LinkView as LinkView  # noqa: E402
from data_access.releases import NewRequest as NewRequest  # noqa: E402
from data_access.releases import PrintableRelease as PrintableRelease  # noqa: E402


def mail_settings(secrets: Any) -> MailSettings | None:
    """The `[smtp]` settings of the app's secrets, or None (messages wait in the outbox)."""
    return _mail.mail_settings(secrets)


def request_releases(
    principal: Principal,
    news: Sequence[NewRequest],
    *,
    link_base: str,
    compose: Compose,
    mail: MailSettings | None,
) -> list[CreatedRequest]:
    return _releases.create_requests(
        get_engine(), principal, news, link_base=link_base, compose=compose, mail=mail
    )


def request_release(
    principal: Principal,
    new: NewRequest,
    *,
    link_base: str,
    compose: Compose,
    mail: MailSettings | None,
) -> CreatedRequest:
    return _releases.create_request(
        get_engine(), principal, new, link_base=link_base, compose=compose, mail=mail
    )


def release_requests(principal: Principal, *, student_id: str | None = None) -> pl.DataFrame:
    return _releases.requests(get_engine(), principal, student_id=student_id)


def cancel_release_request(principal: Principal, request_id: int) -> None:
    _releases.cancel_request(get_engine(), principal, request_id)


def printable_release(principal: Principal, request_id: int) -> PrintableRelease:
    return _releases.printable_request(get_engine(), principal, request_id)


def open_release_link(token: str, *, client: str) -> LinkView | LinkRefused:
    return _releases.open_link(get_engine(), token, client=client)


def sign_release(
    token: str, *, client: str, signed_by: str, relationship: str, language: str
) -> str | LinkRefused:
    return _releases.sign(
        get_engine(),
        token,
        client=client,
        signed_by=signed_by,
        relationship=relationship,
        language=language,
    )


def decline_release(token: str, *, client: str) -> None | LinkRefused:
    return _releases.decline(get_engine(), token, client=client)


def admin_record_paper_release(
    principal: Principal,
    paper_code: str,
    *,
    signed_by: str,
    relationship: str,
    signed_date: date,
    language: str,
) -> str:
    return _releases.record_paper_release(
        get_engine(),
        principal,
        paper_code,
        signed_by=signed_by,
        relationship=relationship,
        signed_date=signed_date,
        language=language,
    )


def admin_outbox(principal: Principal) -> pl.DataFrame:
    return _mail.outbox(get_engine(), principal)


# Issue 16 part 1: a family's releases (My record), partners' asks and the steward's view
# of releases. Kept together at the end of the module so that the parallel branches of
# issue 16 merge without touching each other's lines.
from data_access import family_releases as _family_releases  # noqa: E402
from data_access import release_asks as _release_asks  # noqa: E402
from data_access import release_overview as _release_overview  # noqa: E402
from data_access.family_releases import WithdrawalRefused  # noqa: E402
from data_access.release_asks import InvalidAsk, MatchedAsk  # noqa: E402

__all__ += ["InvalidAsk", "MatchedAsk", "WithdrawalRefused"]


def family_releases(principal: Principal) -> pl.DataFrame:
    """Every release for the family's own students (audited): My record's "Your releases"."""
    return _family_releases.releases_for_family(get_engine(), principal)


def withdraw_release(principal: Principal, consent_id: str) -> None:
    """Withdraw one of the family's releases from today. Raises `AccessDenied` (audited) or
    `WithdrawalRefused`."""
    _family_releases.withdraw_release(get_engine(), principal, consent_id)


def ask_for_release(
    principal: Principal,
    *,
    first_name: str,
    last_name: str,
    school_id: str,
    birth_date: date | None = None,
    note: str | None = None,
) -> int:
    """A partner asks the district to request a release (raises `InvalidAsk`)."""
    return _release_asks.ask_for_release(
        get_engine(),
        principal,
        first_name=first_name,
        last_name=last_name,
        school_id=school_id,
        birth_date=birth_date,
        note=note,
    )


def my_asks(principal: Principal) -> pl.DataFrame:
    return _release_asks.my_asks(get_engine(), principal)


def open_asks(principal: Principal) -> pl.DataFrame:
    return _release_asks.open_asks(get_engine(), principal)


def match_ask(principal: Principal, ask_id: int, student_id: str) -> MatchedAsk:
    return _release_asks.match_ask(get_engine(), principal, ask_id, student_id)


def reject_ask(principal: Principal, ask_id: int) -> None:
    _release_asks.reject_ask(get_engine(), principal, ask_id)


def consent_gap(principal: Principal) -> pl.DataFrame:
    return _release_overview.consent_gap(get_engine(), principal)


def release_request_counts(principal: Principal) -> pl.DataFrame:
    return _release_overview.request_counts(get_engine(), principal)


# Issue 16 part 1, the staff side: the partners a release may name, and notifications.
from data_access import notifications as _notifications  # noqa: E402


def release_partners(principal: Principal) -> pl.DataFrame:
    """Partners with an active agreement and the categories it covers (REQUEST_RELEASE)."""
    return _releases.request_partners(get_engine(), principal)


def notifications(principal: Principal, *, unread_only: bool = False) -> pl.DataFrame:
    """The principal's notifications, newest first (READ_NOTIFICATIONS)."""
    return _notifications.notifications_for(get_engine(), principal, unread_only=unread_only)


def mark_notifications_read(principal: Principal, notification_ids: list[int]) -> None:
    _notifications.mark_read(get_engine(), principal, notification_ids)
