"""A dependency-free progress bar on stderr, fed by `data_access.progress.Progress`."""

from __future__ import annotations

import sys
import time
from typing import TextIO


class ProgressBar:
    """Redraws one line: `[#####.....]  52%  4,160/8,000 students  cohort 2027  3.1s`."""

    def __init__(self, unit: str, stream: TextIO | None = None, width: int = 30) -> None:
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
        line = f"[{bar}] {percent:3d}%  {done:,}/{total:,} {self.unit}  {message}  {elapsed:.1f}s"
        if self.interactive:
            self.stream.write("\r" + line.ljust(100))
            if message == "done":
                self.stream.write("\n")
        else:
            self.stream.write(line + "\n")
        self.stream.flush()
