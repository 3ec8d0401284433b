"""The demo district in other systems' own formats (`pathwise demo --formats DIR`).

`FORMAT_WRITERS` is the registry: a format's name -> a writer that takes the demo spec,
the folder and a progress callback, writes its file(s) there and returns rows per file.
The command runs every writer; another format plugs in by adding its writer here.

`nsc`: the National Student Clearinghouse StudentTracker for High Schools detail report
(docs/import-format.md) for the demo's graduates whose college enrollment is known: a
`Record Found = N` row for each graduate who did not enrol, and for each who did, the
terms the demo's own outcomes imply (the first begins on `postsecondary_start_date` at a
college of `institution_level`; a student who persisted has terms in the second year, one
who did not has none there), at most eight terms and a degree row, each term no later
than the demo's "today". Importing it gives the outcomes of the native files.

`state-fafsa`, `pmm-services`, `apricot-services`: a state FAFSA completion file keyed by
name, birth date and school, and partners' service exports (demo_district/formats_fafsa.py,
demo_district/formats_services.py), each with its TOML column mapping beside it.

`oneroster`: the current roster as a OneRoster 1.2 CSV bulk package
(demo_district/formats_oneroster.py).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Final

import numpy as np
import polars as pl

from demo_district.formats_fafsa import write_state_fafsa
from demo_district.formats_oneroster import write_oneroster
from demo_district.formats_services import write_apricot_services, write_pmm_services
from demo_district.generate import DemoSpec, district, entrants_per_cohort
from domain.progress import Progress, no_progress

FormatWriter = Callable[[DemoSpec, Path, Progress], dict[str, int]]

NSC_FILE: Final = "nsc_studenttracker_detail.csv"
NSC_HEADER: Final = (
    "Your Unique Identifier",
    "First Name",
    "Middle Initial",
    "Last Name",
    "Name Suffix",
    "Requester Return Field",
    "Record Found Y/N",
    "High School Code",
    "High School Grad Date",
    "College Code/Branch",
    "College Name",
    "College State",
    "2-year / 4-year",
    "Public / Private",
    "Enrollment Begin",
    "Enrollment End",
    "Enrollment Status",
    "Graduated?",
    "Graduation Date",
    "Degree Title",
    "Major",
    "College Sequence",
)
#: Demo colleges per level: (code/branch, name, state, public/private, degree, major).
_COLLEGES: Final = {
    "4yr": (
        ("001149-00", "DEMO STATE UNIVERSITY", "CA", "Public", "BACHELOR OF ARTS", "PSYCHOLOGY"),
        ("002345-00", "DEMO PRIVATE COLLEGE", "OR", "Private", "BACHELOR OF SCIENCE", "BIOLOGY"),
    ),
    "2yr": (
        (
            "004567-00",
            "DEMO COMMUNITY COLLEGE",
            "CA",
            "Public",
            "ASSOCIATE IN ARTS",
            "GENERAL STUDIES",
        ),
    ),
    "less_than_2yr": (
        ("031234-00", "DEMO TECHNICAL INSTITUTE", "CA", "Private", "CERTIFICATE", "WELDING"),
    ),
}
_NSC_LEVEL: Final = {"4yr": "4", "2yr": "2", "less_than_2yr": "L"}
_YEARS_TO_DEGREE: Final = {"4yr": 4, "2yr": 2, "less_than_2yr": 1}
HIGH_SCHOOL_CODE: Final = "059999"


def _terms(start: date, persisted: bool | None, level: str, today: date) -> list[tuple[date, date]]:
    """(begin, end) of a student's terms: a fall Aug 26 - Dec 15 and a spring Jan 20 -
    May 10 each year from `start`; only year 1 unless the student persisted; at most the
    years to a degree at that level, and none but the first beginning after `today` (the
    demo records a spring starter as enrolled before the spring begins, and the report
    must say the same)."""
    first_year = start.year if start.month >= 8 else start.year - 1
    years = max(2, _YEARS_TO_DEGREE[level]) if persisted else 1
    terms: list[tuple[date, date]] = []
    for offset in range(years):
        fall = (date(first_year + offset, 8, 26), date(first_year + offset, 12, 15))
        spring = (date(first_year + offset + 1, 1, 20), date(first_year + offset + 1, 5, 10))
        for term in (fall, spring):
            if term[0] >= start and (not terms or term[0] <= today):
                terms.append(term)
    return terms[:8]


def nsc_rows(
    outcomes: pl.DataFrame, students: pl.DataFrame, today: date, seed: int
) -> pl.DataFrame:
    """The detail-report rows (text cells, `NSC_HEADER`) for the searched graduates of one
    part of the demo: those whose `postsecondary_enrolled` is known."""
    searched = outcomes.filter(pl.col("postsecondary_enrolled").is_not_null()).join(
        students.select("student_id", "first_name", "last_name"), on="student_id", how="left"
    )
    rng = np.random.default_rng([seed, 15])
    rows: list[tuple[str | None, ...]] = []
    ymd = "%Y%m%d"
    for row in searched.sort("student_id").iter_rows(named=True):
        who = (
            row["student_id"],
            row["first_name"],
            None,
            row["last_name"],
            None,
            row["student_id"],
        )
        grad = row["graduation_date"].strftime(ymd) if row["graduation_date"] else None
        if not row["postsecondary_enrolled"]:
            rows.append((*who, "N", HIGH_SCHOOL_CODE, grad, *([None] * 13)))
            continue
        level = row["institution_level"]
        colleges = _COLLEGES[level]
        code, name, state, control, degree, major = colleges[int(rng.integers(len(colleges)))]
        terms = _terms(row["postsecondary_start_date"], row["persisted_second_year"], level, today)
        status = rng.choice(["F", "F", "F", "Q", "H", "L"])
        college = (code, name, state, _NSC_LEVEL[level], control)
        for begin, end in terms:
            rows.append(
                (
                    *who,
                    "Y",
                    HIGH_SCHOOL_CODE,
                    grad,
                    *college,
                    begin.strftime(ymd),
                    end.strftime(ymd),
                    str(status),
                    "N",
                    None,
                    None,
                    None,
                    "1",
                )
            )
        if terms and len(terms) >= 2 * _YEARS_TO_DEGREE[level] and row["persisted_second_year"]:
            finished = date(terms[-1][1].year, 5, 20)
            if finished <= today:
                rows.append(
                    (
                        *who,
                        "Y",
                        HIGH_SCHOOL_CODE,
                        grad,
                        *college,
                        None,
                        None,
                        None,
                        "Y",
                        finished.strftime(ymd),
                        degree,
                        major,
                        "1",
                    )
                )
    return pl.DataFrame(rows, schema=dict.fromkeys(NSC_HEADER, pl.String), orient="row")


def write_nsc(spec: DemoSpec, directory: Path, progress: Progress = no_progress) -> dict[str, int]:
    """Write the demo's StudentTracker detail report (`NSC_FILE`) into `directory`."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / NSC_FILE
    path.write_text(",".join(NSC_HEADER) + "\n", encoding="utf-8")
    expected = entrants_per_cohort(spec.students) * len(spec.cohorts)
    done = rows = 0
    progress(0, expected, "starting")
    with path.open("ab") as handle:
        for part in district(spec):
            outcomes = part.tables.get("outcomes")
            if outcomes is not None and outcomes.height:
                frame = nsc_rows(outcomes, part.tables["students"], spec.today, spec.seed)
                frame.write_csv(handle, include_header=False)
                rows += frame.height
            done += part.students
            progress(min(done, expected), expected, part.label)
    progress(expected, expected, "done")
    return {NSC_FILE: rows}


