"""A case record as an HL7 FHIR R4 Bundle (type ``collection``): the record's entries, as they currently
read, folded into resources; then a Provenance for every entry, in the order they were recorded."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from events.entries import Entry, EntryCorrected, ReviewRecorded
from service.interop.fhir import care, review
from service.interop.fhir.codes import instant
from service.interop.fhir.fold import amended, fold
from service.interop.fhir.provenance import provenance
from service.interop.fhir.record import FhirRecord, resource_id

__all__ = ["FHIR_JSON", "case_bundle"]

FHIR_JSON = "application/fhir+json"

AMENDED_STATUS = {"Observation": "corrected", "QuestionnaireResponse": "amended"}
"""The status a resource takes once an entry behind it has been corrected (where its type has one)."""


def case_bundle(
    case_id: UUID, version: int, entries: Sequence[Entry], *, assembled_at: datetime
) -> dict[str, Any]:
    """The Bundle of a case record at ``version`` from its entries (every one, in the order recorded)."""
    current = _current(entries)
    record = FhirRecord(case_id)
    touched = fold(record, entries, current)
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
    reads_as = {e.entry_id: (e.entry_id, e) for e in entries if not isinstance(e, EntryCorrected)}
    fallback = [record.case_part(care.EPISODE)]
    for entry in entries:
        replaces = None
        targets = touched.get(entry.entry_id, [])
        if isinstance(entry, EntryCorrected) and entry.corrects in reads_as:
            replaces, before = reads_as[entry.corrects]
            after = entry.corrected or before
            targets = amended(record, before, after)
            reads_as[entry.corrects] = (entry.entry_id, after)
        targets = targets or fallback
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
        kept = {}
        for key, raw in value.items():
            item = _pruned(raw) if isinstance(raw, dict | list) else raw
            if item or item == 0:  # keeps false and zero, drops None, "", [] and {}
                kept[key] = item
        return kept
    if isinstance(value, list):
        items = (_pruned(raw) if isinstance(raw, dict | list) else raw for raw in value)
        return [item for item in items if item or item == 0]
    return value
