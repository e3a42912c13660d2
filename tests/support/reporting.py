"""A reporting tool's incremental reader, as the README describes it: the tests check that loading
"everything after position P" over and over ends equal to one full read of the reporting views."""

from __future__ import annotations

from typing import Any

import asyncpg

from projections.queries.exports import ExportView
from projections.queries.feed import ENTRY_KEYS

Rows = dict[str, list[tuple[Any, ...]]]
"""A view's rows by entry key."""


class IncrementalReader:
    """A copy of every reporting view, kept up to date from the change log."""

    def __init__(self) -> None:
        self.position = 0
        self.views: dict[str, Rows] = {view.value: {} for view in ExportView}
        self.reload_at = 0
        self.reloads = 0

    async def load(self, conn: asyncpg.Connection) -> int:
        """Apply every change after the position last read; return how many changes were read."""
        async with conn.transaction(isolation="repeatable_read", readonly=True):
            horizon = await conn.fetchrow("SELECT position, reload_at FROM reporting.horizon")
            assert horizon is not None
            after = self.position
            if horizon["reload_at"] != self.reload_at:  # a rebuild: the log before it is gone
                self.views, after = {view.value: {} for view in ExportView}, 0
                self.reload_at, self.reloads = horizon["reload_at"], self.reloads + 1
            changes = await conn.fetch(
                "SELECT view, entry_key FROM reporting.changes WHERE position > $1 AND view <> '*'", after
            )
            for change in changes:  # every row of a changed entry is replaced (none left: removed)
                self.views[change["view"]].pop(change["entry_key"], None)
            for view, rows in self.views.items():
                # An entry's rows all carry its last change's position: those read replace the copy's.
                fresh: Rows = {}
                for row in await conn.fetch(f"SELECT * FROM reporting.{view} WHERE position > $1", after):  # noqa: S608
                    fresh.setdefault(row[ENTRY_KEYS[view]], []).append(tuple(row.values()))
                rows.update(fresh)
            # Not the highest position seen: a change at or below the horizon can still commit.
            self.position = horizon["position"]
        return len(changes)


async def full_read(conn: asyncpg.Connection) -> dict[str, list[tuple[Any, ...]]]:
    """Every reporting view read afresh, each as a sorted list of rows."""
    views: dict[str, list[tuple[Any, ...]]] = {}
    for view in ExportView:
        rows = await conn.fetch(f"SELECT * FROM reporting.{view.value}")  # noqa: S608
        views[view.value] = [tuple(row.values()) for row in rows]
    return {view: sorted(rows, key=repr) for view, rows in views.items()}


def flattened(reader: IncrementalReader) -> dict[str, list[tuple[Any, ...]]]:
    """The reader's copy, in the form ``full_read`` answers."""
    return {
        view: sorted((row for rows in by_key.values() for row in rows), key=repr)
        for view, by_key in reader.views.items()
    }
