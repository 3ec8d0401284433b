"""The demo's state FAFSA file and partners' service exports load back into the demo's own
`fafsa` and `services` rows (issue 15, "For every format"), on both databases; the rows
the writer made ambiguous (misspelt names, unknown siblings) land in the review queue and
never in the table."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl
from sqlalchemy import Engine

from data_access.bulk import read_table
from data_access.importing import import_path
from data_access.mapped_import import REVIEW_TABLE, import_mapped
from data_access.models import Fafsa, Service, table_of
from data_access.policy import operator
from demo_district.csv_files import write_district_csv
from demo_district.formats_fafsa import altered_lines, state_rows, write_state_fafsa
from demo_district.formats_services import (
    delivery_rows,
    write_apricot_services,
    write_pmm_services,
)
from demo_district.generate import DemoSpec
from domain.mapping import parse_toml
from indicators.record_matching import normalised

SPEC = DemoSpec(students=240, seed=7, today=date(2026, 11, 22))
STEWARD = operator(date(2026, 11, 22), "tester")


def _native_district_without(engine: Engine, tmp_path: Path, *left_out: str) -> None:
    files = tmp_path / "native"
    write_district_csv(SPEC, files)
    for name in left_out:
        (files / f"{name}.csv").unlink()
    import_path(engine, files)


def _mapped(engine: Engine, path: Path, mapping_file: Path) -> object:
    return import_mapped(
        engine,
        path.name,
        path.read_bytes(),
        parse_toml(mapping_file.read_text()),
        principal=STEWARD,
        near=0.85,
        gap_days=30,
    )


def _twins(students: pl.DataFrame, keys: list[str]) -> set[str]:
    """Students sharing normalised names and birth date (and `keys`) with another."""
    named = students.with_columns(
        normalised("first_name").alias("_f"), normalised("last_name").alias("_l")
    )
    group = ["_f", "_l", "birth_date", *keys]
    return set(named.filter(pl.len().over(group) > 1).get_column("student_id").to_list())


def test_the_state_fafsa_file_gives_the_native_fafsa_and_queues_the_altered_rows(
    engine: Engine, tmp_path: Path
) -> None:
    _native_district_without(engine, tmp_path, "fafsa")
    path = write_state_fafsa(SPEC, tmp_path / "formats")
    result = _mapped(engine, path, path.with_name("state-fafsa.toml"))

    rows, _ = state_rows(SPEC)
    native = rows.filter(pl.col("_kind") == "exact")
    twins = _twins(read_table(engine, table_of(Fafsa).metadata.tables["student"]), ["cohort_year"])
    expected = (
        native.filter(~pl.col("student_id").is_in(list(twins)))
        .select("student_id", "award_year", "status", "status_date")
        .sort("student_id", "award_year")
    )
    loaded = (
        read_table(engine, table_of(Fafsa))
        .select("student_id", "award_year", "status", "status_date")
        .sort("student_id", "award_year")
    )
    assert loaded.equals(expected)
    queue = read_table(engine, REVIEW_TABLE)
    altered = dict(altered_lines(SPEC))
    assert set(altered) <= set(queue.get_column("line").to_list())
    assert (
        queue.height
        == len(altered)
        + rows.filter(pl.col("student_id").is_in(list(twins)) & (pl.col("_kind") == "exact")).height
    )
    assert result.queued == queue.height  # type: ignore[attr-defined]
    assert result.matched == expected.height  # type: ignore[attr-defined]


def test_the_partner_exports_give_the_native_services(engine: Engine, tmp_path: Path) -> None:
    _native_district_without(engine, tmp_path, "services")
    pmm = write_pmm_services(SPEC, tmp_path / "formats")
    apricot = write_apricot_services(SPEC, tmp_path / "formats")
    _mapped(engine, pmm, pmm.with_name("pmm-service-deliveries.toml"))
    _mapped(engine, apricot, apricot.with_name("apricot-program-enrollments.toml"))

    _, by_session, rest = delivery_rows(SPEC)
    assert by_session.height > 0 and rest.height > 0
    twins = _twins(read_table(engine, table_of(Fafsa).metadata.tables["student"]), [])
    columns = [
        "student_id",
        "org_id",
        "service_type",
        "start_date",
        "end_date",
        "sessions",
        "hours",
    ]
    expected = (
        pl.concat([by_session, rest])
        .filter(~pl.col("student_id").is_in(list(twins)))
        .select(columns)
        .sort(columns[:4])
    )
    loaded = read_table(engine, table_of(Service)).select(columns).sort(columns[:4])
    assert loaded.equals(expected)
