"""`pathwise demo --formats DIR` writes a OneRoster 1.2 bulk package whose import into an
empty database gives the schools, current students (with their demographics) and this
year's enrollments of the native files (both databases); `pathwise import oneroster ZIP`
reads it from the command line, and a second bulk package ends the enrollments it drops."""

from __future__ import annotations

import io
import zipfile
from datetime import date
from pathlib import Path

import polars as pl
import pytest
from sqlalchemy import Engine

from cli.main import EXIT_OK, main
from data_access import schema
from data_access.bulk import read_table
from data_access.engine import get_engine, make_engine
from data_access.importing import import_files, import_path
from data_access.meta import loaded_counts
from data_access.models import Enrollment, School, Student, table_of
from demo_district.formats_oneroster import ONEROSTER_FILE
from domain.school_year import school_year_of

TODAY = date(2026, 11, 22)
ARGS = ["--students", "300", "--seed", "2026", "--as-of", TODAY.isoformat()]
#: The student columns OneRoster carries (English learner, disability and economic
#: disadvantage are not in the binding).
CARRIED = [
    "student_id",
    "first_name",
    "last_name",
    "school_id",
    "grade_level",
    "cohort_year",
    "birth_date",
    "gender",
    "race_ethnicity",
]
ENROLLMENT = ["student_id", "school_year", "school_id", "grade_level", "entry_date", "exit_date"]


def _native(tmp_path: Path) -> tuple[Path, Path]:
    native, formats = tmp_path / "native", tmp_path / "formats"
    assert main(["demo", "--csv", str(native), *ARGS]) == EXIT_OK
    assert main(["demo", "--formats", str(formats), *ARGS]) == EXIT_OK
    return native, formats


def test_the_demo_package_imports_into_the_roster_of_the_native_files(
    engine: Engine, tmp_path: Path
) -> None:
    native, formats = _native(tmp_path)
    expected_engine = make_engine(f"sqlite:///{tmp_path / 'native.db'}")
    schema.upgrade(expected_engine)
    import_path(expected_engine, native)
    year = school_year_of(TODAY)
    enrollments = read_table(expected_engine, table_of(Enrollment))
    current = enrollments.filter(pl.col("school_year") == year).select(ENROLLMENT)
    students = read_table(expected_engine, table_of(Student)).join(
        current.select("student_id").unique(), on="student_id"
    )
    schools = read_table(expected_engine, table_of(School))
    expected_engine.dispose()
    assert students.filter(pl.col("race_ethnicity") == "two_or_more").height > 0
    assert current.filter(pl.col("exit_date").is_not_null()).height > 0

    result = import_files(
        engine, {ONEROSTER_FILE: (formats / ONEROSTER_FILE).read_bytes()}, today=TODAY
    )
    assert result.inserted == schools.height + students.height + current.height
    assert read_table(engine, table_of(School)).sort("school_id").equals(schools.sort("school_id"))
    got = read_table(engine, table_of(Student)).sort("student_id")
    assert got.select(CARRIED).equals(students.select(CARRIED).sort("student_id"))
    assert (
        got.select("english_learner", "disability", "econ_disadvantaged").null_count().row(0)
        == (got.height,) * 3
    )
    assert (
        read_table(engine, table_of(Enrollment))
        .select(ENROLLMENT)
        .sort(ENROLLMENT[:3])
        .equals(current.sort(ENROLLMENT[:3]))
    )


def _without_student(data: bytes, student_id: str) -> bytes:
    """The package with one student's enrollments left out of enrollments.csv."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for name in source.namelist():
            content = source.read(name)
            if name == "enrollments.csv":
                users = pl.read_csv(source.read("users.csv"), infer_schema=False)
                user = users.filter(pl.col("identifier") == student_id)["sourcedId"][0]
                lines = content.decode().splitlines(keepends=True)
                content = "".join(line for line in lines if user not in line).encode()
            target.writestr(name, content)
    return out.getvalue()


def test_a_bulk_package_ends_the_enrollments_it_no_longer_has_and_deletes_nothing(
    engine: Engine, tmp_path: Path
) -> None:
    _, formats = _native(tmp_path)
    data = (formats / ONEROSTER_FILE).read_bytes()
    import_files(engine, {ONEROSTER_FILE: data}, today=TODAY)
    before = read_table(engine, table_of(Enrollment))
    leaver = before.filter(pl.col("exit_date").is_null())["student_id"].sort()[0]
    later = date(2026, 12, 1)
    result = import_files(engine, {ONEROSTER_FILE: _without_student(data, leaver)}, today=later)
    after = read_table(engine, table_of(Enrollment))
    assert after.height == before.height
    assert read_table(engine, table_of(Student)).height == before["student_id"].n_unique()
    left = after.filter(pl.col("student_id") == leaver)
    assert left["exit_date"].to_list() == [later]
    changed = after.join(before, on=ENROLLMENT, how="anti", nulls_equal=True)
    assert changed["student_id"].to_list() == [leaver]
    assert result.inserted == 0  # every row it writes was there: counted as updated


def test_the_command_line_imports_a_package_with_a_dry_run_first(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _, formats = _native(tmp_path)
    monkeypatch.setenv("PATHWISE_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    zip_path = formats / ONEROSTER_FILE
    capsys.readouterr()
    assert main(["import", "oneroster", str(zip_path), "--dry-run"]) == EXIT_OK
    out = capsys.readouterr().out
    assert "Dry run, nothing written" in out and "(students)" in out
    assert loaded_counts(get_engine()).students == 0
    assert main(["import", "oneroster", str(zip_path)]) == EXIT_OK
    assert loaded_counts(get_engine()).students > 0
