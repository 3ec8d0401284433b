"""`pathwise export coverage`: the CSV of issue 14's "Command line (exact contract)"
(docs/command-line.md).

- One row per school x need, sorted by school_id then need (in the order of
  `domain.vocabulary.FLAGS`), under exactly `COVERAGE_HEADER`.
- Counts are integers, or `<10` / `*` as the viewer's protection shows them
  (indicators/coverage_protection.py); `open_slots` is an integer, or `*` for a protected
  viewer unless every capacity row in the sum is the viewer's own organisation's: another
  organisation's open slots would reveal how many students it serves
  (data_access/coverage.py, `open_slots_by_need`; docs/access-rules.md, "Need and
  coverage", rule 6).
- Identifiers are made formula-safe as every export's text is (`exports.formats`).
"""

from __future__ import annotations

from typing import Final

import polars as pl

from exports.formats import neutralise_frame

COVERAGE_HEADER: Final = (
    "school_id,need,flagged,served_addressing,served_addressing_with_release,served_other,"
    "unserved,duplicated,open_slots"
)


def coverage_csv(rows: pl.DataFrame) -> str:
    """The CSV text of `data_access.coverage.coverage_export`'s rows (all text columns,
    already in the contract's order)."""
    columns = COVERAGE_HEADER.split(",")
    if list(rows.columns) != columns:
        raise ValueError(f"coverage rows must have the columns {COVERAGE_HEADER}")
    safe = neutralise_frame(rows.select("school_id", "need"))
    return rows.with_columns(safe).write_csv(line_terminator="\n", null_value="")
