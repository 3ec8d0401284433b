"""The import format as data agrees with the tables, the specification's order and the demo."""

from __future__ import annotations

from datetime import date

from data_access.models import IMPORT_TABLES, table_of
from demo_district.generate import DemoSpec, district
from domain.import_format import FILE_FORMATS, Kind
from domain.mapping import FAFSA_FLAGS

#: Table columns no native file carries: filled only through a column mapping (the flags
#: some states' FAFSA completion files give, docs/import-format.md).
MAPPED_ONLY = {"fafsa": set(FAFSA_FLAGS)}
#: Table columns Pathwise itself fills: how a release was given and the request it answers
#: (release requests, issue 16). An imported release has neither (docs/import-format.md).
APP_ONLY = {"consents": {"method", "request_id"}}


def test_every_file_has_its_table_columns_and_key() -> None:
    for name, fmt in FILE_FORMATS.items():
        table = table_of(IMPORT_TABLES[fmt.stored_as])
        if fmt.stored_as != name:
            continue
        stored_columns = (
            {c.name for c in table.columns}
            - MAPPED_ONLY.get(name, set())
            - APP_ONLY.get(name, set())
        )
        assert sorted(fmt.column_names) == sorted(stored_columns), name
        assert list(fmt.key) == [c.name for c in table.primary_key.columns], name
        for column in fmt.columns:
            stored = table.c[column.name]
            # Required in the file exactly when the table needs a value and none is implied.
            assert column.required == (not stored.nullable and column.default is None), (
                name,
                column.name,
            )


def test_files_come_in_dependency_order_with_daily_attendance_after_attendance() -> None:
    expected = list(IMPORT_TABLES)
    expected.insert(expected.index("attendance") + 1, "attendance_daily")
    assert list(FILE_FORMATS) == expected
    assert FILE_FORMATS["attendance_daily"].stored_as == "attendance"


def test_references_point_to_earlier_files_and_vocabularies_are_given() -> None:
    order = list(FILE_FORMATS)
    for name, fmt in FILE_FORMATS.items():
        for column in fmt.columns:
            if column.references:
                assert order.index(column.references) < order.index(name), (name, column.name)
                assert len(FILE_FORMATS[column.references].key) == 1
            assert bool(column.choices) == (column.kind in (Kind.CHOICE, Kind.LIST)), column


def test_the_demo_district_writes_exactly_the_format_columns() -> None:
    seen = set()
    for part in district(DemoSpec(students=60, seed=3, today=date(2026, 11, 22))):
        for name, frame in part.tables.items():
            if not name.startswith("_"):
                assert set(frame.columns) == set(FILE_FORMATS[name].column_names), name
                seen.add(name)
    assert seen == set(IMPORT_TABLES)
