"""Suite `formats`: loading the files districts already hold (issue 15), end to end.

For each size the demo district is written as import files (`pathwise demo --csv`, cached
like the `import` suite) and in other systems' formats (`pathwise demo --formats`), and its
native files are imported into a SQLite base database, without `outcomes.csv` and
`fafsa.csv`: those come from the Clearinghouse detail report and the state FAFSA file. Each
measured run works on a fresh copy of the base database, in a child process:

- **NSC detail report**, `pathwise import nsc FILE`: the whole command as a steward waits
  for it (checking, writing `postsecondary_enrollment`, deriving `outcomes`, then the
  refresh of every derived table), and the importer alone (`import_path(nsc=True)`, no
  refresh). Target at 100,000 students: under 30 s. The command is timed twice: on a
  copy refreshed earlier the same day (as the nightly `pathwise refresh` leaves the
  database: its refresh then computes the three college measures of program outcomes
  again, not all of them) and on one whose program outcomes were computed on another
  day (computed whole).
- **State FAFSA file**, `pathwise import fafsa FILE --mapping state-fafsa.toml`: the whole
  command, and the checking and record matching of its rows alone (a dry run: read, map,
  match every senior, nothing written). Target: the matching of 25k seniors under 10 s.

Beside each, the plain way on the same machine in the same run: the detail report read
with pandas and written with `DataFrame.to_sql` (no checks, no derived outcomes), and the
state file matched with pandas (an exact merge on normalised names and birth date, then
RapidFuzz's `process.extractOne` row by row for the rest among the students born the same
day).

    python -m bench formats --sizes 100000
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import sqlite3
import subprocess
import sys
import time
import unicodedata
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from bench.import_bench import AS_OF, CHECKOUT, SEED, csv_district
from bench.report import load_average, machine

CACHE = CHECKOUT / "data" / "bench" / "formats"
NSC_FILE = "nsc_studenttracker_detail.csv"
FAFSA_FILE = "state-fafsa.csv"
FAFSA_MAPPING = "state-fafsa.toml"
#: Native files not loaded into the base database: the formats bring them.
FROM_FORMATS = ("outcomes.csv", "fafsa.csv")
TARGETS = {"nsc": 30.0, "fafsa matching": 10.0}


def prepared(students: int) -> tuple[Path, Path]:
    """(the formats folder, the base SQLite database) for `students`, built once."""
    from demo_district.formats import write_formats
    from demo_district.generate import DemoSpec

    directory = CACHE / f"{students}-{SEED}-{AS_OF.isoformat()}"
    formats, base = directory / "formats", directory / "base.db"
    if (directory / ".complete").exists():
        return formats, base
    shutil.rmtree(directory, ignore_errors=True)
    native = directory / "native"
    native.mkdir(parents=True)
    for path in csv_district(students).glob("*.csv"):
        if path.name not in FROM_FORMATS:
            shutil.copy(path, native / path.name)
    write_formats(DemoSpec(students=students, seed=SEED, today=AS_OF), formats)
    _child({"step": "base", "url": _url(base), "path": str(native)})
    (directory / ".complete").write_text("ok\n")
    return formats, base


def _url(path: Path) -> str:
    return f"sqlite:///{path}"


def _child(job: dict[str, Any]) -> dict[str, Any]:
    """Run one job in a fresh process; its figures (and the wall time seen from outside)."""
    load = os.getloadavg()[0]
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "bench.formats_suite", "--child", json.dumps(job)],
        cwd=CHECKOUT,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "PATHWISE_DATABASE_URL": job["url"]},
    )
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"{job['step']} failed ({done.returncode}): {done.stderr[-3000:]}")
    figures: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    figures.update(wall=wall, load=load)
    return figures


def _run_child(job: dict[str, Any]) -> dict[str, Any]:
    """The child side of `_child`: one job, timed inside."""
    from data_access import schema
    from data_access.engine import get_engine

    step, path = job["step"], job["path"]
    engine = get_engine()
    schema.upgrade(engine)
    started = time.perf_counter()
    figures: dict[str, Any] = {}
    if step == "base":
        from data_access.importing import import_path

        import_path(engine, path, imported_by="bench")
    elif step == "refresh":
        from data_access.derived import refresh_derived

        refresh_derived(engine)
    elif step == "nsc importer":
        from data_access.importing import import_path

        imported = import_path(engine, path, imported_by="bench", nsc=True)
        figures["rows"] = sum(f.rows for f in imported.files)
    elif step in ("nsc command", "fafsa command"):
        from cli.main import main

        words = ["import", "nsc", path] if step == "nsc command" else ["import", "fafsa", path]
        if step == "fafsa command":
            words += ["--mapping", str(Path(path).with_name(FAFSA_MAPPING))]
        code = main(words)
        if code != 0:
            raise SystemExit(code)
    elif step == "fafsa matching":
        from datetime import date

        from data_access.mapped_import import import_mapped
        from data_access.policy import operator
        from domain.mapping import parse_toml
        from indicators.settings import load_settings

        settings = load_settings()
        mapping_path = Path(path).with_name(FAFSA_MAPPING)
        mapping = parse_toml(mapping_path.read_text(encoding="utf-8"), mapping_path.stem)
        result = import_mapped(
            engine,
            FAFSA_FILE,
            Path(path).read_bytes(),
            mapping,
            principal=operator(date.today(), "bench"),
            near=settings.near_match_score,
            gap_days=settings.service_period_gap_days,
            dry_run=True,
        )
        figures.update(
            rows=result.source_rows,
            matched=result.matched,
            ambiguous=result.ambiguous,
            unmatched=result.unmatched,
        )
    elif step == "nsc pandas":
        import pandas as pd
        from sqlalchemy import create_engine

        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
        plain = create_engine(job["url"])
        frame.to_sql("nsc_detail_plain", plain, if_exists="replace", index=False, chunksize=50_000)
        figures["rows"] = len(frame)
    elif step == "fafsa pandas":
        figures.update(_pandas_matching(Path(path), job["url"]))
    else:
        raise ValueError(step)
    seconds = time.perf_counter() - started
    usage = resource.getrusage(resource.RUSAGE_SELF)
    figures.update(seconds=seconds, cpu=usage.ru_utime + usage.ru_stime)
    return figures


def _plain_name(text: Any) -> str:
    folded = unicodedata.normalize("NFKD", str(text or "")).lower()
    return "".join(c for c in folded if "a" <= c <= "z")


def _pandas_matching(path: Path, url: str) -> dict[str, Any]:
    """The plain way: the seniors from SQL, an exact pandas merge on normalised names and
    birth date, then RapidFuzz's extractOne per remaining row among same-day births."""
    import pandas as pd
    from rapidfuzz import fuzz, process
    from sqlalchemy import create_engine

    from domain.mapping import parse_toml

    mapping = parse_toml(path.with_name(FAFSA_MAPPING).read_text(encoding="utf-8"))
    columns = mapping.columns
    rows = pd.read_csv(path, dtype=str, keep_default_na=False)
    rows = pd.DataFrame(
        {
            "first": rows[columns["first_name"]].map(_plain_name),
            "last": rows[columns["last_name"]].map(_plain_name),
            "birth": pd.to_datetime(rows[columns["birth_date"]], format="mixed").dt.date,
        }
    )
    students = pd.read_sql(
        "SELECT student_id, first_name, last_name, birth_date FROM student", create_engine(url)
    )
    students["first"] = students["first_name"].map(_plain_name)
    students["last"] = students["last_name"].map(_plain_name)
    students["birth"] = pd.to_datetime(students["birth_date"]).dt.date
    exact = rows.reset_index().merge(students, on=["first", "last", "birth"], how="left")
    counts = exact.groupby("index")["student_id"].count()
    rest = rows.loc[counts[counts != 1].index]
    by_birth = dict(list(students.groupby("birth")))
    near = 0
    for row in rest.itertuples():
        group = by_birth.get(row.birth)
        if group is None:
            continue
        names = (group["last"] + " " + group["first"]).tolist()
        best = process.extractOne(f"{row.last} {row.first}", names, scorer=fuzz.WRatio)
        near += best is not None and best[1] >= 90
    return {"rows": len(rows), "matched": int((counts == 1).sum()), "near": near}


