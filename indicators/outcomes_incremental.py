"""Program outcomes recomputed only where their inputs changed (docs/outcomes.md,
"When the figures are recomputed").

Program outcomes are the longest step of the refresh (about 14 CPU-seconds at 100,000
students), and most refreshes follow an import that does not touch what they read: the
releases, the referrals, the caseloads. Others touch only what a few measures read: a
Clearinghouse file changes the college outcomes, a FAFSA file the FAFSA statuses. So each
refresh fingerprints what the method reads (`outcome_inputs`) and compares it with the
fingerprint stored beside the figures (`outcomes_plan`):

- nothing changed: the stored figures are kept;
- only `fafsa` and/or `outcomes` changed: only the measures that read them are computed
  again (`MEASURE_SOURCES`), and the stored figures of the others kept. The students a
  grade-12 measure matches do not depend on those tables (the measure is never missing
  for a student in its scope: a student without a FAFSA status or a college record
  counts as not completed or not enrolled), so their figures equal, to the last bit,
  what a full computation gives (tests/data_access/test_outcomes_incremental.py proves it);
- anything else (the students, enrollments, attendance, marks, test results, services,
  the as-of date, the settings, the method's code or library versions, the schema):
  every figure is computed again.

A fingerprint of a table is its row count and the sum (modulo 2**64) of Polars' 64-bit
hash of every row: independent of the order the database returns the rows in, and
stable within one Polars version (which is part of the method's fingerprint). Hashing
the 7 million rows of the 100,000-student demo takes about 0.2 s.

Pure Polars; no I/O (the caller passes the method's fingerprint).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import asdict, fields
from datetime import date
from typing import Final

import numpy as np
import polars as pl

from domain.vocabulary import OUTCOME_MEASURES
from indicators.settings import Settings
from indicators.tables import RawTables

#: The raw tables the outcome method reads (`indicators.outcomes`), besides services: all
#: of `RawTables`.
READ_TABLES: Final = tuple(field.name for field in fields(RawTables))
#: Tables only some measures read: a change in one recomputes those measures alone.
MEASURE_SOURCES: Final[Mapping[str, frozenset[str]]] = {
    "fafsa": frozenset({"fafsa_completed"}),
    "outcomes": frozenset({"graduated", "enrolled_postsecondary", "persisted"}),
}
#: `outcomes_plan`'s answer when every figure must be computed again.
EVERY_MEASURE: Final = frozenset(OUTCOME_MEASURES)


def digest(text: str) -> str:
    """16 hex digits of a BLAKE2b of `text` (the stored fingerprint must stay short)."""
    return hashlib.blake2b(text.encode(), digest_size=8).hexdigest()


def frame_fingerprint(frame: pl.DataFrame) -> str:
    """`digest` of the row count and the sum of the row hashes (see the module): the same
    for the same rows in any order."""
    if frame.height == 0:
        return digest("0:0")
    hashes = frame.hash_rows(seed=0).to_numpy()
    return digest(f"{frame.height}:{int(hashes.sum(dtype=np.uint64))}")


def outcome_inputs(
    tables: RawTables, services: pl.DataFrame, as_of: date, settings: Settings, method: str
) -> dict[str, str]:
    """The fingerprint of everything the outcome method reads: one entry per table, the
    as-of date, the settings and `method` (its code, library versions and schema)."""
    found = {name: frame_fingerprint(getattr(tables, name)) for name in READ_TABLES}
    found["services"] = frame_fingerprint(services)
    found["as_of"] = as_of.isoformat()
    found["settings"] = digest(repr(sorted(asdict(settings).items())))
    found["method"] = digest(method)
    return found


def outcomes_plan(previous: Mapping[str, str] | None, current: Mapping[str, str]) -> frozenset[str]:
    """The measures to compute again: none when nothing changed, those of
    `MEASURE_SOURCES` when only their tables changed, otherwise `EVERY_MEASURE` (also
    without a previous fingerprint)."""
    if previous is None or set(previous) != set(current):
        return EVERY_MEASURE
    changed = {key for key in current if previous[key] != current[key]}
    if not changed <= set(MEASURE_SOURCES):
        return EVERY_MEASURE
    return frozenset().union(*(MEASURE_SOURCES[key] for key in changed))
