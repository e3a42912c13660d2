"""A Provenance for every entry: who recorded it in what role, when it happened and when it was recorded,
why, and what it changed. An entry ``originate``s what it records; a correction ``amend``s it and names
the version it replaced; a plan change or confirmation names what prompted it as its sources."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from events.codec import type_name
from events.entries import (
    CareTeamChanged,
    CaseClosed,
    CaseReopened,
    Entry,
    EntryCorrected,
    GoalRevised,
    PlanChanged,
    PlanConfirmed,
    StatementAdded,
)
from events.values import StatementMaker
from service.interop.fhir.codes import IDENTIFIER, LIFECYCLE, LOCAL, PARTICIPANT_TYPE, concept, instant
from service.interop.fhir.record import FhirRecord, reference

__all__ = ["LATE_ENTRY", "provenance"]

LATE_ENTRY = {"system": LOCAL["record-keeping"], "code": "late-entry", "display": "Late entry"}
_ACTIVITY = {
    "originate": concept(LIFECYCLE, "originate", "Originate/Retain Record Lifecycle Event"),
    "amend": concept(LIFECYCLE, "amend", "Amend (Update) Record Lifecycle Event"),
}


def provenance(
    record: FhirRecord, entry: Entry, targets: list[str], *, replaces: UUID | None = None
) -> dict[str, Any]:
    """The Provenance of one entry; its id is the entry id. ``replaces`` (for a correction) is the entry
    whose version of the corrected values this one replaces: the original, or the correction before."""
    found: dict[str, Any] = {
        "resourceType": "Provenance",
        "id": str(entry.entry_id),
        "meta": {"tag": [LATE_ENTRY]} if entry.late else {},
        "target": [reference(t) for t in targets],
        "occurredDateTime": instant(entry.occurred_at),
        "recorded": instant(entry.recorded_at),
        "activity": _ACTIVITY["amend" if isinstance(entry, EntryCorrected) else "originate"],
        "reason": _reasons(entry),
        "agent": _agents(record, entry),
        "entity": _entities(record, entry, replaces),
    }
    return found


def _reasons(entry: Entry) -> list[dict[str, Any]]:
    match entry:
        case EntryCorrected() | GoalRevised() | CareTeamChanged() | CaseReopened():
            return [{"text": entry.reason}]
        case CaseClosed():
            return [{**concept(LOCAL["closure-reason"], entry.reason.value), "text": entry.note}]
        case _:
            return []


def _agents(record: FhirRecord, entry: Entry) -> list[dict[str, Any]]:
    """The user who recorded the entry, in their role; for a statement, the person (or their
    representative) is its author and the user who recorded it the enterer."""
    recorder = "author"
    agents: list[dict[str, Any]] = []
    if isinstance(entry, StatementAdded):
        recorder = "enterer"
        by_person = entry.made_by is StatementMaker.PERSON
        agents.append(
            {
                "type": concept(PARTICIPANT_TYPE, "author", "Author"),
                "who": record.patient() if by_person else {"display": "The person's representative"},
            }
        )
    agents.insert(
        0,
        {
            "type": concept(PARTICIPANT_TYPE, recorder, recorder.capitalize()),
            "role": [concept(LOCAL["user-role"], entry.actor.role.value)],
            "who": record.practitioner(entry.actor.id),
        },
    )
    return agents


def _entities(record: FhirRecord, entry: Entry, replaces: UUID | None) -> list[dict[str, Any]]:
    if isinstance(entry, EntryCorrected) and replaces is not None:
        kind = type_name(type(entry.corrected)) if entry.corrected is not None else "entry"
        previous = {
            "identifier": {"system": IDENTIFIER["entry"], "value": str(replaces)},
            "display": f"The {kind} as it read before this correction (entry {replaces})",
        }
        return [{"role": "revision", "what": previous}]
    if isinstance(entry, PlanChanged | PlanConfirmed):
        return [{"role": "source", "what": record.entry(cause)} for cause in entry.because_of]
    return []
