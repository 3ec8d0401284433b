"""The registry of benchmark suites: name -> function(sizes, runs) -> markdown section.

To add a suite, write a module with `run(sizes: list[int], runs: int) -> str` and add one
line below. The function is imported only when its suite runs.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib import import_module

Suite = Callable[[list[int], int], str]

#: name -> "module:function"
SUITES: dict[str, str] = {
    "indicators": "bench.indicators_suite:run",
    "queries": "bench.queries_suite:run",
    "app": "bench.app_suite:run",
    "import": "bench.import_bench:suite",
    "outcomes": "bench.outcomes_suite:run",
    "suggestions": "bench.suggestions_suite:run",
    "coverage": "bench.coverage_suite:run",
    "formats": "bench.formats_suite:run",
}


def load(name: str) -> Suite:
    module, function = SUITES[name].split(":")
    suite: Suite = getattr(import_module(module), function)
    return suite
