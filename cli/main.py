"""`pathwise`: the command line of docs/command-line.md.

Exit status: 0 done; 1 invalid input; 2 wrong usage; 3 the user may not do this.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from collections.abc import Sequence
from datetime import date
from pathlib import Path

from cli.progress_bar import ProgressBar
from domain.vocabulary import GROUP_FIELDS

EXIT_OK, EXIT_INVALID, EXIT_USAGE, EXIT_FORBIDDEN = 0, 1, 2, 3


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"not a date in YYYY-MM-DD form: {text!r}") from error


def _positive(text: str) -> int:
    try:
        value = int(text.replace("_", "").replace(",", ""))
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from error
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pathwise",
        description="Pathwise: pipeline funnels and early-warning lists shared under parent releases.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    db = commands.add_parser("db", help="database schema")
    db_commands = db.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    db_commands.add_parser("upgrade", help="create or migrate the schema (Alembic)")
    grant = db_commands.add_parser(
        "grant",
        help="PostgreSQL: grant the application's login role its rights (audit log: read and append only)",
    )
    grant.add_argument("role")

    demo = commands.add_parser("demo", help="build the synthetic demo district")
    demo.add_argument(
        "--students",
        type=_positive,
        default=8000,
        help="current students in grades 9-12 (default 8000)",
    )
    demo.add_argument("--seed", type=int, default=2026, help="random seed (default 2026)")
    demo.add_argument(
        "--replace", action="store_true", help="rebuild a demo database that already holds the demo"
    )
    demo.add_argument(
        "--if-empty",
        action="store_true",
        help="build only when the database is empty; otherwise do nothing",
    )
    demo.add_argument(
        "--as-of", type=_date, default=None, help="the demo's 'today' (default: the real date)"
    )
    demo.add_argument(
        "--csv",
        type=Path,
        default=None,
        metavar="DIR",
        help="write the demo district as import files (one CSV each) into DIR instead of "
        "the database",
    )

    demo.add_argument(
        "--formats",
        type=Path,
        default=None,
        metavar="DIR",
        help="write the demo district in other systems' own formats (the Clearinghouse "
        "StudentTracker detail report) into DIR instead of the database",
    )

    load = commands.add_parser("import", help="load files in the import format, in one transaction")
    load.add_argument(
        "path",
        nargs="+",
        metavar="PATH",
        help="one file, or a folder of files; `nsc FILE` reads FILE as a National Student "
        "Clearinghouse StudentTracker detail report; `oneroster ZIP` reads ZIP as a OneRoster 1.2 CSV "
        "package from the SIS (a .zip is always read so); `fafsa FILE` and `services FILE` read a "
        "state FAFSA file or a partner's service export through --mapping",
    )
    load.add_argument(
        "--mapping",
        metavar="NAME|PATH.toml",
        help="the column mapping of `import fafsa FILE` / `import services FILE`: a saved "
        "mapping's name or a TOML file",
    )
    load.add_argument(
        "--dry-run",
        action="store_true",
        help="check everything and count the rows that would be inserted and updated; "
        "write nothing",
    )

    refresh = commands.add_parser(
        "refresh",
        help="recompute the early-warning indicators and the pipeline as of today "
        "(imports do this themselves; run it nightly so the list follows the calendar)",
    )
    refresh.add_argument(
        "--as-of", type=_date, default=None, help="compute as of this date (default: today)"
    )
    refresh.add_argument(
        "--recompute-outcomes",
        action="store_true",
        help="compute every program outcome again, even where nothing they read changed",
    )

    users = commands.add_parser("users", help="manage users")
    user_commands = users.add_subparsers(dest="users_command", required=True, metavar="ACTION")
    add = user_commands.add_parser("add", help="add or update a user")
    add.add_argument("email")
    add.add_argument("--role", required=True)
    add.add_argument(
        "--org", default=None, help="organisation id (org_staff, and staff of the district)"
    )
    add.add_argument("--school", default=None, help="school id (counselor, teacher)")
    add.add_argument("--student", default=None, help="student id (role student)")
    add.add_argument("--name", default=None, help="display name (default: the email)")
    add.add_argument(
        "--confidentiality-signed",
        type=_date,
        default=None,
        help="date the confidentiality agreement was signed",
    )
    add.add_argument(
        "--inactive", action="store_true", help="save the user as inactive (no access)"
    )
    user_commands.add_parser("list", help="list users")

    export = commands.add_parser(
        "export", help="export what a user may see (flags, pipeline, outcomes, coverage, student)"
    )
    exports = export.add_subparsers(dest="export_command", required=True, metavar="WHAT")
    flags = exports.add_parser("flags", help="the early-warning list the user may see, as CSV")
    flags.add_argument("--as", dest="as_email", required=True, metavar="EMAIL")
    flags.add_argument("--school-year", type=int, default=None, metavar="Y")
    flags.add_argument("--as-of", type=_date, default=None, metavar="DATE")
    flags.add_argument("--out", default=None, metavar="FILE")
    funnel = exports.add_parser("pipeline", help="the cohort funnel the user may see, as CSV")
    funnel.add_argument("--as", dest="as_email", required=True, metavar="EMAIL")
    funnel.add_argument("--cohort", type=int, required=True, metavar="C")
    funnel.add_argument("--by", default=None, metavar="FIELD", choices=GROUP_FIELDS)
    funnel.add_argument("--as-of", type=_date, default=None, metavar="DATE")
    funnel.add_argument("--out", default=None, metavar="FILE")
    outcomes = exports.add_parser(
        "outcomes", help="the program outcomes the user may see (Is it working?), as CSV"
    )
    outcomes.add_argument("--as", dest="as_email", required=True, metavar="EMAIL")
    outcomes.add_argument("--school-year", type=int, default=None, metavar="Y")
    outcomes.add_argument("--org", default=None, metavar="ID")
    outcomes.add_argument("--as-of", type=_date, default=None, metavar="DATE")
    outcomes.add_argument("--out", default=None, metavar="FILE")
    need = exports.add_parser(
        "coverage",
        help="need and coverage by school the user may see (Where is help missing?), as CSV",
    )
    need.add_argument("--as", dest="as_email", required=True, metavar="EMAIL")
    need.add_argument("--school-year", type=int, default=None, metavar="Y")
    need.add_argument("--as-of", type=_date, default=None, metavar="DATE")
    need.add_argument("--out", default=None, metavar="FILE")
    one = exports.add_parser("student", help="one student's record as the user may see it, as JSON")
    one.add_argument("student_id", metavar="ID")
    one.add_argument("--as", dest="as_email", required=True, metavar="EMAIL")
    one.add_argument("--as-of", type=_date, default=None, metavar="DATE")
    one.add_argument("--out", default=None, metavar="FILE")

    audit = commands.add_parser("audit", help="audit events the user may see")
    audit.add_argument("--as", dest="as_email", required=True, metavar="EMAIL")
    audit.add_argument("--student", default=None, metavar="ID")
    audit.add_argument("--since", type=_date, default=None, metavar="DATE")
    audit.add_argument("--as-of", type=_date, default=None, metavar="DATE")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.command == "db":
            return _db(args)
        if args.command == "demo":
            return _demo(args)
        if args.command == "import":
            return _import(args)
        if args.command == "refresh":
            return _refresh(args)
        if args.command == "users":
            return _users(args)
        if args.command == "audit":
            return _audit(args)
        if args.command == "export":
            return _export(args)
    except KeyboardInterrupt:
        print("interrupted; nothing more was written", file=sys.stderr)
        return EXIT_INVALID
    except Exception as error:
        from data_access.busy import DatabaseBusy

        if not isinstance(error, DatabaseBusy):
            raise
        print(f"pathwise: {error}", file=sys.stderr)
        return EXIT_INVALID
    parser.error(f"unknown command {args.command!r}")
    return EXIT_USAGE


def _db(args: argparse.Namespace) -> int:
    from data_access import schema
    from data_access.engine import get_engine

    engine = get_engine()
    if args.db_command == "grant":
        try:
            for statement in schema.grant_app_role(engine, args.role):
                print(statement)
        except ValueError as error:
            print(f"pathwise db grant: {error}", file=sys.stderr)
            return EXIT_INVALID
        return EXIT_OK
    before = schema.current_revision(engine)
    schema.upgrade(engine)
    after = schema.current_revision(engine)
    where = engine.url.render_as_string(hide_password=True)
    if before == after:
        print(f"schema is up to date (revision {after}) at {where}")
    else:
        print(f"schema upgraded from {before or 'empty'} to {after} at {where}")
    return EXIT_OK


def _demo(args: argparse.Namespace) -> int:
    from data_access.demo_build import DemoRefused, build_demo
    from data_access.engine import get_engine
    from data_access.meta import loaded_counts
    from data_access.policy import needs_confidentiality
    from demo_district.generate import DemoSpec
    from ui.release_text import compose_email

    if args.csv is not None:
        return _demo_csv(args)
    if args.formats is not None:
        return _demo_formats(args)
    engine = get_engine()
    if args.if_empty:
        from data_access import schema

        schema.upgrade(engine)
        if not loaded_counts(engine).empty:
            print("the database already holds data; demo not built", file=sys.stderr)
            return EXIT_OK
    spec = DemoSpec(students=args.students, seed=args.seed, today=args.as_of or date.today())
    print(
        f"Building the DEMO district: about {spec.students:,} current students, seed {spec.seed}, "
        f"as of {spec.today.isoformat()} (school year {spec.current_year - 1}-{spec.current_year % 100:02d})",
        file=sys.stderr,
    )
    try:
        summary = build_demo(
            engine,
            spec,
            replace=args.replace,
            progress=ProgressBar("students"),
            compose=compose_email,
        )
    except DemoRefused as refusal:
        print(f"pathwise demo: {refusal}", file=sys.stderr)
        return EXIT_INVALID
    print(
        f"\nDemo district built in {summary.seconds:.1f}s: "
        + ", ".join(f"{n:,} {name}" for name, n in summary.rows.items())
    )
    if summary.releases is not None:
        made = summary.releases
        print(
            "Release requests: "
            + ", ".join(f"{len(ids)} {state}" for state, ids in made.by_state.items())
            + f", {len(made.paper)} signed on paper; their emails wait, not sent, in "
            "Administration's outbox"
        )
    print("\nDemo users (sign in as any of them on the demo sign-in page):")
    for row in summary.users.iter_rows(named=True):
        status = "" if row["active"] else "  [inactive]"
        if needs_confidentiality(row["role"]) and row["confidentiality_signed_date"] is None:
            status = "  [no confidentiality agreement]"
        print(f"  {row['role']:<16} {row['email']:<44} {row['display_name']}{status}")
    return EXIT_OK


def _demo_csv(args: argparse.Namespace) -> int:
    from demo_district.csv_files import write_district_csv
    from demo_district.generate import DemoSpec

    spec = DemoSpec(students=args.students, seed=args.seed, today=args.as_of or date.today())
    print(
        f"Writing the DEMO district as import files into {args.csv}: about "
        f"{spec.students:,} current students, seed {spec.seed}, as of {spec.today.isoformat()}",
        file=sys.stderr,
    )
    rows = write_district_csv(spec, args.csv, progress=ProgressBar("students"))
    for name, count in rows.items():
        print(f"  {name + '.csv':<22} {count:>12,} rows")
    return EXIT_OK


def _import_mapped(args: argparse.Namespace, target: str, file: Path) -> int:
    """`pathwise import fafsa|services FILE --mapping NAME|PATH.toml` (issue 15)."""
    from data_access import schema
    from data_access.api import mapped_import, saved_mapping
    from data_access.derived import refresh_derived
    from data_access.engine import get_engine
    from data_access.importing import ImportBusy, ImportRefused, ImportRejected
    from domain.mapping import parse_toml

    if not args.mapping:
        print(f"pathwise import {target}: --mapping NAME|PATH.toml is required", file=sys.stderr)
        return EXIT_USAGE
    schema.upgrade(get_engine())
    principal = _operator()
    source = Path(args.mapping)
    try:
        if args.mapping.endswith(".toml"):
            mapping = parse_toml(source.read_text(encoding="utf-8"), default_name=source.stem)
        else:
            found = saved_mapping(principal, args.mapping)
            if found is None:
                print(f"pathwise import: no saved mapping named {args.mapping}", file=sys.stderr)
                return EXIT_USAGE
            mapping = found
        if mapping.target != target:
            print(
                f"pathwise import: mapping {mapping.name} is for {mapping.target}, not {target}",
                file=sys.stderr,
            )
            return EXIT_USAGE
        data = file.read_bytes()
    except (OSError, ValueError) as error:
        print(f"pathwise import: {error}", file=sys.stderr)
        return EXIT_USAGE
    try:
        result = mapped_import(
            principal,
            file.name,
            data,
            mapping,
            dry_run=args.dry_run,
            progress=ProgressBar(None),
            after_import=refresh_derived,
        )
    except (ImportRefused, ImportBusy) as refusal:
        print(f"pathwise import: {refusal}", file=sys.stderr)
        return EXIT_INVALID
    except ImportRejected as rejected:
        for line in rejected.report_lines():
            print(line, file=sys.stderr)
        print(f"pathwise import: {rejected}", file=sys.stderr)
        return EXIT_INVALID
    verb = ("would insert", "would update") if result.dry_run else ("inserted", "updated")
    print(
        f"  {result.file}: {result.source_rows:,} rows read; matched {result.matched:,}, "
        f"ambiguous {result.ambiguous:,}, unmatched {result.unmatched:,} "
        f"({result.queued:,} to the review queue); {target}: {result.inserted:,} {verb[0]}, "
        f"{result.updated:,} {verb[1]}"
    )
    if result.dry_run:
        print("Dry run, nothing written.")
    else:
        print(f"Imported {result.file} (import {result.import_id}, mapping {result.mapping})")
    return EXIT_OK


def _demo_formats(args: argparse.Namespace) -> int:
    from demo_district.formats import write_formats
    from demo_district.generate import DemoSpec

    spec = DemoSpec(students=args.students, seed=args.seed, today=args.as_of or date.today())
    print(
        f"Writing the DEMO district in other systems' formats into {args.formats}: about "
        f"{spec.students:,} current students, seed {spec.seed}, as of {spec.today.isoformat()}",
        file=sys.stderr,
    )
    rows = write_formats(spec, args.formats, progress=ProgressBar("students"))
    for name, count in rows.items():
        print(f"  {name:<32} {count:>12,} rows")
    return EXIT_OK


def _import(args: argparse.Namespace) -> int:
    words = list(args.path)
    if len(words) == 2 and words[0] in ("fafsa", "services"):
        return _import_mapped(args, words[0], Path(words[1]))
    if args.mapping is not None:
        print(
            "pathwise import: --mapping goes with `import fafsa FILE` or `import services FILE`",
            file=sys.stderr,
        )
        return EXIT_USAGE
    from data_access import schema
    from data_access.api import admin_import_path
    from data_access.derived import refresh_derived
    from data_access.engine import get_engine
    from data_access.importing import ImportBusy, ImportRefused, ImportRejected

    schema.upgrade(get_engine())
    nsc = len(words) == 2 and words[0] == "nsc"
    oneroster = len(words) == 2 and words[0] == "oneroster"
    if len(words) != 1 and not nsc and not oneroster:
        print(
            "pathwise import: give one PATH, or `nsc FILE`, `oneroster ZIP`, `fafsa FILE` or "
            "`services FILE`",
            file=sys.stderr,
        )
        return EXIT_USAGE
    try:
        result = admin_import_path(
            _operator(),
            Path(words[-1]),
            nsc=nsc,
            oneroster=oneroster,
            dry_run=args.dry_run,
            progress=ProgressBar(None),
            after_import=refresh_derived,
        )
    except FileNotFoundError as error:
        print(f"pathwise import: {error}", file=sys.stderr)
        return EXIT_USAGE
    except (ImportRefused, ImportBusy) as refusal:
        print(f"pathwise import: {refusal}", file=sys.stderr)
        return EXIT_INVALID
    except ImportRejected as rejected:
        for line in rejected.report_lines():
            print(line, file=sys.stderr)
        print(f"pathwise import: {rejected}", file=sys.stderr)
        return EXIT_INVALID
    verb = ("would insert", "would update") if result.dry_run else ("inserted", "updated")
    for file in result.files:
        print(
            f"  {file.name:<24} {file.rows:>12,} rows  {file.inserted:>12,} {verb[0]}  "
            f"{file.updated:>12,} {verb[1]}"
        )
    if result.dry_run:
        print(
            f"Dry run, nothing written: {len(result.files)} files would insert "
            f"{result.inserted:,} and update {result.updated:,} rows ({result.seconds:.1f}s)"
        )
    else:
        print(
            f"Imported {len(result.files)} files in {result.seconds:.1f}s: "
            f"{result.inserted:,} rows inserted, {result.updated:,} updated "
            f"(import {result.import_id}, by {result.imported_by})"
        )
    return EXIT_OK


def _refresh(args: argparse.Namespace) -> int:
    from data_access import schema
    from data_access.derived import refresh_derived
    from data_access.engine import get_engine
    from data_access.importing.lock import import_lock
    from data_access.meta import loaded_counts

    engine = get_engine()
    schema.upgrade(engine)
    if loaded_counts(engine).empty:
        print(
            "pathwise refresh: the database holds no data yet; nothing to compute", file=sys.stderr
        )
        return EXIT_INVALID

    def waiting(holder: str) -> None:
        print(
            f"pathwise refresh: the database is taken ({holder}); waiting for it to finish",
            file=sys.stderr,
        )

    # The import lock: a refresh that read the tables before an import committed must not
    # write after that import's own refresh (data_access/importing/lock.py).
    with import_lock(engine, _os_user(), work="refresh", wait=waiting):
        summary = refresh_derived(
            engine,
            as_of=args.as_of,
            progress=ProgressBar(None),
            recompute_outcomes=args.recompute_outcomes,
        )
    print(
        f"\nIndicators and pipeline recomputed as of {summary.as_of.isoformat()} "
        f"(school year {summary.school_year - 1}-{summary.school_year % 100:02d}): "
        f"{summary.students:,} students enrolled, {summary.cells:,} pipeline cells, "
        f"{summary.seconds:.1f}s"
    )
    print(outcomes_line(summary.outcome_measures, summary.outcome_years, summary.outcome_elsewhere))
    return EXIT_OK


def outcomes_line(
    measures: frozenset[str],
    years: frozenset[int] | None = None,
    elsewhere: frozenset[str] = frozenset(),
) -> str:
    """What the refresh did with program outcomes, in one line (`years`: the school years
    computed again, None for every year; `elsewhere`: the measures computed again in the
    other school years)."""
    from data_access.derived import years_named
    from indicators.outcomes_incremental import EVERY_MEASURE

    if not measures or years == frozenset():
        return (
            "Program outcomes: kept (nothing they read changed since they were computed; "
            "--recompute-outcomes computes them anyway)."
        )
    if years is not None and elsewhere:
        return (
            f"Program outcomes: computed again for {years_named(years)}, and "
            f"{', '.join(sorted(elsewhere))} for the other school years; the rest kept."
        )
    if years is not None:
        return (
            f"Program outcomes: computed again for {years_named(years)}; "
            "the other school years kept."
        )
    if measures == EVERY_MEASURE:
        return "Program outcomes: computed again."
    return f"Program outcomes: computed again for {', '.join(sorted(measures))}; the others kept."


def _users(args: argparse.Namespace) -> int:
    from data_access import schema
    from data_access.administration import save_user_as
    from data_access.engine import get_engine
    from data_access.users import InvalidUser, UserRequest, list_users

    engine = get_engine()
    schema.upgrade(engine)
    if args.users_command == "list":
        for user in list_users(engine):
            flags = "" if user.active else " [inactive]"
            print(f"{user.role:<16} {user.email:<44} {user.display_name}{flags}")
        return EXIT_OK
    request = UserRequest(
        email=args.email,
        role=args.role,
        display_name=args.name,
        org_id=args.org,
        school_id=args.school,
        student_id=args.student,
        confidentiality_signed_date=args.confidentiality_signed,
        active=not args.inactive,
    )
    try:
        created = save_user_as(engine, _operator(), request)
    except InvalidUser as error:
        for problem in str(error).split("; "):
            print(f"pathwise users add: {problem}", file=sys.stderr)
        return EXIT_INVALID
    email = request.email.strip().lower()
    print(f"{'added' if created else 'updated'} {email} ({request.role})")
    return EXIT_OK


def _os_user() -> str:
    """The operating-system account running this command, from the password database
    (the environment's USER is whatever the caller set), for the audit log."""
    try:
        import pwd

        return pwd.getpwuid(os.getuid()).pw_name
    except (ImportError, KeyError):
        try:
            return getpass.getuser()
        except OSError:
            return "unknown"


def _operator():  # type: ignore[no-untyped-def]
    """The principal of the operator commands (`users add`, `import`), which take no
    `--as`: the district's operator (`policy.operator`), recorded in the audit log with the
    operating-system user who ran the command, as the Administration page's changes are
    with the admin who made them."""
    from data_access.policy import operator

    return operator(date.today(), _os_user())


def _principal(email: str, as_of: date | None):  # type: ignore[no-untyped-def]
    """Sign in for a command; on refusal print the reason and return None.

    The principal carries the operating-system user who runs the command, and `as_of`
    as its "today": every audit event it causes records both (issue 10, item 5)."""
    from data_access.engine import get_engine
    from data_access.identity import sign_in
    from data_access.policy import AccessDenied

    try:
        return sign_in(get_engine(), email, as_of or date.today(), os_user=_os_user())
    except AccessDenied as denied:
        print(f"pathwise: {denied.reason}", file=sys.stderr)
        return None


def _audit(args: argparse.Namespace) -> int:
    import csv

    from data_access.disclosures import audit_events
    from data_access.engine import get_engine
    from data_access.policy import AccessDenied
    from exports.formats import neutralise

    principal = _principal(args.as_email, args.as_of)
    if principal is None:
        return EXIT_FORBIDDEN
    try:
        events = audit_events(get_engine(), principal, student_id=args.student, since=args.since)
    except AccessDenied as denied:
        print(f"pathwise audit: {denied.reason}", file=sys.stderr)
        return EXIT_FORBIDDEN
    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(events.columns)
    for row in events.iter_rows():
        writer.writerow(["" if v is None else neutralise(str(v)) for v in row])
    return EXIT_OK


def _write(text: str, out: str | None) -> None:
    if out:
        with open(out, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
    else:
        sys.stdout.write(text)


def _export(args: argparse.Namespace) -> int:
    from data_access import api
    from exports.formats import REDISCLOSURE_NOTICE, to_csv, to_json

    principal = _principal(args.as_email, args.as_of)
    if principal is None:
        return EXIT_FORBIDDEN
    notice = REDISCLOSURE_NOTICE if principal.partner else None
    try:
        if args.export_command == "flags":
            text = to_csv(
                api.export_flags(principal, school_year=args.school_year, as_of=args.as_of)
            )
        elif args.export_command == "pipeline":
            text = to_csv(api.export_pipeline(principal, args.cohort, args.by))
        elif args.export_command == "outcomes":
            text = api.export_outcomes(principal, school_year=args.school_year, org_id=args.org)
        elif args.export_command == "coverage":
            text = api.export_coverage(principal, school_year=args.school_year, as_of=args.as_of)
        else:
            text = to_json(api.export_student(principal, args.student_id), notice=notice)
    except api.AccessDenied as denied:
        print(f"pathwise export: {denied.reason}", file=sys.stderr)
        return EXIT_FORBIDDEN
    if notice and args.export_command not in ("pipeline", "outcomes", "coverage"):
        print(notice, file=sys.stderr)
    _write(text, args.out)
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
