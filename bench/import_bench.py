"""Benchmark suite `import`: `pathwise import` of the demo district's import files.

For each size the demo district is written with `pathwise demo --csv` (seed 2026, as of
2026-11-22; cached under `data/bench/import-csv/`, the generator is not what is measured)
and imported four times, each in a fresh child process so that its peak memory is its own
(`resource.getrusage(RUSAGE_SELF).ru_maxrss`): into an empty SQLite file, again into that
file (every key exists: the upsert path), into an empty PostgreSQL database (COPY) and
again into it (COPY into a temporary table, then INSERT ... ON CONFLICT DO UPDATE). The
PostgreSQL server is a throwaway cluster started from /usr/lib/postgresql/*/bin, as the
tests do. Targets (issue 5) at 100,000 students: < 60 s on SQLite, < 30 s on PostgreSQL.

    python -m bench.import_bench --sizes 100000
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

CHECKOUT = Path(__file__).resolve().parent.parent
CACHE = CHECKOUT / "data" / "bench" / "import-csv"
SEED = 2026
AS_OF = date(2026, 11, 22)
TARGETS = {"sqlite": 60.0, "postgresql": 30.0}  # seconds, at 100,000 students


def csv_district(students: int) -> Path:
    """The demo district's import files for `students`, written once and cached."""
    from demo_district.csv_files import write_district_csv
    from demo_district.generate import DemoSpec

    directory = CACHE / f"{students}-{SEED}-{AS_OF.isoformat()}"
    if not (directory / ".complete").exists():
        write_district_csv(DemoSpec(students=students, seed=SEED, today=AS_OF), directory)
        (directory / ".complete").write_text("ok\n")
    return directory


def _child(url: str, directory: str) -> None:
    """Run one import in this process and print its figures as JSON (child side)."""
    from data_access import schema
    from data_access.engine import make_engine
    from data_access.importing import import_path

    engine = make_engine(url)
    schema.upgrade(engine)
    started = time.perf_counter()
    result = import_path(engine, directory, imported_by="bench")
    seconds = time.perf_counter() - started
    usage = resource.getrusage(resource.RUSAGE_SELF)
    print(
        json.dumps(
            {
                "seconds": seconds,
                "cpu": usage.ru_utime + usage.ru_stime,
                "peak_mb": usage.ru_maxrss / 1024,
                "inserted": result.inserted,
                "updated": result.updated,
            }
        )
    )


def _measure(url: str, directory: Path) -> dict[str, float]:
    load = os.getloadavg()[0]
    done = subprocess.run(
        [sys.executable, "-m", "bench.import_bench", "--child", url, str(directory)],
        cwd=CHECKOUT,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"import failed ({done.returncode}): {done.stderr[-2000:]}")
    figures: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    figures["load"] = load
    return figures


def _postgres_urls(sizes: list[int]):
    """A running throwaway cluster and one empty database URL per size."""
    from sqlalchemy import create_engine, text

    from tests.postgres_cluster import running_cluster

    cluster_context = running_cluster()
    cluster = cluster_context.__enter__()
    admin = create_engine(cluster.url(), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        for size in sizes:
            connection.execute(text(f"CREATE DATABASE import_bench_{size}"))
    admin.dispose()
    return cluster_context, {size: cluster.url(f"import_bench_{size}") for size in sizes}


def run(sizes: list[int]) -> str:
    """Measure every size on both backends; returns a markdown section."""
    rows = []
    cluster_context, pg_urls = _postgres_urls(sizes)
    try:
        for size in sizes:
            directory = csv_district(size)
            megabytes = sum(p.stat().st_size for p in directory.glob("*.csv")) / 1e6
            with tempfile.TemporaryDirectory(prefix="pathwise-import-bench-") as work:
                sqlite_url = f"sqlite:///{Path(work) / 'bench.db'}"
                for backend, url in (("sqlite", sqlite_url), ("postgresql", pg_urls[size])):
                    for run_name in ("empty database", "re-import (all updates)"):
                        figures = _measure(url, directory)
                        rows.append((size, megabytes, backend, run_name, figures))
    finally:
        cluster_context.__exit__(None, None, None)
    lines = [
        "## import",
        "",
        "`pathwise import` of the demo district written by `pathwise demo --csv` "
        f"(seed {SEED}, as of {AS_OF.isoformat()}); one child process per run, peak memory "
        "is its maximum resident set size. Targets at 100,000 students: "
        f"< {TARGETS['sqlite']:.0f} s SQLite, < {TARGETS['postgresql']:.0f} s PostgreSQL "
        "(for the import into an empty database; the re-import is shown for comparison).",
        "",
        "| students | CSV MB | backend | run | rows inserted | rows updated | seconds | "
        "importer CPU s | peak MB | load avg | target |",
        "|---:|---:|---|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for size, megabytes, backend, run_name, figures in rows:
        target = TARGETS[backend]
        first = run_name == "empty database"
        verdict = (
            ("met" if figures["seconds"] < target else "MISSED")
            if size == 100_000 and first
            else "-"
        )
        lines.append(
            f"| {size:,} | {megabytes:,.0f} | {backend} | {run_name} | "
            f"{int(figures['inserted']):,} | {int(figures['updated']):,} | "
            f"{figures['seconds']:.1f} | {figures['cpu']:.1f} | {figures['peak_mb']:,.0f} | "
            f"{figures['load']:.1f} | {verdict} |"
        )
    lines.append("")
    lines.append(
        f"Machine: {os.cpu_count()} CPUs; Python {sys.version.split()[0]}. `importer CPU s` is "
        "the import process's own CPU time (on PostgreSQL the server's is extra); `load avg` "
        "is the 1-minute load average when the run started (other work on the machine)."
    )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.import_bench")
    parser.add_argument("--sizes", default="100000", help="comma-separated student counts")
    parser.add_argument("--child", nargs=2, metavar=("URL", "DIR"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        _child(*args.child)
        return 0
    sizes = [int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip()]
    print(run(sizes))
    return 0


if __name__ == "__main__":
    sys.exit(main())


def suite(sizes: list[int], runs: int) -> str:
    """The `python -m bench import` entry (each size is imported once per backend and path)."""
    del runs
    return run(sizes)
