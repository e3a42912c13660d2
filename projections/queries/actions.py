"""The action loop: outcomes that need work, for one case, a caseload or a service.

An item stays until the action is recorded, never dismissed: a review clears "review due" and
"overdue"; a decision naming a review clears "no decision after 28 days"; a correction naming a
cause clears "plan change names no cause"; a decision naming the latest escalation clears
"escalations rising", and one naming the review that gave the latest reading clears a stalled or
worsening domain."""

from __future__ import annotations

import enum
from datetime import datetime, timedelta
from uuid import UUID

import asyncpg
import msgspec

from projections.models.review_outcomes import ACTION_WITHIN_DAYS
from projections.queries import Reader
from projections.queries.stalled import stalled_domains

__all__ = [
    "DUE_SOON_DAYS",
    "ActionItem",
    "ActionKind",
    "ActionScope",
    "ActionsPage",
    "action_items",
    "action_page",
]

DUE_SOON_DAYS = 14
"""A review is listed as due this many days before its date."""


class ActionKind(enum.StrEnum):
    """Why an item needs action."""

    REVIEW_DUE = "review due"
    REVIEW_OVERDUE = "review overdue"
    NO_DECISION = f"no decision after {ACTION_WITHIN_DAYS} days"
    UNEXPLAINED_CHANGE = "plan change names no cause"
    STALLED_OR_WORSENING = "stalled or worsening"
    ESCALATIONS_RISING = "escalations rising"


class ActionScope(msgspec.Struct, frozen=True, kw_only=True):
    """Which open cases: one case, a service, the cases whose care team includes a user, or all."""

    case_id: UUID | None = None
    service: str | None = None
    care_team_member: str | None = None
    review_interval_days: int = 84


class ActionItem(msgspec.Struct, frozen=True, omit_defaults=True):
    """One thing to act on, oldest flag first: the case (for the record page), when it was flagged,
    the entry it is about (a review, plan change or escalation) and a coded detail."""

    kind: ActionKind
    case_id: UUID
    person_ref: str
    service: str
    flagged_at: datetime
    entry_id: UUID | None = None
    detail: dict[str, object] = {}


class ActionsPage(msgspec.Struct, frozen=True):
    """The items of one page of open cases (in case id order; each case's items oldest flag first);
    ``next_after`` fetches the next page (null on the last)."""

    items: list[ActionItem]
    next_after: UUID | None


# $5: the page's case ids, or null for every case of the scope.
_SCOPE = """
WITH scope AS (
    SELECT c.case_id, c.person_ref, c.service, c.domains,
           c.opened_on::timestamp AT TIME ZONE 'UTC' AS opened_at
    FROM read.cases c
    WHERE ($1::uuid IS NULL OR c.case_id = $1) AND ($2::text IS NULL OR c.service = $2)
      AND c.opened_on::timestamp AT TIME ZONE 'UTC' <= $4::timestamptz
      AND ($5::uuid[] IS NULL OR c.case_id = ANY($5))
      AND ($3::text IS NULL OR EXISTS (
            SELECT 1 FROM (SELECT t.members FROM read.care_teams t
                            WHERE t.case_id = c.case_id ORDER BY t.version DESC LIMIT 1) latest
             WHERE $3 = ANY(latest.members)))
      AND coalesce((SELECT s.status FROM read.case_status s WHERE s.case_id = c.case_id
                      ORDER BY s.occurred_at DESC LIMIT 1), 'open') <> 'closed'
)
"""
# The interval in force is the latest plan change that set one, else the service's default ($6).
_REVIEWS_DUE = (
    _SCOPE
    + """
SELECT s.case_id, s.person_ref, s.service, NULL::uuid AS entry_id,
       coalesce(last.at, s.opened_at) + make_interval(days => coalesce(iv.weeks * 7, $6)) AS flagged_at,
       coalesce(iv.weeks * 7, $6) AS interval_days
FROM scope s
LEFT JOIN LATERAL (SELECT max(r.occurred_at) AS at FROM read.reviews r
                    WHERE r.case_id = s.case_id) last ON true
LEFT JOIN LATERAL (SELECT d.review_interval_weeks AS weeks FROM read.decisions d
                    WHERE d.case_id = s.case_id AND d.review_interval_weeks IS NOT NULL
                    ORDER BY d.occurred_at DESC LIMIT 1) iv ON true
"""
)
_NO_DECISION = (
    _SCOPE
    + f"""
SELECT s.case_id, s.person_ref, s.service, r.entry_id, r.occurred_at + interval '{ACTION_WITHIN_DAYS} days'
       AS flagged_at
FROM scope s JOIN read.reviews r ON r.case_id = s.case_id
WHERE r.first_decided_at IS NULL AND r.occurred_at < $4::timestamptz - interval '{ACTION_WITHIN_DAYS} days'
"""
)
_UNEXPLAINED = (
    _SCOPE
    + """
SELECT s.case_id, s.person_ref, s.service, d.entry_id, d.occurred_at AS flagged_at
FROM scope s JOIN read.decisions d ON d.case_id = s.case_id
WHERE d.kind = 'plan_changed' AND NOT d.caused
"""
)
# Rising compares rates, not counts: escalations per open day in the last 90 days against the 90
# before, so a case open for only part of the earlier window (opened, or closed and reopened, within
# it) is judged on the days it was open. With no open day in the earlier window there is nothing to
# compare against, and it is not listed. Open spans as in service learning (see care_rows).
_ESCALATIONS = (
    _SCOPE
    + """
SELECT s.case_id, s.person_ref, s.service, latest.entry_id, latest.occurred_at AS flagged_at,
       n.recent, n.previous, open.recent_days, open.previous_days
FROM scope s
JOIN LATERAL (
    SELECT count(*) FILTER (WHERE e.occurred_at >= $4::timestamptz - interval '90 days') AS recent,
           count(*) FILTER (WHERE e.occurred_at < $4::timestamptz - interval '90 days') AS previous
    FROM read.escalations e
    WHERE e.case_id = s.case_id AND e.occurred_at >= $4::timestamptz - interval '180 days'
      AND e.occurred_at <= $4) n ON n.recent > 0
JOIN LATERAL (
    SELECT coalesce(sum(greatest(0, date_part('epoch', least(o.until, $4::timestamptz)
                                      - greatest(o.since, $4::timestamptz - interval '90 days')))), 0)
               / 86400 AS recent_days,
           coalesce(sum(greatest(0, date_part('epoch', least(o.until, $4::timestamptz - interval '90 days')
                                      - greatest(o.since, $4::timestamptz - interval '180 days')))), 0)
               / 86400 AS previous_days
    FROM (SELECT st.status, st.occurred_at AS since,
                 coalesce(lead(st.occurred_at) OVER (ORDER BY st.occurred_at), $4) AS until
          FROM read.case_status st WHERE st.case_id = s.case_id AND st.occurred_at <= $4) o
    WHERE o.status = 'open') open
  ON open.previous_days > 0 AND n.recent * open.previous_days > n.previous * open.recent_days
JOIN LATERAL (SELECT e.entry_id, e.occurred_at FROM read.escalations e WHERE e.case_id = s.case_id
               ORDER BY e.occurred_at DESC LIMIT 1) latest ON true
WHERE NOT EXISTS (SELECT 1 FROM read.decision_causes dc WHERE dc.cause_id = latest.entry_id)
"""
)


