"""A person's record as an HL7 FHIR R4 Bundle, for sharing with another provider or feeding the Mental
Health Services Data Set. Read as GET /cases/{id} is: care team or governance, and logged."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import anyio.to_thread
from litestar import Request, Response, get
from litestar.di import NamedDependency
from litestar.params import FromPath

from events.values import Actor, Role
from service.http.access import PurposeOfUse
from service.http.auth import requires
from service.http.routes.readmodels import read_case
from service.interop.fhir import FHIR_JSON, case_bundle
from service.write.application import CaseRecords

__all__ = ["case_fhir"]


@get(
    "/cases/{case_id:uuid}/fhir",
    operation_id="getCaseFhir",
    summary="The record as a FHIR R4 Bundle",
    tags=["Interoperability"],
    guards=[requires(Role.CLINICIAN, Role.GOVERNANCE)],
    media_type=FHIR_JSON,
)
async def case_fhir(
    request: Request[Actor, Any, Any],
    records: NamedDependency[CaseRecords],
    case_id: FromPath[UUID],
    purpose: PurposeOfUse = None,
) -> Response[dict[str, Any]]:
    """A Bundle (type collection) of the case as it stands: EpisodeOfCare, CareTeam, CarePlan, Goals,
    Observations, QuestionnaireResponses, ClinicalImpressions, Communications and a Provenance for
    every entry (corrections as amendments). docs/fhir.md has the mapping."""

    def read() -> dict[str, Any]:
        case = read_case(records, request.user, case_id, "fhir", purpose=purpose)
        entries = [entry for _, entry in records.entries(case_id, after=0, limit=case.version)]
        return case_bundle(case_id, case.version, entries, assembled_at=datetime.now(UTC))

    return Response(await anyio.to_thread.run_sync(read), media_type=FHIR_JSON)
