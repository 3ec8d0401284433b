"""Saved column mappings and the review queue of record matching (migration 0011).

A mapping (`domain.mapping.Mapping`) is stored as one `column_mapping` row with its columns
and values; saving one replaces it whole. The review queue holds the rows of mapped files
that matched no student or more than one; the data steward resolves each: picks a student
among its candidates (its rows are then loaded under that student's id, as the import
would have loaded them) or rejects it (nothing is loaded). Each resolution is audited
(`resolve match`, with the student and the item) in the same transaction as its rows.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import polars as pl
from sqlalchemy import Engine, delete, insert, select, update

from data_access.audit import record_event
from data_access.bulk import upsert_frame
from data_access.mapped_import import REVIEW_TABLE, TABLES
from data_access.models import ColumnMapping, ColumnMappingColumn, ColumnMappingValue, table_of
from data_access.policy import Principal
from domain.mapping import Mapping, problems

MAPPING, MAPPING_COLUMN, MAPPING_VALUE = (
    table_of(ColumnMapping),
    table_of(ColumnMappingColumn),
    table_of(ColumnMappingValue),
)
REJECTED = "rejected"


class InvalidMapping(ValueError):
    """A mapping that cannot be saved (its problems, joined)."""


class InvalidResolution(ValueError):
    """A review item already resolved, unknown, or a student not among its candidates."""


def save_mapping(engine: Engine, mapping: Mapping, saved_by: str) -> None:
    """Save (or replace) a mapping; raises `InvalidMapping`."""
    found = problems(mapping)
    if found:
        raise InvalidMapping("; ".join(found))
    with engine.begin() as connection:
        connection.execute(delete(MAPPING_VALUE).where(MAPPING_VALUE.c.name == mapping.name))
        connection.execute(delete(MAPPING_COLUMN).where(MAPPING_COLUMN.c.name == mapping.name))
        connection.execute(delete(MAPPING).where(MAPPING.c.name == mapping.name))
        connection.execute(
            insert(MAPPING).values(
                name=mapping.name,
                target=mapping.target,
                award_year=mapping.award_year,
                org_id=mapping.org_id,
                service_type=mapping.service_type,
                date_format=mapping.date_format,
                saved_by=saved_by,
                saved_at=datetime.now(UTC),
            )
        )
        if mapping.columns:
            connection.execute(
                insert(MAPPING_COLUMN),
                [
                    {"name": mapping.name, "target_column": t, "source_column": s}
                    for t, s in mapping.columns.items()
                ],
            )
        values = [
            {"name": mapping.name, "target_column": c, "source_value": s, "value": v}
            for c, listed in mapping.values.items()
            for s, v in listed.items()
        ]
        if values:
            connection.execute(insert(MAPPING_VALUE), values)


def mapping_names(engine: Engine, target: str | None = None) -> list[str]:
    query = select(MAPPING.c.name).order_by(MAPPING.c.name)
    if target is not None:
        query = query.where(MAPPING.c.target == target)
    with engine.connect() as connection:
        return [str(n) for n in connection.execute(query).scalars()]


def load_mapping(engine: Engine, name: str) -> Mapping | None:
    """The saved mapping called `name`, or None."""
    with engine.connect() as connection:
        head = connection.execute(select(MAPPING).where(MAPPING.c.name == name)).mappings().first()
        if head is None:
            return None
        columns = connection.execute(
            select(MAPPING_COLUMN).where(MAPPING_COLUMN.c.name == name)
        ).mappings()
        values = connection.execute(
            select(MAPPING_VALUE).where(MAPPING_VALUE.c.name == name)
        ).mappings()
        listed: dict[str, dict[str, str]] = {}
        for row in values:
            listed.setdefault(row["target_column"], {})[row["source_value"]] = row["value"]
        return Mapping(
            name=head["name"],
            target=head["target"],
            columns={r["target_column"]: r["source_column"] for r in columns},
            values=listed,
            award_year=head["award_year"],
            org_id=head["org_id"],
            service_type=head["service_type"],
            date_format=head["date_format"],
        )


def resolve(engine: Engine, principal: Principal, review_id: int, student_id: str | None) -> int:
    """Resolve one review item: load its rows under `student_id` (one of its candidates), or
    reject it (`student_id` None). Returns the rows loaded. The caller checks the principal."""
    with engine.begin() as connection:
        item = (
            connection.execute(select(REVIEW_TABLE).where(REVIEW_TABLE.c.review_id == review_id))
            .mappings()
            .first()
        )
        if item is None or item["resolution"] is not None:
            raise InvalidResolution(f"review item {review_id} is not open")
        candidates = {c["student_id"] for c in json.loads(item["candidates"])}
        if student_id is not None and student_id not in candidates:
            raise InvalidResolution(f"{student_id} is not a candidate of review item {review_id}")
        loaded = 0
        if student_id is not None:
            rows = pl.DataFrame(json.loads(item["rows"]))
            if rows.height:
                table = TABLES[item["target"]]
                rows = rows.with_columns(pl.lit(student_id).alias("student_id"))
                dates = [
                    c.name for c in table.columns if c.name in rows.columns and "date" in c.name
                ]
                rows = rows.with_columns(pl.col(c).cast(pl.String).str.to_date() for c in dates)
                loaded = upsert_frame(connection, table, rows)
        connection.execute(
            update(REVIEW_TABLE)
            .where(REVIEW_TABLE.c.review_id == review_id)
            .values(
                resolution=student_id or REJECTED,
                resolved_by=principal.email,
                resolved_at=datetime.now(UTC),
            )
        )
        record_event(
            connection,
            principal,
            "resolve match",
            students={student_id: "picked by the data steward"} if student_id else None,
            detail={
                "review_id": review_id,
                "source_file": item["source_file"],
                "line": item["line"],
                "resolution": student_id or REJECTED,
            },
        )
    return loaded
