"""Governance's review drill-down: every review in a period, a page at a time (keyset, no cap), with
what followed it, what changed and how the person's domain ratings moved after the decision."""

from __future__ import annotations

import enum
from datetime import datetime
from uuid import UUID

import asyncpg
import msgspec

from projections.queries import Reader, days
from projections.queries.follow_up import (
    Cursor,
    DomainMovement,
    FollowingDecision,
    decisions_naming,
    domain_movements,
)
from projections.queries.impact import NO_DECISION_AFTER_DAYS, review_outcome

__all__ = ["ReviewFilter", "ReviewFollowUp", "ReviewLed", "ReviewsPage", "reviews_page"]


class ReviewLed(enum.StrEnum):
    """What a review led to, for drilling from a figure (a share led to change or action) to the
    reviews behind it."""

    CHANGE = "change"
    ACTION = "action"
    NO_ACTION = "no-action"
    NO_DECISION = "no-decision"


class ReviewFilter(msgspec.Struct, frozen=True, kw_only=True):
    """Which reviews: a period (half-open) and optionally a service, review kind, reviewer, a member
    of the case's current care team and what the review led to."""

    start: datetime
    end: datetime
    service: str | None = None
    kind: str | None = None
    reviewer: str | None = None
    care_team_member: str | None = None
    led_to: ReviewLed | None = None


class ReviewFollowUp(msgspec.Struct, frozen=True):
    """One review, what followed it (``outcome``, days to the first decision, each decision and what
    it changed) and how each domain's ratings moved in the 90 days after the first decision against
    the 90 before."""

    entry_id: UUID
    case_id: UUID
    person_ref: str
    service: str
    occurred_at: datetime
    kind: str
    reviewer: str
    corrected: bool
    outcome: str
    days_to_first_decision: float | None
    decisions: list[FollowingDecision]
    domains: list[DomainMovement]


class ReviewsPage(msgspec.Struct, frozen=True):
    """One page of reviews, newest first; ``next_after`` fetches the next page (null on the last)."""

    reviews: list[ReviewFollowUp]
    next_after: str | None


_LED_TO = {
    None: "true",
    ReviewLed.CHANGE: "r.changed",
    ReviewLed.ACTION: "r.actioned",
    ReviewLed.NO_ACTION: "NOT r.actioned",
    ReviewLed.NO_DECISION: (
        f"r.first_decided_at IS NULL AND r.occurred_at < now() - interval '{NO_DECISION_AFTER_DAYS} days'"
    ),
}
# The care team filter reads each case's latest team (care_teams keeps every version).
_PAGE = """
SELECT r.entry_id, r.case_id, c.person_ref, r.service, r.occurred_at, r.kind, r.actor_id, r.corrected,
       r.first_decided_at AS first_decision, r.changed, r.actioned
FROM read.reviews r JOIN read.cases c ON c.case_id = r.case_id
WHERE r.occurred_at >= $1 AND r.occurred_at < $2 AND ($3::text IS NULL OR r.service = $3)
  AND ($4::text IS NULL OR r.kind = $4) AND ($5::text IS NULL OR r.actor_id = $5)
  AND ($6::text IS NULL OR EXISTS (
        SELECT 1 FROM (SELECT t.members FROM read.care_teams t
                        WHERE t.case_id = r.case_id ORDER BY t.version DESC LIMIT 1) latest
         WHERE $6 = ANY(latest.members)))
  AND ($7::timestamptz IS NULL OR (r.occurred_at, r.entry_id) < ($7, $8::uuid))
  AND {led_to}
ORDER BY r.occurred_at DESC, r.entry_id DESC
LIMIT $9
"""


async def reviews_page(
    conn: Reader, where: ReviewFilter, *, after: Cursor | None, limit: int, now: datetime
) -> ReviewsPage:
    """A page of reviews matching ``where``, after the cursor, each with what followed it."""
    rows = await conn.fetch(
        _PAGE.format(led_to=_LED_TO[where.led_to]),
        where.start,
        where.end,
        where.service,
        where.kind,
        where.reviewer,
        where.care_team_member,
        None if after is None else after.occurred_at,
        None if after is None else after.entry_id,
        limit + 1,
    )
    more, rows = len(rows) > limit, rows[:limit]
    decisions = await decisions_naming(conn, [(r["entry_id"], r["occurred_at"]) for r in rows])
    decided = [(r["entry_id"], r["case_id"], r["first_decision"]) for r in rows if r["first_decision"]]
    moved = await domain_movements(conn, decided)
    reviews = [
        _follow_up(r, decisions.get(r["entry_id"], []), moved.get(r["entry_id"], []), now) for r in rows
    ]
    last = rows[-1] if more else None
    return ReviewsPage(
        reviews, None if last is None else Cursor(last["occurred_at"], last["entry_id"]).encode()
    )


def _follow_up(
    r: asyncpg.Record, decisions: list[FollowingDecision], moved: list[DomainMovement], now: datetime
) -> ReviewFollowUp:
    first = r["first_decision"]
    return ReviewFollowUp(
        entry_id=r["entry_id"],
        case_id=r["case_id"],
        person_ref=r["person_ref"],
        service=r["service"],
        occurred_at=r["occurred_at"],
        kind=r["kind"],
        reviewer=r["actor_id"],
        corrected=r["corrected"],
        outcome=review_outcome(r, now),
        days_to_first_decision=None if first is None else days(first - r["occurred_at"]),
        decisions=decisions,
        domains=moved,
    )
