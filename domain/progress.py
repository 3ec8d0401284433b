"""One progress callback shape for long work (demo build, imports): CLI bar and Streamlit."""

from __future__ import annotations

from collections.abc import Callable

#: `progress(done, total, message)`; `done` and `total` in the caller's unit (rows, students).
Progress = Callable[[int, int, str], None]


def no_progress(_done: int, _total: int, _message: str) -> None:
    """The default callback: report nothing."""
