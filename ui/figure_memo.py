"""Reuse a chart built before from the same inputs.

Building a Plotly figure validates every property it is given: 40-100 ms per chart on the
2-core machines Pathwise runs on, and the pipeline page draws about a dozen. A chart is a
pure function of its inputs (the frames a page read through the policy, and a few
options), so `memo_figure` keys a builder's result by the *values* of its arguments, frames
by their full serialised contents: a rerun that changes one widget rebuilds only the charts
whose inputs changed, and two users share a figure only when they would have built the
very same one (nothing reaches a viewer that its own inputs did not hold).

The figures are shared: callers hand them to `st.plotly_chart` (which reads them) and
never modify them.
"""

from __future__ import annotations

import functools
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import fields, is_dataclass
from typing import Final, ParamSpec

import plotly.graph_objects as go
import polars as pl

#: Figures kept per process (a few dozen per page and grouping; each is a few kB).
CAPACITY: Final = 256

P = ParamSpec("P")
_lock = threading.Lock()
_kept: OrderedDict[Hashable, go.Figure] = OrderedDict()


def value_key(value: object) -> Hashable:
    """A hashable key equal for equal values: frames by their serialised rows and schema,
    dataclasses by their fields, containers element by element."""
    if isinstance(value, pl.DataFrame):
        return ("frame", value.serialize())
    if is_dataclass(value) and not isinstance(value, type):
        return (
            type(value).__qualname__,
            tuple((f.name, value_key(getattr(value, f.name))) for f in fields(value)),
        )
    if isinstance(value, list | tuple):
        return (type(value).__name__, tuple(value_key(v) for v in value))
    if isinstance(value, dict):
        return ("dict", tuple((value_key(k), value_key(v)) for k, v in value.items()))
    if isinstance(value, set | frozenset):
        return ("set", tuple(sorted(map(repr, value))))
    hash(value)  # anything else must be hashable as it is (str, int, date, None, ...)
    return (type(value).__qualname__, value)


def memo_figure(build: Callable[P, go.Figure]) -> Callable[P, go.Figure]:
    """`build`, remembered by the values of its arguments (see the module's docstring)."""
    name = f"{build.__module__}.{build.__qualname__}"

    @functools.wraps(build)
    def remembered(*args: P.args, **kwargs: P.kwargs) -> go.Figure:
        key = (name, value_key(args), value_key(sorted(kwargs.items())))
        with _lock:
            if key in _kept:
                _kept.move_to_end(key)
                return _kept[key]
        figure = build(*args, **kwargs)
        with _lock:
            _kept[key] = figure
            while len(_kept) > CAPACITY:
                _kept.popitem(last=False)
        return figure

    return remembered


def forget_figures() -> None:
    """Drop every remembered figure (tests)."""
    with _lock:
        _kept.clear()
