"""A dependency-free progress bar on stderr, fed by `domain.progress.Progress`."""

from __future__ import annotations

import sys
import time
from typing import TextIO


class ProgressBar:
    """Redraws one line: `[#####.....]  52%  4,160/8,000 students  cohort 2027  3.1s`.

    Without a unit the counts are left out (`[#####.....]  52%  writing student  3.1s`), for
    work reported in phases of different units (an import: bytes checked, rows written).
    """

    def __init__(self, unit: str | None, stream: TextIO | None = None, width: int = 30) -> None:
        self.unit = unit
        self.stream = stream or sys.stderr
        self.width = width
        self.started = time.perf_counter()
        self.interactive = self.stream.isatty()
        self._last_percent = -1

    def __call__(self, done: int, total: int, message: str) -> None:
        total = max(total, 1)
        percent = min(100, int(100 * done / total))
        if not self.interactive and percent == self._last_percent and message != "done":
            return
        self._last_percent = percent
        filled = int(self.width * percent / 100)
        bar = "#" * filled + "." * (self.width - filled)
        elapsed = time.perf_counter() - self.started
        counts = f"{done:,}/{total:,} {self.unit}  " if self.unit else ""
        line = f"[{bar}] {percent:3d}%  {counts}{message}  {elapsed:.1f}s"
        if self.interactive:
            self.stream.write("\r" + line.ljust(100))
            if message == "done":
                self.stream.write("\n")
        else:
            self.stream.write(line + "\n")
        self.stream.flush()