#: Format name -> writer (`pathwise demo --formats DIR` runs each).
def _written_by(writer: Callable[[DemoSpec, Path], Path]) -> FormatWriter:
    """A writer of one file (and its mapping beside it) as a registry writer: rows of data
    in the file it wrote (its header line not counted)."""

    def write(spec: DemoSpec, directory: Path, progress: Progress) -> dict[str, int]:
        progress(0, 1, f"writing {writer.__name__.removeprefix('write_')}")
        path = writer(spec, directory)
        progress(1, 1, f"wrote {path.name}")
        with path.open(encoding="utf-8") as lines:
            return {path.name: max(sum(1 for _ in lines) - 1, 0)}

    return write


FORMAT_WRITERS: Final[dict[str, FormatWriter]] = {
    "nsc": write_nsc,
    "state-fafsa": _written_by(write_state_fafsa),
    "pmm-services": _written_by(write_pmm_services),
    "apricot-services": _written_by(write_apricot_services),
    "oneroster": write_oneroster,
}


def write_formats(
    spec: DemoSpec, directory: Path, *, progress: Progress = no_progress
) -> dict[str, int]:
    """Run every writer of `FORMAT_WRITERS` into `directory`; rows per file written."""
    written: dict[str, int] = {}
    for writer in FORMAT_WRITERS.values():
        written.update(writer(spec, directory, progress))
    return written
