"""`pathwise demo --formats DIR` writes a Clearinghouse detail report whose import gives the
college outcomes of the native `outcomes.csv` (both databases)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl
from sqlalchemy import Engine

from cli.main import EXIT_OK, main
from data_access import schema
from data_access.bulk import read_table
from data_access.engine import make_engine
from data_access.importing import import_files, import_path
from data_access.models import NscSearch, Outcome, PostsecondaryEnrollment, table_of
from demo_district.formats import NSC_FILE

TODAY = date(2026, 11, 22)
ARGS = ["--students", "300", "--seed", "2026", "--as-of", TODAY.isoformat()]
COLLEGE = [
    "postsecondary_enrolled",
    "postsecondary_start_date",
    "institution_level",
    "persisted_second_year",
]


def test_the_demo_report_imports_into_the_outcomes_of_the_native_files(
    engine: Engine, tmp_path: Path
) -> None:
    native, formats = tmp_path / "native", tmp_path / "formats"
    assert main(["demo", "--csv", str(native), *ARGS]) == EXIT_OK
    assert main(["demo", "--formats", str(formats), *ARGS]) == EXIT_OK
    report = (formats / NSC_FILE).read_bytes()
    header, *lines = report.decode().splitlines()
    per_student = pl.Series([line.split(",")[0] for line in lines]).value_counts()
    assert per_student.filter(pl.col("count") > 10).height == 0
    assert any(",N," in line for line in lines)  # some graduates searched and not found

    expected_engine = make_engine(f"sqlite:///{tmp_path / 'native.db'}")
    schema.upgrade(expected_engine)
    import_path(expected_engine, native)
    expected = read_table(expected_engine, table_of(Outcome)).sort("student_id")
    expected_engine.dispose()

    # The same district, its outcomes file without the college columns, then the report.
    files = {p.name: p.read_bytes() for p in native.iterdir()}
    outcomes = pl.read_csv(native / "outcomes.csv", infer_schema=False)
    files["outcomes.csv"] = (
        outcomes.with_columns(pl.lit(None, dtype=pl.String).alias(c) for c in COLLEGE)
        .write_csv()
        .encode()
    )
    import_files(engine, files)
    import_files(engine, {NSC_FILE: report}, today=TODAY)
    imported = read_table(engine, table_of(Outcome)).sort("student_id")
    assert imported.equals(expected)
    assert read_table(engine, table_of(PostsecondaryEnrollment)).height == sum(
        ",Y," in line for line in lines
    )
    searched = read_table(engine, table_of(NscSearch))
    assert searched.height == expected.filter(pl.col("postsecondary_enrolled").is_not_null()).height
