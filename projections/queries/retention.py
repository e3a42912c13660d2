"""Closed cases past their retention period, for governance to appraise (``waymark retention list``).

Last contact and closure come from the read models; whether governance has decided, and whether the
decision was carried out, from the erasure entries themselves (their grounds and references are
never sealed, so they read the same after erasure)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from uuid import UUID

import asyncpg
import msgspec

from events.codec import type_name
from events.entries import CaseOpened, Entry, ErasureApproved, TextErased
from events.retention import NOT_CONTACT
from events.values import ErasureGrounds
from projections.schema import EVENTS_TABLE

__all__ = ["RetentionDue", "retention_due"]

_DUE = """
WITH latest AS (
    SELECT DISTINCT ON (case_id) case_id, status FROM read.case_status
    ORDER BY case_id, occurred_at DESC, status = 'closed'
), contact AS (
    SELECT case_id, max(occurred_at) AS latest FROM read.audit_entries
    WHERE type <> ALL($2::text[]) GROUP BY case_id
), opened AS (  -- the opening counts from opened_on, not from when it was typed in
    SELECT c.case_id, c.service, greatest(contact.latest, c.opened_on::timestamp AT TIME ZONE 'UTC')
        AS last_contact
    FROM read.cases c LEFT JOIN contact USING (case_id)
)
SELECT opened.case_id, opened.service, opened.last_contact
FROM latest JOIN opened USING (case_id)
WHERE latest.status = 'closed' AND (opened.last_contact AT TIME ZONE 'UTC')::date <= $1
ORDER BY opened.last_contact, opened.case_id
"""
_DECISIONS = f"""
SELECT originator_id, topic, state FROM {EVENTS_TABLE}
WHERE originator_id = ANY($1::uuid[]) AND topic = ANY($2::text[]) ORDER BY originator_id, originator_version
"""


class _Decision(msgspec.Struct):
    entry_id: UUID
    grounds: str | None = None
    decision_ref: str | None = None
    approval_id: UUID | None = None


@dataclass(frozen=True)
class RetentionDue:
    """A closed case past its retention period, and where governance's decision stands."""

    case_id: UUID
    service: str
    last_contact: datetime
    decision_ref: str | None
    """The approval's reference once governance approved erasure at the end of retention."""
    erased: bool


async def retention_due(conn: asyncpg.Connection, cutoff: date) -> list[RetentionDue]:
    """Closed cases whose last contact was on or before ``cutoff`` (today less the retention period)."""
    kinds: tuple[type[Entry], ...] = (*NOT_CONTACT, CaseOpened)
    not_contact = [type_name(kind) for kind in kinds]
    rows = await conn.fetch(_DUE, cutoff, not_contact)
    decisions = await _decisions(conn, [row["case_id"] for row in rows])
    return [
        RetentionDue(
            row["case_id"], row["service"], row["last_contact"], *decisions.get(row["case_id"], (None, False))
        )
        for row in rows
    ]


async def _decisions(conn: asyncpg.Connection, case_ids: list[UUID]) -> dict[UUID, tuple[str | None, bool]]:
    """Per case: the reference of its end-of-retention approval, and whether it was carried out."""
    kinds = [type_name(ErasureApproved), type_name(TextErased)]
    found: dict[UUID, tuple[str | None, bool]] = {}
    approvals: dict[UUID, str] = {}
    for row in await conn.fetch(_DECISIONS, case_ids, kinds):
        decision = msgspec.json.decode(row["state"], type=_Decision)
        if decision.grounds == ErasureGrounds.RETENTION_ENDED and decision.decision_ref is not None:
            approvals[decision.entry_id] = decision.decision_ref
            found[row["originator_id"]] = (decision.decision_ref, False)
        elif decision.approval_id in approvals:
            found[row["originator_id"]] = (approvals[decision.approval_id], True)
    return found
