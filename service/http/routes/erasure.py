"""Erasure of a record's text, decided and carried out by governance: the end of a closed case's
retention period after appraisal, or entries filed in the wrong person's record.

Both steps are entries in the case, so they are in its history and hash chain: ``erasure_approved``
records the decision (who, on what grounds, where it is minuted), ``text_erased`` carries it out
and is refused without an approval to name (``events.rules``)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeAlias
from uuid import UUID

import anyio.to_thread
from litestar import Controller, Request, Response, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody

from events.entries import ErasureApproved, TextErased
from events.errors import ErasureNotAllowed
from events.retention import last_contact, retention_ends
from events.values import Actor, ErasureGrounds, Role
from service.http.auth import requires
from service.http.inputs import build_entry, input_type
from service.http.routes.conditions import json_body_required, write_request, written
from service.http.views import EntryWritten
from service.write.application import CaseNotFound, CaseRecords

__all__ = ["ErasureController"]

if TYPE_CHECKING:
    ApprovalRequest: TypeAlias = Any
    ErasureRequest: TypeAlias = Any
else:
    ApprovalRequest = input_type(ErasureApproved)
    ErasureRequest = input_type(TextErased)


def _past_retention(records: CaseRecords, case_id: UUID, years: int) -> None:
    """Refuse an approval at the end of retention for a case still within its retention period."""
    entries = [entry for _, entry in records.every_entry(case_id)]
    if not entries:
        raise CaseNotFound(case_id)
    ends = retention_ends(last_contact(entries).astimezone(UTC).date(), years)
    if ends > datetime.now(UTC).date():
        raise ErasureNotAllowed(
            f"The case is kept until {ends} ({years} years after the last contact): "
            "appraise it then, or record a misfiling with grounds misfiled.",
            field="grounds",
        )


class ErasureController(Controller):
    """Governance's decisions to erase a record's text, and carrying them out."""

    path = "/cases/{case_id:uuid}"
    tags = ("Governance",)
    guards = (requires(Role.GOVERNANCE),)

    @post(
        "/erasure-approvals",
        operation_id="approveErasure",
        summary="Record a decision to erase text",
        guards=[json_body_required],
    )
    async def approve(
        self,
        request: Request[Actor, Any, Any],
        records: NamedDependency[CaseRecords],
        retention_years: NamedDependency[int],
        case_id: FromPath[UUID],
        data: JSONBody[ApprovalRequest],
    ) -> Response[EntryWritten]:
        """Record governance's decision: the whole closed case at the end of its retention period
        (``WAYMARK_RETENTION_YEARS`` after the last contact, 20 by default; earlier is a 409), or the
        entries named as misfiled. Nothing is erased until the decision is carried out."""
        entry = build_entry(ErasureApproved, data, case_id=case_id, actor=request.user)
        if entry.grounds is ErasureGrounds.RETENTION_ENDED:
            await anyio.to_thread.run_sync(_past_retention, records, case_id, retention_years)
        conditions = await write_request(request)
        receipt = await anyio.to_thread.run_sync(records.record, case_id, entry, conditions)
        return written(receipt, location=f"/cases/{case_id}")

    @post(
        "/erasures",
        operation_id="eraseText",
        summary="Carry out an approved erasure",
        guards=[json_body_required],
    )
    async def erase(
        self,
        request: Request[Actor, Any, Any],
        records: NamedDependency[CaseRecords],
        case_id: FromPath[UUID],
        data: JSONBody[ErasureRequest],
    ) -> Response[EntryWritten]:
        """Destroy the text an approval names (``approval_id``: 409 for anything else): its data keys
        are destroyed, so the entries keep their structure and hash chain but read as erased
        everywhere. Recorded as a ``text_erased`` entry."""
        entry = build_entry(TextErased, data, case_id=case_id, actor=request.user)
        conditions = await write_request(request)
        receipt = await anyio.to_thread.run_sync(records.erase, case_id, entry, conditions)
        return written(receipt, location=f"/cases/{case_id}")
