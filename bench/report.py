"""Shared pieces of every suite: timing, the machine, and writing docs/benchmarks.md."""

from __future__ import annotations

import gc
import os
import platform
import re
import time
from collections.abc import Callable
from importlib import metadata
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")

DOCS_HEADER = """# Benchmarks

Measured figures only, written by `python -m bench` (`make bench`). Each suite replaces
its own section between its markers; the rest of this file is left as it is.
"""


def best_of(runs: int, work: Callable[[], T]) -> tuple[float, T]:
    """The fastest of `runs` timed calls (seconds, time.perf_counter) and the last result."""
    best = float("inf")
    result: T
    for _ in range(max(1, runs)):
        gc.collect()
        start = time.perf_counter()
        result = work()
        best = min(best, time.perf_counter() - start)
    return best, result


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def _memory_gib() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) / 1024**2
    except OSError:
        pass
    return None


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


def machine() -> str:
    """One line describing the machine and the library versions."""
    memory = _memory_gib()
    ram = f"{memory:.1f} GiB RAM" if memory is not None else "RAM unknown"
    return (
        f"{_cpu_model()}, {os.cpu_count()} cores, {ram}; {platform.system()} "
        f"{platform.release()}; Python {platform.python_version()}, Polars "
        f"{_version('polars')}, pandas {_version('pandas')}, NumPy {_version('numpy')}"
    )


def memory_available() -> int | None:
    """Bytes of memory available now (MemAvailable), if the system says."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def load_average() -> str:
    """The 1-minute load average, to tell a quiet machine from a shared, busy one."""
    try:
        return f"{os.getloadavg()[0]:.2f}"
    except OSError:
        return "unknown"


def cpu_ticks() -> tuple[int, int] | None:
    """(all CPU time, the part the host took for other machines: steal), in ticks since
    boot, from Linux's /proc/stat; None elsewhere."""
    try:
        fields = Path("/proc/stat").read_text(encoding="ascii").splitlines()[0].split()[1:]
    except (OSError, IndexError):
        return None
    ticks = [int(v) for v in fields]
    return sum(ticks[:8]), (ticks[7] if len(ticks) > 7 else 0)


def stolen_share(before: tuple[int, int] | None, after: tuple[int, int] | None) -> str:
    """The share of this machine's CPU time the host gave to other machines between two
    `cpu_ticks` (steal time): the suite's figures are slower by about as much."""
    if before is None or after is None or after[0] <= before[0]:
        return "unknown"
    return f"{100 * (after[1] - before[1]) / (after[0] - before[0]):.0f}%"


def write_section(path: Path, name: str, body: str) -> None:
    """Put `body` between the markers of suite `name` in `path` (created if missing),
    replacing only that section; a new section is appended."""
    start, end = f"<!-- bench:{name} -->", f"<!-- /bench:{name} -->"
    block = f"{start}\n{body.strip()}\n{end}"
    text = path.read_text(encoding="utf-8") if path.exists() else DOCS_HEADER
    pattern = re.compile(re.escape(start) + r".*?" + re.escape(end), re.DOTALL)
    if pattern.search(text):
        text = pattern.sub(lambda _: block, text)
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
