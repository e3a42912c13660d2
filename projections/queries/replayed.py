"""A person's trajectory and learning log as of a moment, from the case's entries rather than the
projection tables: a correction replaces a table's rows (the original is gone from the read model),
so "as it stood at T" is folded from the entries known at T.

The rows are built by the read models' own row builders and handed to the same functions the
current read uses (``readings_of``, as ``trajectory_of`` does, and ``learning_log_of``), so a replay
and the read cannot drift.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from events.entries import Entry, ReviewRecorded
from events.replay import as_known
from projections.models.base import ReadModel
from projections.models.care import CareDelivery
from projections.models.trajectory import Trajectories
from projections.queries.learning import LearningLog, learning_log_of
from projections.queries.trajectory import Readings, Trajectory, readings_of
from projections.schema import Table

__all__ = ["READ_TABLES", "SKIPPED", "forget_case", "replayed_learning_log", "replayed_trajectory", "rows_of"]

_MODELS: tuple[ReadModel, ...] = (Trajectories(), CareDelivery())
_TABLES: dict[str, Table] = {table.name: table for model in _MODELS for table in model.tables}
_COLUMNS = {name: tuple(column for column, _ in table.columns) for name, table in _TABLES.items()}

READ_TABLES = frozenset(
    {"ratings", "measures", "case_status", "escalations", "escalation_resolutions"}
    | {"setbacks", "decisions", "decision_causes"}
)
"""The tables the trajectory and the learning log read (their queries' FROM clauses)."""
SKIPPED: dict[tuple[type[ReadModel], type[Entry]], str] = {
    (CareDelivery, ReviewRecorded): "its one row (reviews) is for review impact, not read here",
}
"""Rows not built for a replay, and why: a review's care row costs half the fold (it is decoded
through a view) and neither answer reads it. ``tests/unit/test_replay.py`` checks each is unread."""

Rows = dict[str, list[dict[str, Any]]]


class _Remembered:
    """The rows, and the readings of the trajectory, of the most recently folded sets of entries.
    Entries never change once stored, so a case's entries at the same versions always give the same
    rows: a record read again (a page view, a replay at the same moment) is not folded again (a
    thousand entries took 8 ms, and their readings and trends 5 ms more)."""

    def __init__(self, sets: int = 32) -> None:
        self._sets = sets
        self._kept: OrderedDict[tuple[UUID, tuple[int, ...]], tuple[Rows, list[Readings]]] = OrderedDict()
        self._lock = threading.Lock()

    def _of(self, case_id: UUID, entries: Sequence[tuple[int, Entry]]) -> tuple[Rows, list[Readings]]:
        key = (case_id, tuple(version for version, _ in entries))
        with self._lock:
            kept = self._kept.get(key)
            if kept is not None:
                self._kept.move_to_end(key)
                return kept
        kept = (rows_of(entries), [])
        with self._lock:
            kept = self._kept.setdefault(key, kept)
            while len(self._kept) > self._sets:
                self._kept.popitem(last=False)
        return kept

    def rows(self, case_id: UUID, entries: Sequence[tuple[int, Entry]]) -> Rows:
        """The rows of these entries (read, never changed, by the caller)."""
        return self._of(case_id, entries)[0]

    def readings(self, case_id: UUID, entries: Sequence[tuple[int, Entry]]) -> Readings:
        """The trajectory's readings of these entries."""
        rows, readings = self._of(case_id, entries)
        if not readings:
            readings.append(
                readings_of(rows["ratings"], rows["measures"], rows["case_status"], _with_resolutions(rows))
            )
        return readings[0]

    def forget(self, case_id: UUID) -> None:
        """Drop the case's remembered rows (its text was erased since they were made)."""
        with self._lock:
            for key in [key for key in self._kept if key[0] == case_id]:
                del self._kept[key]


_REMEMBERED = _Remembered()
forget_case = _REMEMBERED.forget
"""Drop what is remembered of a case whose text was erased."""


def rows_of(entries: Sequence[tuple[int, Entry]]) -> Rows:
    """The rows the trajectory and care models hold for these entries in ``READ_TABLES``, each entry
    as corrected by the corrections among them (marked ``corrected``), in the order things happened."""
    current, corrected = as_known(entries)
    tables: Rows = {name: [] for name in _TABLES}
    for entry in current.values():
        for model in _MODELS:
            if (type(model), type(entry)) in SKIPPED:
                continue
            for table, values in model.rows(entry, None):
                row = dict(zip(_COLUMNS[table], values, strict=True))
                row["entry_id"], row["corrected"] = entry.entry_id, entry.entry_id in corrected
                tables[table].append(row)
    for name, rows in tables.items():
        if "occurred_at" in _TABLES[name].column_names:
            rows.sort(key=lambda row: row["occurred_at"])
    return tables


def _with_resolutions(rows: Rows) -> list[dict[str, Any]]:
    """Escalations with ``resolved_at`` and ``resolution``, as the read's LEFT JOIN gives them."""
    resolved = {r["escalation_id"]: r for r in rows["escalation_resolutions"]}
    return [
        {
            **e,
            "resolved_at": resolved[e["entry_id"]]["occurred_at"] if e["entry_id"] in resolved else None,
            "resolution": resolved[e["entry_id"]]["resolution"] if e["entry_id"] in resolved else None,
        }
        for e in rows["escalations"]
    ]


def replayed_trajectory(case_id: UUID, entries: Sequence[tuple[int, Entry]], now: datetime) -> Trajectory:
    """The trajectory from these entries (of one case), with ``now`` as "now" for its windows and
    labels."""
    return _REMEMBERED.readings(case_id, entries).at(case_id, now)


def replayed_learning_log(case_id: UUID, entries: Sequence[tuple[int, Entry]]) -> LearningLog:
    """The learning log from these entries: setbacks and escalations and the decisions naming them."""
    rows = _REMEMBERED.rows(case_id, entries)
    decisions = {d["entry_id"]: d for d in rows["decisions"]}
    decided = [
        {**decisions[cause["entry_id"]], "cause_id": cause["cause_id"]}
        for cause in rows["decision_causes"]
        if cause["entry_id"] in decisions
    ]
    decided.sort(key=lambda d: d["occurred_at"])
    return learning_log_of(case_id, rows["setbacks"], _with_resolutions(rows), decided)