def refreshed_today(base: Path) -> Path:
    """A copy of `base` refreshed as of today, as the nightly `pathwise refresh` leaves it
    (docs/command-line.md): the day's imports then compute again only the program
    outcomes they change (docs/outcomes.md, "When the figures are recomputed")."""
    from data_access.derived import method_code

    # Named by the day and the method's code: either makes an older copy's outcomes stale.
    today = base.with_name(f"base-refreshed-{date.today().isoformat()}-{method_code()[:12]}.db")
    if not today.exists():
        for stale in base.parent.glob("base-refreshed-*"):
            stale.unlink()
        building = today.with_name(today.name + ".building")
        shutil.copy(base, building)
        _child({"step": "refresh", "url": _url(building), "path": ""})
        building.rename(today)
    return today


def _forget_outcome_inputs(path: Path) -> None:
    """Drop the stored program outcomes' fingerprint: the import's refresh then computes
    them whole, as on a day without an earlier refresh."""
    from data_access.derived import OUTCOME_INPUTS_KEY

    with sqlite3.connect(path) as connection:
        connection.execute("DELETE FROM pathwise_meta WHERE key = ?", (OUTCOME_INPUTS_KEY,))
    connection.close()


def _best(
    runs: int,
    job: dict[str, Any],
    base: Path,
    work: Path,
    prepare: Callable[[Path], None] | None = None,
) -> dict[str, Any]:
    """The figures of the fastest of `runs` runs of `job`, each on a fresh copy of `base`
    (`prepare`d, then written to disk before the run starts, so that no run waits on the
    copy's write-back): this shared 2-core machine's speed varies by a third from minute
    to minute."""
    best: dict[str, Any] | None = None
    for _ in range(max(1, runs)):
        for leftover in work.parent.glob(work.name + "*"):
            leftover.unlink()
        shutil.copy(base, work)
        if prepare is not None:
            prepare(work)
        os.sync()
        figures = _child(job)
        key = "wall" if job["step"].endswith("command") else "seconds"
        if best is None or figures[key] < best[key]:
            best = figures
    assert best is not None
    return best


