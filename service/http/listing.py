"""Lists that name case ids (the audit trail, review impact, drill-downs, action lists, break-glass
alerts, the disclosure audit itself) are reads of those people's records: each case a list names is
logged as read, with the purpose governance must state, before the list is served (a list that
cannot be logged is not served)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import anyio.to_thread
import msgspec

from events.values import Actor, Role
from service.http.access import Purpose, PurposeRequired
from service.write.application import CaseRecords

__all__ = ["log_named_cases", "named_cases"]


def named_cases(answer: Any) -> list[UUID]:
    """Every case id an answer names (a ``case_id`` anywhere in it), each once, in order met."""
    found: dict[UUID, None] = {}
    pending = [answer]
    while pending:
        value = pending.pop()
        if isinstance(value, msgspec.Struct):
            case_id = getattr(value, "case_id", None)
            if isinstance(case_id, UUID):
                found[case_id] = None
            pending.extend(getattr(value, name) for name in value.__struct_fields__)
        elif isinstance(value, list | tuple):
            pending.extend(reversed(value))
        elif isinstance(value, dict):
            pending.extend(value.values())
    return list(found)


async def log_named_cases(
    records: CaseRecords, actor: Actor, answer: Any, view: str, purpose: Purpose | None
) -> None:
    """Log the list as a read of every case it names (nothing when it names none). Governance states
    why, as for a person's record: without a purpose the list is not served (422 naming ``purpose``)."""
    if actor.role is Role.GOVERNANCE and purpose is None:
        raise PurposeRequired
    cases = named_cases(answer)
    if cases:
        why = purpose.value if purpose else None
        await anyio.to_thread.run_sync(
            lambda: records.case_recorder.record_list_view(actor.id, actor.role.value, cases, view, why)
        )
