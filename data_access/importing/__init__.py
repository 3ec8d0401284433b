"""Loading district and partner files in the import format (docs/import-format.md).

Public API: `import_path` (a file or a folder), `import_files` (uploaded bytes by name),
both returning an `ImportResult` or raising `ImportRejected` (problems; nothing written)
or `ImportRefused` (a demo database) or `ImportBusy` (another import is running; nothing
read or written). `report_lines` formats problems as the command line
prints them. Modules: `sources` (file names), `reading` and `csv_layout` (bytes to text
cells with line numbers), `workbook` (a workbook's unpacked size and formula cells, before
it is read), `cells` (one column's values), `checks` (one file), `references`
(across files and the database), `daily_attendance` (daily rows to snapshots), `writing`
(upsert and history), `lock` (one import at a time), `results` (what an import gives back),
`api` (the order of work).
"""

from data_access.importing.api import ImportRefused, import_files, import_path
from data_access.importing.lock import ImportBusy
from data_access.importing.problems import Problem, report_lines
from data_access.importing.results import FileResult, ImportRejected, ImportResult

__all__ = [
    "FileResult",
    "ImportBusy",
    "ImportRefused",
    "ImportRejected",
    "ImportResult",
    "Problem",
    "import_files",
    "import_path",
    "report_lines",
]
