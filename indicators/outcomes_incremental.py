"""Program outcomes recomputed only where their inputs changed (docs/outcomes.md,
"When the figures are recomputed").

Program outcomes are the longest step of the refresh (about 14 CPU-seconds at 100,000
students). Most refreshes follow an import that does not touch what they read (releases,
referrals, caseloads), or one that touches a few measures (a Clearinghouse file, a FAFSA
file), or the nightly one: a new day and the current year's attendance, which leaves
every earlier school year's figures as they were. So each refresh fingerprints what the
method reads (`outcome_inputs`) and compares it with the fingerprint stored beside the
figures (`outcomes_plan`). The fingerprint has two parts:

- the *shared* inputs, which every school year's figures read: the FAFSA statuses, the
  college outcomes, the settings, the method (its code, library versions and schema),
  and which classes' college stages are observable at the as-of date
  (`observable_classes`; it moves on the few days a stage's window closes);
- one entry per *studied* school year Y (a year with a served student) of what only Y's
  figures read (`indicators.outcomes_keys`, `_years_read`): Y's enrollments and
  attendance, the course marks of Y-1 and Y, the students rows of the students enrolled
  in Y, the test results of the years before Y (prior proficiency), the services rows
  overlapping Y, Y's served students (start date, follow-up end clipped at Y's settling
  date, dose), and the as-of date itself until Y is *settled*. So the nightly import
  of a student information system, with its new enrollees and this year's test results,
  leaves the complete years' figures standing. (Student codes, `indicators.outcomes_keys`,
  keep the order of the ids, so a new student elsewhere moves no year's rows.)

Y is settled when the as-of date is after every date Y's figures compare it with
(`settling_date`): July 31 of Y, the end of Y's last term, Y's latest attendance
snapshot, enrollment entry and service start. From then on a later as-of date selects the
same rows and windows: a service still open moves its follow-up end every day, but past
Y's last snapshot, which no window reads (a window ends at the latest snapshot of Y on or
before it). So Y's entry stays the same from day to day.

The plan (`OutcomesPlan`):
- a shared input other than `fafsa` and `outcomes` changed, or nothing is stored: every
  figure is computed again;
- only `fafsa` and/or `outcomes` changed: the measures that read them
  (`MEASURE_SOURCES`), in every year. A grade-12 measure's matched students do not depend
  on those tables (a student in its scope without a FAFSA status or a college record
  counts as not completed or not enrolled), so the figures equal, to the last bit, what a
  full computation gives (tests/data_access/test_outcomes_incremental.py);
- only some years' entries changed (or a year appeared or went): every measure of those
  years; the stored figures of the other years are kept. A year computed alone gives the
  whole computation's rows for it, to the last bit: each program-year is matched on its
  own, with draws seeded by its own keys (tests/demo/test_outcomes_by_year.py);
- both of the last two at once: every measure of those years, and the measures of the
  changed tables in the other years (`OutcomesPlan.elsewhere`): the FAFSA import of a new
  day recomputes the current year and `fafsa_completed` of the complete ones;
- nothing: the stored figures are kept.

A fingerprint of rows is their count and the sum (modulo 2**64) of Polars' 64-bit hash of
every row: independent of the order the database returns them in, and stable within one
Polars version (part of the method's fingerprint). Hashing the 7 million rows of the
100,000-student demo takes about 0.2 s.

Pure Polars; no I/O (the caller passes the method's fingerprint).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import date
from typing import Final

import numpy as np
import polars as pl

from domain.vocabulary import OUTCOME_MEASURES
from indicators.observable import observable_from
from indicators.outcomes import STAGE_OF, method_services
from indicators.outcomes_exposure import served_students
from indicators.settings import Settings
from indicators.tables import RawTables

#: The tables every school year's figures read whole.
SHARED_TABLES: Final = ("fafsa", "outcomes")
#: The tables of a studied year's entry, and which school years of them (offsets from the
#: studied year) its figures read (`indicators.outcomes_keys._years_read`).
YEAR_TABLES: Final[Mapping[str, tuple[int, ...]]] = {
    "enrollments": (0,),
    "attendance": (0,),
    "course_marks": (-1, 0),
}
#: Tables only some measures read: a change in one recomputes those measures alone.
MEASURE_SOURCES: Final[Mapping[str, frozenset[str]]] = {
    "fafsa": frozenset({"fafsa_completed"}),
    "outcomes": frozenset({"graduated", "enrolled_postsecondary", "persisted"}),
}
#: Every measure (`OutcomesPlan.measures` when a whole year, or everything, is computed).
EVERY_MEASURE: Final = frozenset(OUTCOME_MEASURES)
#: The prefix of a studied year's key in the fingerprint: "year:2026".
YEAR_KEY: Final = "year:"


@dataclass(frozen=True)
class OutcomesPlan:
    """What a refresh computes again: `measures` in the school years `years` (None: every
    year), and the measures `elsewhere` in every other studied year. The stored figures
    of everything else are kept."""

    measures: frozenset[str]
    years: frozenset[int] | None = None
    elsewhere: frozenset[str] = frozenset()

    @property
    def everything(self) -> bool:
        return self.measures == EVERY_MEASURE and self.years is None

    @property
    def nothing(self) -> bool:
        return (not self.measures or self.years == frozenset()) and not self.elsewhere


EVERYTHING: Final = OutcomesPlan(EVERY_MEASURE)
NOTHING: Final = OutcomesPlan(frozenset(), frozenset())


def digest(text: str) -> str:
    """16 hex digits of a BLAKE2b of `text` (the stored fingerprint must stay short)."""
    return hashlib.blake2b(text.encode(), digest_size=8).hexdigest()


def _sums(frame: pl.DataFrame) -> tuple[int, int]:
    """(row count, sum of the row hashes modulo 2**64)."""
    if frame.height == 0:
        return 0, 0
    return frame.height, int(frame.hash_rows(seed=0).to_numpy().sum(dtype=np.uint64))


def frame_fingerprint(frame: pl.DataFrame) -> str:
    """`digest` of the row count and the sum of the row hashes (see the module): the same
    for the same rows in any order."""
    count, total = _sums(frame)
    return digest(f"{count}:{total}")


def _year_sums(frame: pl.DataFrame, years: set[int]) -> dict[int, tuple[int, int]]:
    """`_sums` of the rows of each school year of `years` in `frame` (hashed once)."""
    if frame.height == 0:
        return {}
    hashes = frame.hash_rows(seed=0).to_numpy()
    column = frame["school_year"].to_numpy()
    return {year: _masked_sums(hashes, column == year) for year in sorted(years)}


def _masked_sums(hashes: np.ndarray, chosen: np.ndarray) -> tuple[int, int]:
    """`_sums` of the rows `chosen` picks, from their row hashes."""
    return int(chosen.sum()), int(hashes[chosen].sum(dtype=np.uint64))


def _students_of_years(tables: RawTables, years: list[int]) -> dict[int, tuple[int, int]]:
    """Per year of `years`, `_sums` of the students table's rows of the students with an
    enrollment in that year (any entry date: a few more than the method reads, never
    fewer). Their group fields, need flags and class are all that a year's figures read
    of the students table (`student_years`, `later_outcomes`); school and grade come
    from the year's enrollments, which have entries of their own."""
    if tables.students.height == 0:
        return {}
    hashes = tables.students.hash_rows(seed=0).to_numpy()
    ids = tables.students["student_id"]
    return {
        year: _masked_sums(
            hashes,
            ids.is_in(
                tables.enrollments.filter(pl.col("school_year") == year)["student_id"].implode()
            ).to_numpy(),
        )
        for year in years
    }


