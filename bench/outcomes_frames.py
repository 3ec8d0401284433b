"""Check that a change to the outcome method's code leaves its results as they were.

    python -m bench.outcomes_frames save DIR [--as-of 2026-12-01]
    python -m bench.outcomes_frames compare DIR [--as-of 2026-12-01]

Both read the raw tables and services of the database of PATHWISE_DATABASE_URL as the
refresh does (`data_access.derived.read_raw_tables`, `read_services`) and compute
`indicators.outcomes.program_outcomes`. `save` writes its four frames to DIR as parquet
(before the change); `compare` computes them again (after it) and checks them against
DIR: the same columns, dtypes and rows in the same order, every value equal, floating
point values equal to `RELATIVE` (1e-9) relative (absolute 1e-12 below 0.001), as the
order of a sum moves the last bits (before the study rows were sorted, joins on several
threads left them in no fixed order, and two runs of the same code differed by ~1e-15). Exit status 0 when equal, 1 otherwise, with the differences printed.
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import date
from pathlib import Path
from typing import Final

import polars as pl

from data_access.derived import read_raw_tables, read_services
from data_access.engine import make_engine
from indicators.outcomes import ProgramOutcomes, program_outcomes
from indicators.settings import load_settings

FRAMES: Final = ("estimates", "balance", "trajectory", "served_students")
RELATIVE: Final = 1e-9
#: Values below this size are compared absolutely (to RELATIVE x ABSOLUTE).
ABSOLUTE: Final = 1e-3


def compute(as_of: date) -> ProgramOutcomes:
    """`program_outcomes` of the configured database, as the refresh computes it."""
    engine = make_engine()
    tables, services = read_raw_tables(engine), read_services(engine)
    started = time.perf_counter()
    result = program_outcomes(tables, services, as_of, load_settings())
    print(f"program_outcomes: {time.perf_counter() - started:.2f} s", flush=True)
    return result


def differences(expected: pl.DataFrame, got: pl.DataFrame, name: str) -> list[str]:
    """What differs between two frames (empty when they are equal; floats to RELATIVE)."""
    if expected.schema != got.schema:
        return [f"{name}: schema {dict(got.schema)} != {dict(expected.schema)}"]
    if expected.height != got.height:
        return [f"{name}: {got.height} rows != {expected.height}"]
    found = []
    for column in expected.columns:
        old, new = expected[column], got[column]
        if old.dtype.is_float():
            nulls = (old.is_null() != new.is_null()).sum()
            both = pl.DataFrame({"old": old, "new": new})
            # Relative, with ABSOLUTE as the floor of the scale: an SMD that the strata
            # balance exactly is 0 up to rounding (0.0 in one run, -7.5e-17 in another).
            scale = pl.max_horizontal(pl.col("old").abs(), pl.col("new").abs(), ABSOLUTE)
            gap = both.select(((pl.col("old") - pl.col("new")).abs() / scale).max()).item()
            if nulls or (gap is not None and gap > RELATIVE):
                found.append(f"{name}.{column}: {nulls} nulls differ, relative gap {gap}")
            elif gap:
                print(f"{name}.{column}: equal to {gap:.1e} relative (not bit for bit)")
        elif not old.equals(new):
            found.append(f"{name}.{column}: {(old.ne_missing(new)).sum()} values differ")
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.outcomes_frames", description=__doc__)
    parser.add_argument("action", choices=("save", "compare"))
    parser.add_argument("directory", type=Path)
    parser.add_argument("--as-of", type=date.fromisoformat, default=date(2026, 12, 1))
    args = parser.parse_args(argv)
    result = compute(args.as_of)
    if args.action == "save":
        args.directory.mkdir(parents=True, exist_ok=True)
        for name in FRAMES:
            getattr(result, name).write_parquet(args.directory / f"{name}.parquet")
        print(f"saved {', '.join(FRAMES)} to {args.directory}")
        return 0
    found = [
        line
        for name in FRAMES
        for line in differences(
            pl.read_parquet(args.directory / f"{name}.parquet"), getattr(result, name), name
        )
    ]
    print("\n".join(found) if found else "all four frames equal")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
