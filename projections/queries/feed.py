"""The feed of reporting changes: which entry's rows changed in which reporting view, position by
position, pseudonymised (``reporting.changes``), never past the horizon (``reporting.horizon``).

Only positions at or below the horizon are read: both projections have committed everything up to
it, so no change at or below it is still to come and a reader that resumes after a position it was
sent misses nothing and receives nothing twice. A page holds whole positions, for the same reason.
"""

from __future__ import annotations

from datetime import datetime

import msgspec

from projections.queries import Reader

__all__ = ["ENTRY_KEYS", "FEED_PROJECTIONS", "Change", "FeedPage", "Position", "read_feed"]

FEED_PROJECTIONS = ("care", "trajectory")
"""The projections whose change logs the feed reads (the horizon is the lower of their positions)."""

ENTRY_KEYS = {
    "people": "entry_key",
    "case_status": "entry_key",
    "reviews": "review_key",
    "plan_decisions": "decision_key",
    "decision_causes": "decision_key",
    "setbacks": "setback_key",
    "escalations": "escalation_key",
    "ratings": "entry_key",
    "outcome_measures": "entry_key",
}
"""The column of each reporting view holding the key a change names (the view's own key where it
has one, else ``entry_key``)."""

_PAGE = """
WITH horizon AS (SELECT position FROM reporting.horizon),
last AS (
    SELECT max(position) AS position FROM (
        SELECT DISTINCT c.position FROM reporting.changes c, horizon h
        WHERE c.position > $1 AND c.position <= h.position ORDER BY c.position LIMIT $2
    ) page
)
SELECT c.position, c.view, c.entry_key, c.removed, c.updated_at, h.position AS horizon
FROM horizon h LEFT JOIN last ON true
LEFT JOIN reporting.changes c ON c.position > $1 AND c.position <= last.position
ORDER BY c.position, c.view, c.entry_key
"""
"""One statement, so the horizon and the changes are read in one snapshot."""


class Change(msgspec.Struct, frozen=True):
    """The rows of one entry in one reporting view changed: read them again (``removed``: none left).
    ``view`` is ``*`` when the views were rebuilt: read them afresh."""

    view: str
    entry_key: str
    removed: bool
    updated_at: datetime


class Position(msgspec.Struct, frozen=True):
    """Everything that changed at one log position (one event of the feed, whose id is the position)."""

    position: int
    changes: list[Change]


class FeedPage(msgspec.Struct, frozen=True):
    """Positions after ``after``, and where to go on from (the last one sent, else ``after``)."""

    positions: list[Position]
    next_after: int
    horizon: int
    """How far both projections have got: a page ends at or before it."""


async def read_feed(conn: Reader, after: int, limit: int) -> FeedPage:
    """Up to ``limit`` positions with changes after ``after``, oldest first."""
    rows = await conn.fetch(_PAGE, after, limit)
    positions: list[Position] = []
    for row in rows:
        if row["position"] is None:  # nothing new: the one row carries the horizon alone
            continue
        if not positions or positions[-1].position != row["position"]:
            positions.append(Position(row["position"], []))
        positions[-1].changes.append(Change(row["view"], row["entry_key"], row["removed"], row["updated_at"]))
    horizon = rows[0]["horizon"] if rows else 0
    return FeedPage(positions, positions[-1].position if positions else after, horizon)