def _prior_results_of_years(tables: RawTables, years: list[int]) -> dict[int, tuple[int, int]]:
    """Per year Y of `years`, `_sums` of the test results of school years before Y: a
    year's prior proficiency reads the latest result up to July 31 of Y-1
    (`indicators.outcomes_measures.prior_proficiency`), so results of Y or later (this
    spring's tests, for the current year) change no figure of Y."""
    frame = tables.test_scores
    if frame.height == 0:
        return {}
    hashes = frame.hash_rows(seed=0).to_numpy()
    column = frame["school_year"].fill_null(np.iinfo(np.int64).max).to_numpy()
    return {year: _masked_sums(hashes, column <= year - 1) for year in years}


def _overlapping(services: pl.DataFrame, year: int) -> pl.DataFrame:
    """The services rows overlapping school year `year` (Aug 1 of year-1 to Jul 31 of
    year), as `indicators.outcomes_exposure.blocked` reads them."""
    return services.filter(
        (pl.col("start_date") <= date(year, 7, 31))
        & (pl.col("end_date").is_null() | (pl.col("end_date") >= date(year - 1, 8, 1)))
    )


def _latest(frame: pl.DataFrame, column: str) -> date | None:
    value = frame[column].max() if frame.height else None
    return value if isinstance(value, date) else None


