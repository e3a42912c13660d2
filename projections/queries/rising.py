"""When "escalations rising" items were flagged and actioned, for the time from flag to action.

The action list judges a case at the moment it is read; here each escalation is judged at the moment
it happened, the same way (escalations per open day in the 90 days up to it against the 90 before,
open days from the case's open spans; none without an open day in the earlier window). An item is
flagged at the first escalation found rising, and actioned by the first decision naming that
escalation or a later one of the case; while it is open, later escalations add no new item."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from projections.queries import Reader

__all__ = ["rising_flags"]

_AT = "e.occurred_at"
_RISING = f"""
SELECT e.case_id, c.service, {_AT} AS flagged_at, n.recent, n.previous,
       (SELECT min(dc.decided_at) FROM read.escalations y
          JOIN read.decision_causes dc ON dc.cause_id = y.entry_id
         WHERE y.case_id = e.case_id AND y.occurred_at >= {_AT} AND dc.decided_at >= {_AT}
           AND dc.decided_at <= $4) AS actioned_at
FROM read.escalations e JOIN read.cases c ON c.case_id = e.case_id
JOIN LATERAL (
    SELECT count(*) FILTER (WHERE x.occurred_at >= {_AT} - interval '90 days') AS recent,
           count(*) FILTER (WHERE x.occurred_at < {_AT} - interval '90 days') AS previous
    FROM read.escalations x
    WHERE x.case_id = e.case_id AND x.occurred_at >= {_AT} - interval '180 days' AND x.occurred_at <= {_AT}
) n ON true
JOIN LATERAL (
    SELECT coalesce(sum(greatest(0, date_part('epoch', least(o.until, {_AT})
                                      - greatest(o.since, {_AT} - interval '90 days')))), 0) AS recent_s,
           coalesce(sum(greatest(0, date_part('epoch', least(o.until, {_AT} - interval '90 days')
                                      - greatest(o.since, {_AT} - interval '180 days')))), 0) AS previous_s
    FROM (SELECT st.status, st.occurred_at AS since,
                 coalesce(lead(st.occurred_at) OVER (ORDER BY st.occurred_at), {_AT}) AS until
          FROM read.case_status st WHERE st.case_id = e.case_id AND st.occurred_at <= {_AT}) o
    WHERE o.status = 'open'
) open ON open.previous_s > 0 AND n.recent * open.previous_s > n.previous * open.recent_s
WHERE e.occurred_at < $2 AND e.occurred_at <= $4 AND ($3::text IS NULL OR c.service = $3)
  AND e.occurred_at >= $1::timestamptz - interval '1 year'
ORDER BY e.case_id, e.occurred_at
"""
# Escalations up to a year before the period are judged too, so an item flagged before the period
# and still open at its start is not counted again in it.


async def rising_flags(
    conn: Reader, start: datetime, end: datetime, service: str | None, now: datetime
) -> list[dict[str, object]]:
    """One row per item flagged in [start, end): service, month, kind, flagged_at, actioned_at, ended."""
    items: list[dict[str, object]] = []
    open_until: dict[UUID, datetime | None] = {}
    for row in await conn.fetch(_RISING, start, end, service, now):
        case_id, at = row["case_id"], row["flagged_at"]
        if case_id in open_until:
            cleared = open_until[case_id]
            if cleared is None or cleared > at:
                continue  # the case's item is still open: this escalation is part of it
        open_until[case_id] = row["actioned_at"]
        if at >= start:
            month = at.date().replace(day=1)
            items.append(
                {
                    "service": row["service"],
                    "month": month,
                    "kind": "rising",
                    "flagged_at": at,
                    "actioned_at": row["actioned_at"],
                    "ended": False,
                }
            )
    return items
