"""`pathwise export outcomes`, exactly as issue 13's "Command line" section and
docs/command-line.md say."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from cli.main import EXIT_FORBIDDEN, EXIT_OK, main
from data_access import schema
from data_access.engine import make_engine
from exports.outcomes_csv import OUTCOMES_HEADER
from tests.outcome_rows import estimate, estimates, small_world_outcomes, store_outcomes
from tests.worlds import TODAY, YEAR, build_small_world

AS_OF = ["--as-of", TODAY.isoformat()]


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path / 'outcomes.db'}"
    engine = make_engine(url)
    schema.upgrade(engine)
    build_small_world(engine)
    outcomes = small_world_outcomes(YEAR)
    extra = estimates(
        [
            estimate("ORGA", "mentoring", "graduated", year=YEAR, served=9, verdict="too_few"),
            estimate("ORGB", "college_access", "fafsa_completed", year=YEAR - 1, served=44,
                     matched=40, comparison=90, effect=-0.004, verdict="no_difference",
                     served_after=61.25, comparison_after=61.254, naive_effect=-7.0),
        ]
    )  # fmt: skip
    store_outcomes(
        engine,
        type(outcomes)(
            estimates=outcomes.estimates.vstack(extra),
            balance=outcomes.balance,
            trajectory=outcomes.trajectory,
            served_students=outcomes.served_students,
        ),
    )
    engine.dispose()
    monkeypatch.setenv("PATHWISE_DATABASE_URL", url)
    return url


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def rows_of(out: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(out)))


def test_the_header_sorting_and_number_formats_are_exact(
    database: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "export", "outcomes", "--as", "leader@d.org", *AS_OF)
    assert code == EXIT_OK
    assert out.splitlines()[0] == OUTCOMES_HEADER
    rows = rows_of(out)
    keys = [(r["org_id"], r["service_type"], r["measure"]) for r in rows]
    assert keys == sorted(keys) and len(keys) == 5  # `all` rows only
    absence = next(r for r in rows if r["measure"] == "absence_rate")
    assert (absence["served"], absence["matched"]) == ("40", "38")
    assert (absence["served_before"], absence["served_after"]) == ("14.00", "10.00")
    assert (absence["effect"], absence["ci_low"], absence["ci_high"]) == ("-2.80", "-4.10", "-1.50")
    assert absence["effect_size"] == "-0.310" and absence["naive_effect"] == "3.10"
    assert (absence["balance"], absence["verdict"]) == ("ok", "better")
    fails = next(r for r in rows if r["measure"] == "core_fails")
    assert fails["served_before"] == "14.000" and fails["effect"] == "-0.42"
    fafsa = next(r for r in rows if r["org_id"] == "ORGC")
    assert fafsa["served_before"] == "" and fafsa["comparison_before"] == ""
    assert fafsa["served_after"] == "10.0"


def test_an_effect_that_rounds_to_zero_is_written_without_a_minus(
    database: str, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = rows_of(run(capsys, "export", "outcomes", "--as", "admin@d.org", *AS_OF)[1])
    orgb = next(r for r in rows if r["org_id"] == "ORGB")
    assert orgb["effect"] == "0.00" and orgb["school_year"] == str(YEAR - 1)
    assert orgb["naive_effect"] == "-7.00"  # a number, not a neutralised text cell


def test_no_estimate_leaves_the_effect_cells_empty(
    database: str, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = rows_of(run(capsys, "export", "outcomes", "--as", "leader@d.org", *AS_OF)[1])
    graduated = next(r for r in rows if r["measure"] == "graduated")
    assert graduated["verdict"] == "too_few" and graduated["balance"] == ""
    assert graduated["effect"] == graduated["ci_low"] == graduated["ci_high"] == ""


def test_protected_viewers_get_small_counts_as_less_than_ten_and_no_figures_beside_them(
    database: str, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = rows_of(run(capsys, "export", "outcomes", "--as", "viewer@city.org", *AS_OF)[1])
    graduated = next(r for r in rows if r["measure"] == "graduated")
    assert (graduated["served"], graduated["matched"]) == ("<10", "<10")
    assert graduated["served_after"] == "" and graduated["naive_effect"] == ""
    absence = next(r for r in rows if r["measure"] == "absence_rate")
    assert (absence["served"], absence["matched"]) == ("40", "*")  # 38 is within 10 of 40
    assert absence["effect"] == "-2.80"


def test_a_partner_exports_its_own_programs_and_filters_by_year(
    database: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "export", "outcomes", "--as", "a@orga.org", *AS_OF)
    assert code == EXIT_OK and {r["org_id"] for r in rows_of(out)} == {"ORGA"}
    code, out, _ = run(
        capsys, "export", "outcomes", "--as", "admin@d.org", "--school-year", str(YEAR - 1), *AS_OF
    )
    assert {r["org_id"] for r in rows_of(out)} == {"ORGB"}
    code, out, _ = run(capsys, "export", "outcomes", "--as", "admin@d.org", "--org", "ORGC", *AS_OF)
    assert {r["org_id"] for r in rows_of(out)} == {"ORGC"}


def test_the_csv_can_be_written_to_a_file(
    database: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    target = tmp_path / "outcomes.csv"
    code, out, _ = run(
        capsys, "export", "outcomes", "--as", "leader@d.org", "--out", str(target), *AS_OF
    )
    assert code == EXIT_OK and out == ""
    assert target.read_text().splitlines()[0] == OUTCOMES_HEADER


@pytest.mark.parametrize(
    ("email", "extra"),
    [
        ("counselor@d.org", []),
        ("teacher@d.org", []),
        ("mom@family.org", []),
        ("eli@student.org", []),
        ("a@orga.org", ["--org", "ORGC"]),
    ],
)
def test_a_role_without_the_right_exits_with_three_and_the_refusal_is_audited(
    database: str, capsys: pytest.CaptureFixture[str], email: str, extra: list[str]
) -> None:
    code, out, err = run(capsys, "export", "outcomes", "--as", email, *extra, *AS_OF)
    assert code == EXIT_FORBIDDEN and out == "" and "pathwise export:" in err
    _, log, _ = run(capsys, "audit", "--as", "admin@d.org", *AS_OF)
    refusals = [r for r in rows_of(log) if r["outcome"] == "denied"]
    assert [(r["user_email"], r["action"]) for r in refusals] == [(email, "outcomes.export")]


def test_an_export_is_audited_with_the_date_whose_rules_applied(
    database: str, capsys: pytest.CaptureFixture[str]
) -> None:
    run(capsys, "export", "outcomes", "--as", "viewer@city.org", "--school-year", str(YEAR), *AS_OF)
    _, log, _ = run(capsys, "audit", "--as", "admin@d.org", *AS_OF)
    exports = [r for r in rows_of(log) if r["action"] == "outcomes.export"]
    assert len(exports) == 1 and exports[0]["user_email"] == "viewer@city.org"
    assert exports[0]["via"] == "cli" and exports[0]["rules_as_of"] == TODAY.isoformat()
    assert json.loads(exports[0]["detail"]) == {"exact": False, "org_id": None, "school_year": YEAR}
