"""Pathwise indicators: pure Polars functions from import-format frames to indicator frames.

No I/O, no database, no user interface: frames in, frames out. The contract is
docs/indicators.md (rules), docs/access-rules.md (small cells) and docs/command-line.md (output shapes).

- `indicators.settings`: `Settings`, `load_settings`, `SettingsError`
- `indicators.tables`: `RawTables` (the input frames)
- `indicators.student`: `compute_student_indicators`; `indicators.tiers`: `flags_and_tier`
- `indicators.trajectory`: `attendance_trajectory`
- `indicators.pipeline`: `cohort_stages`, `funnel`, `leaks`, `biggest_leak`,
  `subgroup_gaps`, `on_track_split`, `pipeline_cube`
- `indicators.suppression`: `suppress_groups`, `suppress_funnel`, `suppress_cube`,
  `show_exact`
- `indicators.definitions`: `Definition`, `definitions`, `explain`
"""

from indicators.definitions import Definition, definitions, explain
from indicators.pipeline import (
    biggest_leak,
    cohort_stages,
    funnel,
    leaks,
    on_track_split,
    pipeline_cube,
    subgroup_gaps,
)
from indicators.settings import Settings, SettingsError, load_settings
from indicators.student import compute_student_indicators
from indicators.suppression import (
    SuppressedGroups,
    show_exact,
    suppress_cube,
    suppress_funnel,
    suppress_groups,
)
from indicators.tables import RawTables
from indicators.tiers import flags_and_tier
from indicators.trajectory import attendance_trajectory

__all__ = [
    "Definition",
    "RawTables",
    "Settings",
    "SettingsError",
    "SuppressedGroups",
    "attendance_trajectory",
    "biggest_leak",
    "cohort_stages",
    "compute_student_indicators",
    "definitions",
    "explain",
    "flags_and_tier",
    "funnel",
    "leaks",
    "load_settings",
    "on_track_split",
    "pipeline_cube",
    "show_exact",
    "subgroup_gaps",
    "suppress_cube",
    "suppress_funnel",
    "suppress_groups",
]
