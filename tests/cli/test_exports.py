"""`pathwise export flags|pipeline|student` and `pathwise audit`, exactly as docs/command-line.md says."""

from __future__ import annotations

import csv
import io
import json
import os
import pwd
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import update

from cli.main import EXIT_FORBIDDEN, EXIT_OK, main
from data_access import schema
from data_access.derived import refresh_derived
from data_access.engine import make_engine
from data_access.models import Student, table_of
from exports.formats import FLAGS_HEADER, REDISCLOSURE_NOTICE
from tests.worlds import TODAY, build_small_world

AS_OF = ["--as-of", TODAY.isoformat()]


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path / 'exports.db'}"
    engine = make_engine(url)
    schema.upgrade(engine)
    build_small_world(engine)
    with engine.begin() as connection:
        student = table_of(Student)
        connection.execute(
            update(student)
            .where(student.c.student_id == "S2")
            .values(first_name='=HYPERLINK("http://x")')
        )
    refresh_derived(engine, as_of=TODAY)
    engine.dispose()
    monkeypatch.setenv("PATHWISE_DATABASE_URL", url)
    return url


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_flags_has_the_exact_header_order_and_formats(
    database: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "export", "flags", "--as", "counselor@d.org", *AS_OF)
    assert code == EXIT_OK
    lines = out.splitlines()
    assert lines[0] == ",".join(FLAGS_HEADER)
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [r["student_id"] for r in rows] == ["S1", "S2", "S3"]
    ana = rows[0]
    assert (
        ana["absence_rate"] == "0.1500"
        and ana["chronic_absence"] == "Y"
        and ana["attendance_band"] == "moderate_chronic"
    )
    assert (
        ana["fafsa_status"] == "" and ana["fafsa_not_completed"] == ""
    )  # not a senior: blank, not N
    assert ana["tier"] in {"2", "3"}


def test_flags_neutralises_spreadsheet_formulas(
    database: str, capsys: pytest.CaptureFixture[str]
) -> None:
    _, out, _ = run(capsys, "export", "flags", "--as", "counselor@d.org", *AS_OF)
    assert "'=HYPERLINK" in out
    assert ",=HYPERLINK" not in out


def test_a_partner_export_carries_the_redisclosure_notice(
    database: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "export", "flags", "--as", "a@orga.org", *AS_OF)
    assert code == EXIT_OK and REDISCLOSURE_NOTICE in err
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [r["student_id"] for r in rows] == ["S1", "S3"]
    assert all(r["core_fails"] == "" for r in rows)
    code, out, err = run(capsys, "export", "student", "S1", "--as", "a@orga.org", *AS_OF)
    document = json.loads(out)
    assert document["notice"] == REDISCLOSURE_NOTICE
    assert "marks" not in document and "attendance" in document


def test_pipeline_is_exact_for_leaders_and_protected_for_others(
    database: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(
        capsys, "export", "pipeline", "--as", "leader@d.org", "--cohort", "2027", *AS_OF
    )
    assert code == EXIT_OK
    assert out.splitlines()[0] == "cohort,group_by,group,stage,count,share"
    first = out.splitlines()[1].split(",")
    assert first[:4] == ["2027", "all", "all", "entered_grade_9"] and first[4].isdigit()
    _, out, _ = run(
        capsys,
        "export",
        "pipeline",
        "--as",
        "counselor@d.org",
        "--cohort",
        "2027",
        "--by",
        "school_id",
        *AS_OF,
    )
    for row in csv.DictReader(io.StringIO(out)):
        assert row["count"] in {"<10", "*", "not_yet"} or int(row["count"]) >= 10
        if not row["count"].isdigit():
            assert row["share"] == ""


def test_users_without_the_right_exit_with_three(
    database: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(capsys, "export", "flags", "--as", "viewer@city.org", *AS_OF)[0] == EXIT_FORBIDDEN
    assert run(capsys, "export", "flags", "--as", "nobody@x.org", *AS_OF)[0] == EXIT_FORBIDDEN
    assert run(capsys, "export", "flags", "--as", "new@orga.org", *AS_OF)[0] == EXIT_FORBIDDEN
    assert (
        run(capsys, "export", "pipeline", "--as", "teacher@d.org", "--cohort", "2027", *AS_OF)[0]
        == EXIT_FORBIDDEN
    )
    assert run(capsys, "export", "student", "S5", "--as", "a@orga.org", *AS_OF)[0] == EXIT_FORBIDDEN
    assert run(capsys, "audit", "--as", "counselor@d.org", *AS_OF)[0] == EXIT_FORBIDDEN


@pytest.mark.parametrize(
    ("command", "email", "action"),
    [
        (["export", "flags"], "viewer@city.org", "flags.export"),
        (["audit"], "counselor@d.org", "audit.read"),
        (["audit"], "viewer@city.org", "audit.read"),
        (["audit", "--student", "S5"], "mom@family.org", "disclosures.read"),
    ],
)
def test_a_refused_command_is_recorded_in_the_audit_log(
    database: str, capsys: pytest.CaptureFixture[str], command: list[str], email: str, action: str
) -> None:
    assert run(capsys, *command, "--as", email, *AS_OF)[0] == EXIT_FORBIDDEN
    code, out, _ = run(capsys, "audit", "--as", "admin@d.org", *AS_OF)
    assert code == EXIT_OK
    refusals = [r for r in csv.DictReader(io.StringIO(out)) if r["outcome"] == "denied"]
    assert [(r["user_email"], r["action"]) for r in refusals] == [(email, action)]
    assert json.loads(refusals[0]["detail"])["reason"] in {"forbidden", "out_of_scope"}


def test_exports_are_audited_and_families_see_the_partners_reads(
    database: str, capsys: pytest.CaptureFixture[str]
) -> None:
    run(capsys, "export", "student", "S1", "--as", "a@orga.org", *AS_OF)
    code, out, _ = run(capsys, "audit", "--as", "admin@d.org", "--student", "S1", *AS_OF)
    assert code == EXIT_OK and "student.export" in out
    code, out, _ = run(capsys, "audit", "--as", "mom@family.org", *AS_OF)
    assert code == EXIT_OK
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [r["org_id"] for r in rows] == ["ORGA"] and rows[0]["action"] == "student.export"


def test_an_export_under_another_dates_rules_is_shown_to_the_family_as_the_operators(
    database: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(
        capsys, "export", "student", "S1", "--as", "a@orga.org", "--as-of", "2026-11-20"
    )
    assert code == EXIT_OK and json.loads(out)["student"]["student_id"] == "S1"  # --as-of works
    code, out, _ = run(
        capsys, "audit", "--as", "mom@family.org", "--as-of", date.today().isoformat()
    )
    assert code == EXIT_OK
    (row,) = csv.DictReader(io.StringIO(out))
    operator = pwd.getpwuid(os.getuid()).pw_name
    assert (row["rules_as_of"], row["via"], row["os_user"]) == ("2026-11-20", "cli", operator)
    assert f"the district's operator (operating-system user {operator})" in row["how"]
    assert "on behalf of a@orga.org, under the rules as of 2026-11-20" in row["how"]


def test_flags_for_another_date_are_recomputed_from_the_raw_data(
    database: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(
        capsys, "export", "flags", "--as", "counselor@d.org", "--as-of", "2026-10-01"
    )
    assert code == EXIT_OK
    rows = list(csv.DictReader(io.StringIO(out)))
    # No attendance snapshot on or before October 1: nothing to judge yet.
    assert [r["student_id"] for r in rows] == ["S1", "S2", "S3"]
    assert all(r["absence_rate"] == "" for r in rows)
