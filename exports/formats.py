"""How exported data is written: CSV, XLSX and JSON, safe to open in a spreadsheet.

- Spreadsheet formula injection (OWASP "CSV injection"): a text cell beginning with `=`,
  `+`, `-`, `@`, a tab or a carriage return is prefixed with `'` so that Excel, LibreOffice
  and Google Sheets show it as text instead of running it.
- Partner organisations re-disclose nothing: every file a partner exports carries the
  FERPA re-disclosure notice (34 CFR 99.33) wherever the format can hold it (a `notice`
  field in JSON, a "Notice" sheet in XLSX); CSV cannot hold it without breaking its fixed
  header, so the command line prints it on stderr and the pages show it beside the button.
"""

from __future__ import annotations

import io
import json
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

import polars as pl

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

REDISCLOSURE_NOTICE = (
    "NOTICE: This file contains personally identifiable information from student education "
    "records, disclosed to your organisation under the Family Educational Rights and Privacy "
    "Act (FERPA) with the written consent of a parent or eligible student. Under 34 CFR 99.33 "
    "you may not disclose it to any other party without the prior written consent of the "
    "parent or eligible student, and you may use it only for the purposes for which it was "
    "disclosed."
)


def neutralise(value: str) -> str:
    """`=1+1` -> `'=1+1`; any other text unchanged."""
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def neutralise_frame(frame: pl.DataFrame) -> pl.DataFrame:
    """Every text column made formula-safe."""
    starts = "^[=+\\-@\t\r]"
    return frame.with_columns(
        pl.when(pl.col(name).str.contains(starts))
        .then(pl.lit("'") + pl.col(name))
        .otherwise(pl.col(name))
        .alias(name)
        for name, dtype in frame.schema.items()
        if dtype == pl.String
    )


def to_csv(frame: pl.DataFrame) -> str:
    """CSV text of a frame whose columns are already formatted as the file wants them."""
    return neutralise_frame(frame).write_csv(line_terminator="\n")


def to_xlsx(frame: pl.DataFrame, *, sheet: str, notice: str | None = None) -> bytes:
    """An XLSX workbook: the data sheet, plus a "Notice" sheet for partners."""
    import xlsxwriter

    buffer = io.BytesIO()
    with xlsxwriter.Workbook(buffer, {"in_memory": True}) as workbook:
        neutralise_frame(frame).write_excel(workbook, worksheet=sheet, autofit=True)
        if notice:
            worksheet = workbook.add_worksheet("Notice")
            worksheet.write(0, 0, notice)
            worksheet.set_column(0, 0, 120)
    return buffer.getvalue()


def _json_value(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, str):
        return neutralise(value)
    if isinstance(value, Mapping):
        return {k: _json_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_value(v) for v in value]
    if isinstance(value, pl.DataFrame):
        return [_json_value(row) for row in value.to_dicts()]
    return value


def to_json(document: Mapping[str, Any], *, notice: str | None = None) -> str:
    payload = dict(document)
    if notice:
        payload = {"notice": notice, **payload}
    return json.dumps(_json_value(payload), indent=2, sort_keys=False) + "\n"


#: `pathwise export flags` header, exactly (docs/command-line.md).
FLAGS_HEADER = (
    "student_id", "first_name", "last_name", "school_id", "grade_level", "absence_rate",
    "attendance_band", "chronic_absence", "core_fails", "course_failure", "on_track",
    "below_proficient", "fafsa_status", "fafsa_not_completed", "flag_count", "tier",
)  # fmt: skip


def _yes_no(column: str) -> pl.Expr:
    return pl.when(pl.col(column)).then(pl.lit("Y")).when(pl.col(column).not_()).then(pl.lit("N"))


def flags_table(rows: pl.DataFrame) -> pl.DataFrame:
    """The early-warning rows in the docs/command-line.md format: text cells, Y/N, four decimals, blanks
    where a value does not apply, is missing or is not the viewer's to see; by student_id."""
    text = [
        pl.col("student_id"),
        pl.col("first_name"),
        pl.col("last_name"),
        pl.col("school_id"),
        pl.col("grade_level").cast(pl.String),
        pl.col("absence_rate").map_batches(
            lambda s: s.map_elements(lambda v: f"{v:.4f}", return_dtype=pl.String),
            return_dtype=pl.String,
        ),
        pl.col("attendance_band"),
        _yes_no("chronic_absence"),
        pl.col("core_fails").cast(pl.String),
        _yes_no("course_failure"),
        _yes_no("on_track"),
        _yes_no("below_proficient"),
        pl.col("fafsa_status"),
        _yes_no("fafsa_not_completed"),
        pl.col("flag_count").cast(pl.String),
        pl.col("tier").cast(pl.String),
    ]
    return rows.sort("student_id").select(
        [expr.cast(pl.String).alias(name) for expr, name in zip(text, FLAGS_HEADER, strict=True)]
    )


def pipeline_table(rows: pl.DataFrame) -> pl.DataFrame:
    """A funnel as docs/command-line.md's `export pipeline` CSV: count is an integer, `<10` or `*`;
    share has one decimal and is empty wherever count is not an integer."""
    return rows.select(
        pl.col("cohort").cast(pl.String),
        pl.col("group_by"),
        pl.col("group"),
        pl.col("stage"),
        pl.col("display").alias("count"),
        pl.when(pl.col("shown").is_not_null() & pl.col("share").is_not_null())
        .then(pl.col("share").round(1).cast(pl.String))
        .alias("share"),
    )


def record_document(record: Any) -> dict[str, Any]:
    """A student record as a JSON-ready document: only the parts the record holds."""
    document: dict[str, Any] = {
        "student": record.identity,
        "school_year": record.school_year,
        "why_you_can_see_this_student": {
            "legal_basis": record.reason.legal_basis,
            "categories": sorted(record.reason.categories),
            "explanation": record.reason.explanation,
            "consent_id": record.reason.consent_id,
            "consent_expires": record.reason.consent_expires,
            "agreement_id": record.reason.agreement_id,
        },
        "indicators": record.indicators,
    }
    for name in (
        "demographics",
        "guardians",
        "attendance",
        "marks",
        "tests",
        "fafsa",
        "outcome",
        "enrollments",
    ):
        value = getattr(record, name)
        if value is not None:
            document[name] = value
    document["services"] = record.services
    document["consents"] = record.consents
    return document
