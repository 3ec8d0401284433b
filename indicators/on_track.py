"""The pipeline's on-track split as one more grouping of the cube (docs/indicators.md).

"The on-track split shows, for the cohort, graduation rates of students who were on
track at the end of grade 9 against those who were not." Storing it as a grouping
(`group_by = "on_track_9"`, groups on_track / off_track / unknown) lets it share the
cube's small-cell protection, so the split is never shown with a recoverable cell. The
counts are made with the rest of the cube (`indicators.pipeline.pipeline_cube`).
"""

from __future__ import annotations

from typing import Final

from domain.vocabulary import UNKNOWN_GROUP

ON_TRACK_GROUPING: Final = "on_track_9"
ON_TRACK_GROUPS: Final = ("on_track", "off_track", UNKNOWN_GROUP)