def _one_class(path: Path) -> tuple[str, int, int]:
    """The state file's rows of its largest award year (one senior class), written beside
    it as it came (text untouched), with the year and its number of rows."""
    import polars as pl

    rows = pl.read_csv(path, infer_schema=False)
    column = next(c for c in rows.columns if c.lower() == "award year")
    year, count = rows.group_by(column).len().sort("len", column).row(-1)
    target = path.with_name(f"{path.stem}-{year}.csv")
    rows.filter(pl.col(column) == year).write_csv(target)
    return str(target), int(year), int(count)


def _one_size(students: int, runs: int) -> list[str]:
    formats, base = prepared(students)
    nsc, fafsa = str(formats / NSC_FILE), str(formats / FAFSA_FILE)
    one_class, year, seniors = _one_class(formats / FAFSA_FILE)
    work = base.with_name("run.db")
    today = refreshed_today(base)
    lines = []
    for kind, step, path, label, start, prepare in (
        (
            "nsc",
            "nsc command",
            nsc,
            "`pathwise import nsc FILE`, whole command, after that day's nightly refresh "
            "(program outcomes: the three college measures computed again)",
            today,
            None,
        ),
        (
            "nsc",
            "nsc command",
            nsc,
            "the same with no refresh earlier that day (program outcomes computed whole)",
            base,
            _forget_outcome_inputs,
        ),
        ("nsc", "nsc importer", nsc, "the importer alone (no refresh)", base, None),
        ("nsc", "nsc pandas", nsc, "plain: pandas `read_csv` + `to_sql`", base, None),
        (
            "fafsa",
            "fafsa command",
            fafsa,
            "`pathwise import fafsa FILE --mapping`, whole, after that day's nightly refresh",
            today,
            None,
        ),
        (
            "fafsa",
            "fafsa matching",
            fafsa,
            "reading, mapping and matching (dry run)",
            base,
            None,
        ),
        (
            "fafsa",
            "fafsa matching",
            one_class,
            f"the same for one class (award year {year}, {seniors:,} seniors)",
            base,
            None,
        ),
        (
            "fafsa",
            "fafsa pandas",
            fafsa,
            "plain: pandas merge + RapidFuzz extractOne loop",
            base,
            None,
        ),
    ):
        job = {"step": step, "url": _url(work), "path": path}
        figures = _best(runs, job, start, work, prepare)
        target = TARGETS.get("nsc" if step == "nsc command" else step)
        if step == "fafsa matching" and path != one_class:
            target = None  # the target is about one class of seniors
        seconds = figures["wall"] if step.endswith("command") else figures["seconds"]
        verdict = (
            "-"
            if target is None or students != 100_000
            else ("met" if seconds < target else "MISSED")
        )
        detail = ", ".join(
            f"{k} {int(v):,}" for k, v in figures.items() if k in ("rows", "matched", "near")
        )
        lines.append(
            f"| {students:,} | {kind} | {label} | {detail or '-'} | {seconds:.1f} | "
            f"{figures['cpu']:.1f} | {figures['load']:.1f} | {verdict} |"
        )
    work.unlink(missing_ok=True)
    return lines


def run(sizes: list[int], runs: int) -> str:
    """The markdown section (each figure the fastest of `runs` runs)."""
    lines = [
        "## Suite `formats`",
        "",
        f"Loading the Clearinghouse detail report and the state FAFSA file of the demo "
        f"district (seed {SEED}, as of {AS_OF.isoformat()}) into a SQLite database holding "
        f"the rest of the district; one child process per run, the fastest of {runs} "
        f"run(s) each (on this shared machine the same run varies by a third); {machine()}; "
        f"load before: {load_average()}. Whole commands are timed from outside the process "
        "(start-up included); inner steps inside it. Targets (issue 15) at 100,000 students: "
        "the NSC import under 30 s, the FAFSA matching of its seniors under 10 s.",
        "",
        "| students | file | what is timed | rows | seconds | CPU s | load | target |",
        "|---:|---|---|---|---:|---:|---:|---|",
    ]
    for size in sizes:
        lines += _one_size(size, runs)
    lines += [
        "",
        "The first run writes the files and the base database under `data/bench/formats/` "
        "(minutes; not timed).",
    ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--child":
        print(json.dumps(_run_child(json.loads(sys.argv[2]))))
    else:
        print(run([int(s) for s in (sys.argv[1:] or ["10000"])], 1))
