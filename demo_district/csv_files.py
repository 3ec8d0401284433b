"""The demo district written as import files (`pathwise demo --csv DIR`).

One CSV file per import file, in the column order of `domain.import_format`, with the
cells as docs/import-format.md writes them: dates `YYYY-MM-DD`, booleans `Y`/`N`, blank for
unknown, lists joined by `;`. The district is generated part by part and each part is
appended to the files, so memory stays flat however many students are written.

The demo records attendance as cumulative snapshots (`attendance.csv`), so its
`attendance_daily.csv` holds the header row only: it shows the columns, and importing it
adds nothing.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from demo_district.generate import DemoSpec, district, entrants_per_cohort
from domain.import_format import FILE_FORMATS, FileFormat
from domain.progress import Progress, no_progress


def import_text(frame: pl.DataFrame, fmt: FileFormat) -> pl.DataFrame:
    """`frame` in the import format's text form, columns in the format's order."""
    cells = []
    for name in fmt.column_names:
        column = pl.col(name)
        dtype = frame.schema[name]
        if dtype == pl.Boolean:
            column = pl.when(column).then(pl.lit("Y")).when(~column).then(pl.lit("N"))
        elif dtype == pl.Date:
            column = column.dt.strftime("%Y-%m-%d")
        else:
            column = column.cast(pl.String)
        cells.append(column.alias(name))
    return frame.select(cells)


def write_district_csv(
    spec: DemoSpec, directory: Path, *, progress: Progress = no_progress
) -> dict[str, int]:
    """Write every import file of the demo district into `directory`; rows per file.

    Existing files of those names are replaced; `directory` is created if needed."""
    directory.mkdir(parents=True, exist_ok=True)
    rows = dict.fromkeys(FILE_FORMATS, 0)
    for name, fmt in FILE_FORMATS.items():
        path = directory / f"{name}.csv"
        path.write_text(",".join(fmt.column_names) + "\n", encoding="utf-8")
    expected = entrants_per_cohort(spec.students) * len(spec.cohorts)
    done = 0
    progress(0, expected, "starting")
    for part in district(spec):
        for name, frame in part.tables.items():
            if name.startswith("_"):
                continue
            fmt = FILE_FORMATS[name]
            with (directory / f"{name}.csv").open("ab") as handle:
                import_text(frame, fmt).write_csv(handle, include_header=False)
            rows[name] += frame.height
        done += part.students
        progress(min(done, expected), expected, part.label)
    progress(expected, expected, "done")
    return rows