_PAGE_CASES = (
    _SCOPE
    + """
SELECT s.case_id FROM scope s WHERE ($6::uuid IS NULL OR s.case_id > $6) ORDER BY s.case_id LIMIT $7
"""
)


async def action_items(conn: Reader, scope: ActionScope, now: datetime) -> list[ActionItem]:
    """Every item needing action in the scope's open cases, oldest flag first (for one case or a
    caseload: a service's list is read a page at a time, ``action_page``)."""
    items = await _items(conn, scope, now, None)
    return sorted(items, key=lambda i: (i.flagged_at, i.person_ref))


async def action_page(
    conn: Reader, scope: ActionScope, now: datetime, *, after: UUID | None, limit: int
) -> ActionsPage:
    """The items of the next ``limit`` open cases of the scope after case ``after``: every query
    reads those cases only, so a page costs the same at any size of service."""
    args = (scope.case_id, scope.service, scope.care_team_member, now, None)
    rows = await conn.fetch(_PAGE_CASES, *args, after, limit + 1)
    cases = [row["case_id"] for row in rows[:limit]]
    items = await _items(conn, scope, now, cases) if cases else []
    order = {case_id: i for i, case_id in enumerate(cases)}
    items.sort(key=lambda i: (order[i.case_id], i.flagged_at))
    return ActionsPage(items, cases[-1] if len(rows) > limit else None)


async def _items(
    conn: Reader, scope: ActionScope, now: datetime, cases: list[UUID] | None
) -> list[ActionItem]:
    args = (scope.case_id, scope.service, scope.care_team_member, now, cases)
    due = await conn.fetch(_REVIEWS_DUE, *args, scope.review_interval_days)
    items = [item for item in (_due(row, now) for row in due) if item is not None]
    items += [_item(ActionKind.NO_DECISION, row) for row in await conn.fetch(_NO_DECISION, *args)]
    items += [_item(ActionKind.UNEXPLAINED_CHANGE, row) for row in await conn.fetch(_UNEXPLAINED, *args)]
    items += [
        _item(ActionKind.ESCALATIONS_RISING, row, _rising(row))
        for row in await conn.fetch(_ESCALATIONS, *args)
    ]
    items += [
        ActionItem(
            kind=ActionKind.STALLED_OR_WORSENING,
            case_id=stall.case_id,
            person_ref=stall.person_ref,
            service=stall.service,
            flagged_at=stall.flagged_at,
            detail={"domain": stall.domain, "reason": stall.reason, "n": stall.n},
        )
        for stall in await stalled_domains(conn, _SCOPE, args)
    ]
    return items


def _rising(row: asyncpg.Record) -> dict[str, object]:
    """The counts in each window, the days the case was open in each and the rate per 1,000 open days."""
    recent_days, previous_days = float(row["recent_days"]), float(row["previous_days"])
    return {
        "last_90_days": row["recent"],
        "90_days_before": row["previous"],
        "open_days_last_90": round(recent_days, 1),
        "open_days_90_before": round(previous_days, 1),
        "per_1000_open_days_last_90": round(row["recent"] / recent_days * 1000, 3) if recent_days else None,
        "per_1000_open_days_90_before": round(row["previous"] / previous_days * 1000, 3),
    }


def _due(row: asyncpg.Record, now: datetime) -> ActionItem | None:
    due = row["flagged_at"]
    if due > now + timedelta(days=DUE_SOON_DAYS):
        return None
    kind = ActionKind.REVIEW_OVERDUE if due < now else ActionKind.REVIEW_DUE
    return _item(kind, row, {"due_on": due.date().isoformat(), "interval_days": row["interval_days"]})


def _item(kind: ActionKind, row: asyncpg.Record, detail: dict[str, object] | None = None) -> ActionItem:
    return ActionItem(
        kind=kind,
        case_id=row["case_id"],
        person_ref=row["person_ref"],
        service=row["service"],
        flagged_at=row["flagged_at"],
        entry_id=row["entry_id"],
        detail=detail or {},
    )
