"""What followed a review, setback or escalation: the plan decisions that named it and what each
changed, and how the person's domain ratings moved around the first of them. Shared by the
governance drill-downs, which read it for one page of entries at a time."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from datetime import datetime
from uuid import UUID

import msgspec

from projections.queries import Reader, days

__all__ = [
    "MIN_READINGS",
    "WINDOW_DAYS",
    "Cursor",
    "DomainMovement",
    "FollowingDecision",
    "decisions_naming",
    "domain_movements",
]

WINDOW_DAYS = 90
"""Ratings are compared in the 90 days after a decision against the 90 before it."""
MIN_READINGS = 1
"""Readings needed on each side of a decision to say how a domain moved: reviews come about every
12 weeks, so a 90-day window usually holds one; below this the answer is "not enough readings"."""
NOT_ENOUGH = "not enough readings"


class Cursor(msgspec.Struct, frozen=True):
    """Where a page ended (keyset: time, then entry id, newest first), opaque to clients."""

    occurred_at: datetime
    entry_id: UUID

    def encode(self) -> str:
        """The cursor as a URL-safe token for ``?after=``."""
        return base64.urlsafe_b64encode(msgspec.json.encode(self)).decode().rstrip("=")

    @classmethod
    def decode(cls, token: str) -> Cursor:
        """A cursor from a token a page gave; ValueError when it is not one."""
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
            cursor = msgspec.json.decode(raw, type=cls)
        except (binascii.Error, msgspec.DecodeError, msgspec.ValidationError) as error:
            raise ValueError("not a cursor") from error
        if cursor.occurred_at.tzinfo is None:
            raise ValueError("not a cursor")
        return cursor


class FollowingDecision(msgspec.Struct, frozen=True):
    """A plan change or "no change, because ..." confirmation that named the entry, and what changed:
    support hours in force before and after it, strategies added and removed, domains added, why."""

    entry_id: UUID
    kind: str
    occurred_at: datetime
    days_after: float
    rationale: str
    support_hours_before: float | None
    support_hours_after: float | None
    approach: str | None
    strategies_added: list[str]
    strategies_removed: list[str]
    domains_added: list[str]
    corrected: bool


class DomainMovement(msgspec.Struct, frozen=True):
    """One domain's mean rating in the 90 days before the first decision and the 90 after, with the
    number of readings on each side; ``change`` only when both sides have enough readings."""

    domain: str
    before_mean: float | None
    before_n: int
    after_mean: float | None
    after_n: int
    change: float | None
    status: str


# The support hours in force before a decision: the latest earlier plan change that set them.
_DECISIONS = """
SELECT dc.cause_id, d.entry_id, d.kind, d.occurred_at, d.rationale, d.support_hours_per_week,
       d.approach, d.strategies_added, d.strategies_removed, d.domains_added, d.corrected,
       (SELECT p.support_hours_per_week FROM read.decisions p
         WHERE p.case_id = d.case_id AND p.kind = 'plan_changed' AND p.support_hours_per_week IS NOT NULL
           AND p.occurred_at < d.occurred_at
         ORDER BY p.occurred_at DESC LIMIT 1) AS hours_before
FROM read.decision_causes dc JOIN read.decisions d ON d.entry_id = dc.entry_id
WHERE dc.cause_id = ANY($1::uuid[])
ORDER BY d.occurred_at, d.entry_id
"""


async def decisions_naming(
    conn: Reader, causes: Sequence[tuple[UUID, datetime]]
) -> dict[UUID, list[FollowingDecision]]:
    """Per cause (entry id, when it happened), the decisions that named it, oldest first."""
    when = dict(causes)
    rows = await conn.fetch(_DECISIONS, list(when))
    named: dict[UUID, list[FollowingDecision]] = {}
    for row in rows:
        before, set_now = row["hours_before"], row["support_hours_per_week"]
        named.setdefault(row["cause_id"], []).append(
            FollowingDecision(
                entry_id=row["entry_id"],
                kind=row["kind"],
                occurred_at=row["occurred_at"],
                days_after=days(row["occurred_at"] - when[row["cause_id"]]),
                rationale=row["rationale"],
                support_hours_before=before,
                support_hours_after=before if set_now is None else set_now,
                approach=row["approach"],
                strategies_added=list(row["strategies_added"]),
                strategies_removed=list(row["strategies_removed"]),
                domains_added=list(row["domains_added"]),
                corrected=row["corrected"],
            )
        )
    return named


_WINDOW = f"interval '{WINDOW_DAYS} days'"
# Domain ratings only: confidence and autonomy are rated at reviews too but are not domains.
_MOVEMENTS = f"""
SELECT w.key, g.measure AS domain,
       avg(g.value) FILTER (WHERE g.occurred_at < w.at) AS before_mean,
       count(*) FILTER (WHERE g.occurred_at < w.at) AS before_n,
       avg(g.value) FILTER (WHERE g.occurred_at >= w.at) AS after_mean,
       count(*) FILTER (WHERE g.occurred_at >= w.at) AS after_n
FROM unnest($1::uuid[], $2::uuid[], $3::timestamptz[]) AS w(key, case_id, at)
JOIN read.ratings g ON g.case_id = w.case_id
 AND g.occurred_at >= w.at - {_WINDOW} AND g.occurred_at < w.at + {_WINDOW}
WHERE g.measure NOT IN ('confidence', 'autonomy')
GROUP BY 1, 2 ORDER BY 1, 2
"""


async def domain_movements(
    conn: Reader, around: Sequence[tuple[UUID, UUID, datetime]]
) -> dict[UUID, list[DomainMovement]]:
    """Per key (an entry id), how each domain moved around a time in its case: (key, case, time)."""
    if not around:
        return {}
    keys, cases, times = (list(column) for column in zip(*around, strict=True))
    rows = await conn.fetch(_MOVEMENTS, keys, cases, times)
    moved: dict[UUID, list[DomainMovement]] = {}
    for row in rows:
        before = None if row["before_mean"] is None else round(float(row["before_mean"]), 2)
        after = None if row["after_mean"] is None else round(float(row["after_mean"]), 2)
        enough = row["before_n"] >= MIN_READINGS and row["after_n"] >= MIN_READINGS
        change = round(after - before, 2) if enough and after is not None and before is not None else None
        moved.setdefault(row["key"], []).append(
            DomainMovement(
                domain=row["domain"],
                before_mean=before,
                before_n=row["before_n"],
                after_mean=after,
                after_n=row["after_n"],
                change=change,
                status=_status(change) if enough else NOT_ENOUGH,
            )
        )
    return moved


def _status(change: float | None) -> str:
    if change is None or change == 0:
        return "no change"
    return "rated higher" if change > 0 else "rated lower"
