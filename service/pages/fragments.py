"""Parts of a record page rendered once for what they show, and remembered: a trajectory figure (SVG,
summary sentence and data table) for its series and markers, a timeline entry for the entry, its
corrections and the statements about it.

Each is a pure function of what it is drawn from, and what it is drawn from never changes once
stored (an entry is never altered; a correction or statement is a new entry, so a new key). A record
is viewed far more often than it changes: drawing a series of a thousand readings with its table
took 10 ms, and laying out a page of a hundred entries 25 ms, on every view.
"""

from __future__ import annotations

import functools
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Sequence
from typing import Generic, TypeVar
from uuid import UUID

import msgspec
from markupsafe import Markup

from projections.queries.trajectory import Series, Trajectory
from service.pages.caseload import LABEL_TAGS
from service.pages.charts import Marker, chart
from service.pages.templating import environment
from service.pages.timeline import EntryNames, TimelineEntry

__all__ = ["Remembered", "figures", "timeline_entries"]

V = TypeVar("V")


@functools.cache
def _macro(template: str, name: str) -> Callable[..., Markup]:
    """A macro of the pages' templates, from an environment of its own (with the pages' filters)."""
    macro: Callable[..., Markup] = getattr(environment().get_template(template).module, name)
    return macro


class Remembered(Generic[V]):
    """Values by key, up to ``budget`` in all as ``size`` counts them (the least recently used
    leave first)."""

    def __init__(self, budget: int, size: Callable[[V], int] = len) -> None:  # type: ignore[assignment]
        self._budget = budget
        self._size = size
        self._held = 0
        self._values: OrderedDict[Hashable, V] = OrderedDict()
        self._lock = threading.Lock()

    def of(self, key: Hashable, make: Callable[[], V]) -> V:
        """The value kept under ``key``, else ``make()`` kept under it."""
        with self._lock:
            if key in self._values:
                self._values.move_to_end(key)
                return self._values[key]
        value = make()
        with self._lock:
            if key not in self._values:
                self._values[key] = value
                self._held += self._size(value)
            while self._held > self._budget and self._values:
                _, dropped = self._values.popitem(last=False)
                self._held -= self._size(dropped)
        return value


_FIGURES: Remembered[Markup] = Remembered(budget=16_000_000)
_ENTRIES: Remembered[Markup] = Remembered(budget=16_000_000)
_ENCODE = msgspec.json.Encoder().encode


def figures(found: Trajectory, markers: Sequence[Marker]) -> list[Markup]:
    """One figure per domain, self-rating and scored measure with readings, in that order."""
    return [
        _FIGURES.of(_ENCODE((series, markers)), functools.partial(_figure, series, markers))
        for series in (*found.domains, *found.self_ratings, *found.instruments)
        if series.readings
    ]


def _figure(series: Series, markers: Sequence[Marker]) -> Markup:
    made = chart(series, list(markers))
    return Markup() if made is None else _macro("_chart.jinja", "trajectory_chart")(made, series, LABEL_TAGS)


def timeline_entries(
    case_id: UUID, entries: Sequence[TimelineEntry], names: EntryNames, erasures: int = 0
) -> list[Markup]:
    """The entries as the timeline shows them. The entries an entry links to were recorded before
    it, so their names read the same in every later view of the record, until an erasure (counted
    by ``erasures``, the case's ``text_erased`` entries) makes text read as erased: a new key."""
    macro = _macro("_entry.jinja", "timeline_entry")
    return [
        _ENTRIES.of(
            (
                case_id,
                erasures,
                e.version,
                tuple(c.version for c in e.corrections),
                tuple(s.version for s in e.statements),
            ),
            functools.partial(macro, e, names),
        )
        for e in entries
    ]
