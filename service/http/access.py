"""Who may read a person's record, and why: the purpose of use every logged read carries.

The care team reads for direct care; a clinician outside it reads only while a break-glass grant of
theirs lasts; governance reads every record, but only for a purpose it states from a short closed
list (``?purpose=``). An admin manages care teams and reads no clinical content. Every refusal is
logged before it is answered, like every read served.
"""

from __future__ import annotations

import enum
from datetime import UTC, datetime
from typing import Annotated

from litestar.params import QueryParameter

from events.case import Case
from events.values import Actor, Role
from service.http.auth import AccessDenied
from service.http.problems import HttpProblem
from service.write.application import CaseRecords

__all__ = [
    "BREAK_GLASS",
    "DIRECT_CARE",
    "Purpose",
    "PurposeOfUse",
    "PurposeRequired",
    "authorise_logged",
    "purpose_of_read",
]

DIRECT_CARE = "direct_care"
"""The purpose of a read by the person's care team."""
BREAK_GLASS = "break_glass"
"""The purpose of a read under a break-glass grant (its reason is in the grant's entry)."""


class Purpose(enum.StrEnum):
    """Why governance reads a person's record (the purposes of use it may state)."""

    AUDIT = "audit"
    COMPLAINT = "complaint"
    INCIDENT_REVIEW = "incident_review"
    SUBJECT_ACCESS_REQUEST = "subject_access_request"
    LEGAL_REQUEST = "legal_request"


PurposeOfUse = Annotated[
    Purpose | None,
    QueryParameter(
        description="Why this record is read: required of governance (audit, complaint, incident_review,"
        " subject_access_request, legal_request) and kept in the access log; a clinician's read is for"
        " direct care"
    ),
]


class PurposeRequired(HttpProblem):
    """422: a governance read of person-level data that states no purpose."""

    def __init__(self) -> None:
        allowed = [purpose.value for purpose in Purpose]
        message = (
            f"Governance states why it reads a person's record: send purpose, one of {', '.join(allowed)}."
        )
        super().__init__(
            422,
            "purpose-required",
            "Purpose of use required",
            message,
            field="purpose",
            allowed=allowed,
            errors=[{"field": "purpose", "message": message, "allowed": allowed}],
        )


def purpose_of_read(actor: Actor, case: Case, stated: Purpose | None, now: datetime) -> str:
    """The purpose the access log keeps for this read; AccessDenied without a legitimate relationship
    (the care team, an unexpired break-glass grant, or governance), PurposeRequired when governance
    states none."""
    if actor.role is Role.GOVERNANCE:
        if stated is None:
            raise PurposeRequired
        return stated.value
    if actor.role is Role.CLINICIAN and actor.id in case.state.care_team:
        return DIRECT_CARE
    if actor.role is Role.CLINICIAN and case.state.may_read(actor.id, now):
        return BREAK_GLASS
    raise AccessDenied


def authorise_logged(
    records: CaseRecords, actor: Actor, case: Case, view: str, stated: Purpose | None = None
) -> str:
    """``purpose_of_read`` at this moment, with a refusal logged as one (who tried to read which
    record, how, and the purpose they stated) before it is answered. Blocking: call it in a thread."""
    try:
        return purpose_of_read(actor, case, stated, datetime.now(UTC))
    except (AccessDenied, PurposeRequired):
        records.case_recorder.record_view(
            actor.id,
            actor.role.value,
            case.id,
            view,
            None,
            outcome="refused",
            purpose=stated.value if stated else None,
        )
        raise
