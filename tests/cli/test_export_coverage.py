"""`pathwise export coverage`, exactly as issue 14's "Command line (exact contract)" and
docs/command-line.md say."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from sqlalchemy import insert, select

from cli.main import EXIT_FORBIDDEN, EXIT_OK, main
from data_access import schema
from data_access.audit import AUDIT_EVENT
from data_access.derived import refresh_derived
from data_access.engine import make_engine
from data_access.models import Capacity, table_of
from domain.vocabulary import FLAGS
from exports.coverage_csv import COVERAGE_HEADER
from tests.worlds import TODAY, YEAR, YESTERDAY, build_small_world

AS_OF = ["--as-of", TODAY.isoformat()]


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path / 'coverage.db'}"
    engine = make_engine(url)
    schema.upgrade(engine)
    build_small_world(engine)
    with engine.begin() as connection:
        connection.execute(
            insert(table_of(Capacity)),
            [{"org_id": "ORGA", "school_id": "HS1", "service_type": "mentoring",
              "school_year": YEAR, "slots": 25, "accepting_referrals": True},
             {"org_id": "ORGC", "school_id": "", "service_type": "college_access",
              "school_year": YEAR, "slots": 40, "accepting_referrals": True}],
        )  # fmt: skip
    refresh_derived(engine, as_of=TODAY)
    engine.dispose()
    monkeypatch.setenv("PATHWISE_DATABASE_URL", url)
    return url


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def rows_of(out: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(out)))


def test_a_leader_gets_the_contracts_header_sorted_rows_and_exact_counts(
    database: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "export", "coverage", "--as", "leader@d.org", *AS_OF)
    assert code == EXIT_OK
    assert out.splitlines()[0] == COVERAGE_HEADER
    rows = rows_of(out)
    assert [(r["school_id"], r["need"]) for r in rows] == [
        (school, need) for school in ("HS1", "HS2") for need in FLAGS
    ]
    absence = rows[0]  # HS1: Ana (mentored by ORGA) and Caro (nobody) chronically absent
    assert (absence["flagged"], absence["served_addressing"], absence["unserved"]) == (
        "2",
        "1",
        "1",
    )
    # ORGA's mentoring at HS1: 25 slots less Ana = 24 (mentoring addresses every need).
    # ORGC's college access at any school (FAFSA only): 40 less the students it serves at
    # schools without a row of its own, Ana at HS1 and Eli at HS2 = 38.
    assert absence["open_slots"] == "24"
    assert rows[3]["need"] == "fafsa_not_completed" and rows[3]["open_slots"] == str(24 + 38)
    assert rows[7]["need"] == "fafsa_not_completed" and rows[7]["open_slots"] == "38"  # HS2


def test_a_work_group_member_gets_less_than_ten_and_protected_open_slots(
    database: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "export", "coverage", "--as", "viewer@city.org", *AS_OF)
    assert code == EXIT_OK
    rows = rows_of(out)
    counts = COVERAGE_HEADER.split(",")[2:-1]
    assert {r[c] for r in rows for c in counts} <= {"<10", "*"}  # the small world is small
    slots = {(r["school_id"], r["need"]): r["open_slots"] for r in rows}
    # Open slots would tell how many students a partner serves: every sum of another
    # organisation's capacity is `*`; HS2 has no capacity but ORGC's, which addresses the
    # FAFSA only, so its chronic absence has none to hide.
    assert slots[("HS1", "chronic_absence")] == slots[("HS2", "fafsa_not_completed")] == "*"
    assert slots[("HS2", "chronic_absence")] == "0"


def test_partner_staff_get_their_own_open_slots_and_a_star_where_another_partners_count(
    database: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "export", "coverage", "--as", "a@orga.org", *AS_OF)
    assert code == EXIT_OK
    slots = {(r["school_id"], r["need"]): r["open_slots"] for r in rows_of(out)}
    # HS1's chronic absence: only ORGA's own 25 mentoring slots, less Ana, mentored by
    # ORGA under a release naming it. Its FAFSA adds ORGC's any-school capacity: `*`.
    assert slots[("HS1", "chronic_absence")] == "24"
    assert slots[("HS1", "fafsa_not_completed")] == "*"
    assert slots[("HS2", "chronic_absence")] == "0"


@pytest.mark.parametrize("email", ["teacher@d.org", "mom@family.org", "eli@student.org"])
def test_a_role_without_aggregate_rights_exits_three_and_is_recorded(
    database: str, capsys: pytest.CaptureFixture[str], email: str
) -> None:
    code, out, err = run(capsys, "export", "coverage", "--as", email, *AS_OF)
    assert code == EXIT_FORBIDDEN and out == ""
    assert "need and coverage" in err
    engine = make_engine(database)
    with engine.connect() as connection:
        denied = connection.execute(
            select(AUDIT_EVENT.c.user_email).where(
                AUDIT_EVENT.c.action == "coverage.export", AUDIT_EVENT.c.outcome == "denied"
            )
        ).scalars()
        assert email in list(denied)
    engine.dispose()


def test_the_export_is_audited_with_its_date_year_and_exactness(
    database: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    out_file = tmp_path / "coverage.csv"
    code, out, _ = run(
        capsys, "export", "coverage", "--as", "a@orga.org", *AS_OF, "--out", str(out_file)
    )
    assert code == EXIT_OK and out == ""
    assert out_file.read_text(encoding="utf-8").splitlines()[0] == COVERAGE_HEADER
    engine = make_engine(database)
    with engine.connect() as connection:
        detail = connection.execute(
            select(AUDIT_EVENT.c.detail).where(
                AUDIT_EVENT.c.action == "coverage.export", AUDIT_EVENT.c.outcome == "allowed"
            )
        ).scalar_one()
    engine.dispose()
    recorded = json.loads(detail) if isinstance(detail, str) else detail
    assert recorded == {"school_year": YEAR, "as_of": TODAY.isoformat(), "exact": False,
                        "computed_live": False}  # fmt: skip


def test_another_date_is_computed_from_the_raw_tables_and_recorded_so(
    database: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(
        capsys, "export", "coverage", "--as", "leader@d.org", "--as-of", YESTERDAY.isoformat()
    )
    assert code == EXIT_OK
    absence = rows_of(out)[0]
    assert (absence["school_id"], absence["need"]) == ("HS1", "chronic_absence")
    assert (absence["flagged"], absence["served_addressing"], absence["unserved"]) == (
        "2",
        "1",
        "1",
    )
    engine = make_engine(database)
    with engine.connect() as connection:
        detail = connection.execute(
            select(AUDIT_EVENT.c.detail).where(AUDIT_EVENT.c.action == "coverage.export")
        ).scalar_one()
    engine.dispose()
    recorded = json.loads(detail) if isinstance(detail, str) else detail
    assert recorded["computed_live"] is True and recorded["as_of"] == YESTERDAY.isoformat()
