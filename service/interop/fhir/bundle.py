"""A case record as an HL7 FHIR R4 Bundle (type ``collection``): the record's entries, as they currently
read, folded into resources; then a Provenance for every entry, in the order they were recorded."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from events.entries import (
    CareTeamChanged,
    CaseClosed,
    CaseOpened,
    CaseReopened,
    Entry,
    EntryCorrected,
    EscalationRaised,
    EscalationResolved,
    GoalRevised,
    GoalSet,
    MeasureRecorded,
    MilestoneAdded,
    MilestoneReached,
    PlanChanged,
    PlanConfirmed,
    ReviewRecorded,
    SetbackRecorded,
    StatementAdded,
)
from service.interop.fhir import care, goals, observations, review
from service.interop.fhir.codes import instant
from service.interop.fhir.provenance import provenance
from service.interop.fhir.record import FhirRecord, resource_id

__all__ = ["FHIR_JSON", "case_bundle"]

FHIR_JSON = "application/fhir+json"

Handler = Callable[[FhirRecord, Any], list[str]]
HANDLERS: dict[type[Entry], Handler] = {
    CaseOpened: care.case_opened,
    CareTeamChanged: care.care_team_changed,
    PlanChanged: care.plan_changed,
    PlanConfirmed: care.plan_confirmed,
    CaseClosed: care.case_closed,
    CaseReopened: care.case_reopened,
    StatementAdded: care.statement_added,
    GoalSet: goals.goal_set,
    GoalRevised: goals.goal_revised,
    MilestoneAdded: goals.milestone_added,
    MilestoneReached: goals.milestone_reached,
    MeasureRecorded: observations.measure_recorded,
    EscalationRaised: observations.escalation_raised,
    EscalationResolved: observations.escalation_resolved,
    SetbackRecorded: observations.setback_recorded,
    ReviewRecorded: review.review_recorded,
}
"""What each kind of entry (other than a correction) records, and the resources it makes or changes."""

AMENDED_STATUS = {"Observation": "corrected", "QuestionnaireResponse": "amended"}
"""The status a resource takes once an entry behind it has been corrected (where its type has one)."""


def case_bundle(
    case_id: UUID, version: int, entries: Sequence[Entry], *, assembled_at: datetime
) -> dict[str, Any]:
    """The Bundle of a case record at ``version`` from its entries (every one, in the order recorded)."""
    current = _current(entries)
    record = FhirRecord(case_id)
    touched: dict[UUID, list[str]] = {}
    for entry in entries:
        if not isinstance(entry, EntryCorrected):
            made = HANDLERS[type(entry)](record, current.get(entry.entry_id, entry))
            touched[entry.entry_id] = made
            if made:
                record.primary[entry.entry_id] = made[0]
    provenances = _provenances(record, entries, touched)
    resources = list(record.resources.values())
    if any(isinstance(entry, ReviewRecorded) for entry in entries):
        resources.append(review.QUESTIONNAIRE)
    return {
        "resourceType": "Bundle",
        "id": resource_id(case_id, f"Bundle/{version}"),
        "meta": {"lastUpdated": instant(entries[-1].recorded_at)} if entries else {},
        "type": "collection",
        "timestamp": instant(assembled_at),
        "entry": [
            {"fullUrl": f"urn:uuid:{r['id']}", "resource": _pruned(r)} for r in (*resources, *provenances)
        ],
    }


def _current(entries: Sequence[Entry]) -> dict[UUID, Entry]:
    """Each corrected entry as its latest correction says it now reads."""
    return {
        entry.corrects: entry.corrected
        for entry in entries
        if isinstance(entry, EntryCorrected) and entry.corrected is not None
    }


def _provenances(
    record: FhirRecord, entries: Sequence[Entry], touched: dict[UUID, list[str]]
) -> list[dict[str, Any]]:
    """A Provenance per entry; every resource it targets gets a new version (``meta.versionId``)."""
    found: list[dict[str, Any]] = []
    trail: dict[str, list[Entry]] = {}
    replaced: dict[UUID, UUID] = {}
    fallback = [record.case_part(care.EPISODE)]
    for entry in entries:
        replaces = None
        if isinstance(entry, EntryCorrected):
            replaces = replaced.get(entry.corrects, entry.corrects)
            replaced[entry.corrects] = entry.entry_id
            targets = touched.get(entry.corrects) or fallback
        else:
            targets = touched[entry.entry_id] or fallback
        found.append(provenance(record, entry, targets, replaces=replaces))
        for rid in targets:
            trail.setdefault(rid, []).append(entry)
    for rid, history in trail.items():
        resource = record.resources[rid]
        resource["meta"] = {"versionId": str(len(history)), "lastUpdated": instant(history[-1].recorded_at)}
        if any(isinstance(e, EntryCorrected) for e in history) and resource["resourceType"] in AMENDED_STATUS:
            resource["status"] = AMENDED_STATUS[resource["resourceType"]]
    return found


def _pruned(value: Any) -> Any:
    """FHIR JSON has no empty or null values: drop them (a resource is built with them freely)."""
    if isinstance(value, dict):
        kept = {k: _pruned(v) for k, v in value.items()}
        return {k: v for k, v in kept.items() if v not in (None, "", [], {})}
    if isinstance(value, list):
        return [v for v in (_pruned(v) for v in value) if v not in (None, "", [], {})]
    return value