def settling_date(
    year: int,
    *,
    attendance: pl.DataFrame,
    enrollments: pl.DataFrame,
    services: pl.DataFrame,
    settings: Settings,
) -> date:
    """The last date school year `year`'s figures compare the as-of date with (see the
    module): July 31 of the year, the end of its last term, and the latest attendance
    snapshot, enrollment entry and service start of its rows (the frames: its rows
    only)."""
    # A term's end as `indicators.outcomes_measures.term_end` dates it, and the year's end
    # as the grade-9 measure's scope does (`indicators.outcomes._scope`).
    terms = [date(year - (month >= 8), month, day) for _, month, day in settings.outcomes_term_ends]
    year_end = [date(year, m, d) for term, m, d in settings.outcomes_term_ends if term == "Y"]
    found = [
        date(year, 7, 31),
        *terms,
        *year_end,
        _latest(attendance, "as_of_date"),
        _latest(enrollments, "entry_date"),
        _latest(services, "start_date"),
    ]
    return max(d for d in found if d is not None)


def observable_classes(as_of: date) -> dict[str, int]:
    """Per college stage a measure reads (`indicators.outcomes.STAGE_OF`), the latest class
    (cohort year) whose stage is observable at `as_of`: a stage of class C is observable
    from `observable_from(stage, C)`, later for later classes."""
    found = {}
    for stage in sorted(set(STAGE_OF.values())):
        cohort = as_of.year + 2
        while observable_from(stage, cohort) > as_of:
            cohort -= 1
        found[stage] = cohort
    return found


def outcome_inputs(
    tables: RawTables, services: pl.DataFrame, as_of: date, settings: Settings, method: str
) -> dict[str, str]:
    """The fingerprint of everything the outcome method reads (see the module): one entry
    per shared table, `settings`, `method`, `observable`, and `year:Y` per studied year."""
    found = {name: frame_fingerprint(getattr(tables, name)) for name in SHARED_TABLES}
    found["settings"] = digest(repr(sorted(asdict(settings).items())))
    found["method"] = digest(method)
    found["observable"] = digest(json.dumps(observable_classes(as_of), sort_keys=True))
    services = method_services(services)
    served = served_students(services, as_of, settings)
    studied = sorted(served["school_year"].unique().to_list())
    per_table = {
        name: _year_sums(getattr(tables, name), {y + o for y in studied for o in offsets})
        for name, offsets in YEAR_TABLES.items()
    }
    students = _students_of_years(tables, studied)
    prior_results = _prior_results_of_years(tables, studied)
    for year in studied:
        rows = _overlapping(services, year)
        settles = settling_date(
            year,
            attendance=tables.attendance.filter(pl.col("school_year") == year),
            enrollments=tables.enrollments.filter(pl.col("school_year") == year),
            services=rows,
            settings=settings,
        )
        parts: dict[str, object] = {
            name: [per_table[name].get(year + offset, (0, 0)) for offset in offsets]
            for name, offsets in YEAR_TABLES.items()
        }
        parts["students"] = [students.get(year, (0, 0))]
        parts["test_scores"] = [prior_results.get(year, (0, 0))]
        parts["services"] = [_sums(rows)]
        parts["served"] = [
            _sums(
                served.filter(pl.col("school_year") == year).with_columns(
                    pl.min_horizontal("follow_end", pl.lit(settles))
                )
            )
        ]
        parts["as_of"] = "settled" if as_of > settles else as_of.isoformat()
        found[f"{YEAR_KEY}{year}"] = digest(json.dumps(parts, sort_keys=True))
    return found


def _shared(fingerprint: Mapping[str, str]) -> dict[str, str]:
    return {k: v for k, v in fingerprint.items() if not k.startswith(YEAR_KEY)}


def outcomes_plan(previous: Mapping[str, str] | None, current: Mapping[str, str]) -> OutcomesPlan:
    """What to compute again (see the module): everything without a previous fingerprint
    or when a shared input other than `MEASURE_SOURCES` changed; the measures of
    `MEASURE_SOURCES` when only their tables changed; every measure of the years whose
    entry changed (appeared or went), with the measures of `MEASURE_SOURCES` in the other
    years when those changed too; nothing when nothing changed."""
    if previous is None:
        return EVERYTHING
    before, now = _shared(previous), _shared(current)
    if set(before) != set(now):
        return EVERYTHING
    changed = {key for key in now if before[key] != now[key]}
    if not changed <= set(MEASURE_SOURCES):
        return EVERYTHING
    measures = frozenset().union(*(MEASURE_SOURCES[key] for key in changed))
    year_keys = (set(previous) | set(current)) - set(before) - set(now)
    years = frozenset(
        int(key.removeprefix(YEAR_KEY))
        for key in year_keys
        if previous.get(key) != current.get(key)
    )
    if measures and years:
        return OutcomesPlan(EVERY_MEASURE, years, elsewhere=measures)
    if measures:
        return OutcomesPlan(measures)
    if years:
        return OutcomesPlan(EVERY_MEASURE, years)
    return NOTHING
