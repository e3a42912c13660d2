"""The resources a case record maps to, keyed by deterministic ids, with the people they refer to."""

from __future__ import annotations

import uuid
from typing import Any
from uuid import UUID

from events.values import Plan
from service.interop.fhir.codes import BASE, IDENTIFIER

__all__ = ["FhirRecord", "reference", "resource_id"]

_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, BASE)


def resource_id(key: UUID | str, part: str) -> str:
    """A resource's id, the same for the same record every time: derived from the entry (or case,
    person or user) it comes from and which of that entry's resources it is."""
    return str(uuid.uuid5(_NAMESPACE, f"{key}/{part}"))


def reference(rid: str) -> dict[str, str]:
    """A reference to a resource in the same Bundle (every entry's fullUrl is its urn:uuid)."""
    return {"reference": f"urn:uuid:{rid}"}


class FhirRecord:
    """The resources built so far, in the order they were first made."""

    def __init__(self, case_id: UUID) -> None:
        self.case_id = case_id
        self.resources: dict[str, dict[str, Any]] = {}
        self.patient_id = ""
        self.plan = Plan()
        self.primary: dict[UUID, str] = {}
        """Each folded entry's main resource (its first), for references from later entries."""

    def case_part(self, part: str) -> str:
        """The id of a resource the whole case has one of (EpisodeOfCare, CareTeam, CarePlan)."""
        return resource_id(self.case_id, part)

    def add(self, resource: dict[str, Any]) -> str:
        """Keep a new resource (which carries its id); return the id."""
        rid: str = resource["id"]
        self.resources[rid] = resource
        return rid

    def entry(self, entry_id: UUID) -> dict[str, str]:
        """A reference to what an entry recorded: its main resource or, for an entry with none of its
        own (a correction), its Provenance, whose id is the entry id."""
        return reference(self.primary.get(entry_id, str(entry_id)))

    def find(self, rid: str) -> dict[str, Any] | None:
        """A resource already built, if it is."""
        return self.resources.get(rid)

    def patient(self) -> dict[str, str]:
        """A reference to the person the record is about."""
        return reference(self.patient_id)

    def set_patient(self, person_ref: str) -> str:
        """The person, known here only by the service's pseudonymous reference: no name, no NHS number."""
        self.patient_id = resource_id(f"person:{person_ref}", "Patient")
        if self.patient_id not in self.resources:
            self.add(
                {
                    "resourceType": "Patient",
                    "id": self.patient_id,
                    "identifier": [{"system": IDENTIFIER["person"], "value": person_ref}],
                }
            )
        return self.patient_id

    def practitioner(self, user_id: str) -> dict[str, str]:
        """A reference to a Waymark user (made once, known by the user id alone)."""
        rid = resource_id(f"user:{user_id}", "Practitioner")
        if rid not in self.resources:
            self.add(
                {
                    "resourceType": "Practitioner",
                    "id": rid,
                    "identifier": [{"system": IDENTIFIER["user"], "value": user_id}],
                }
            )
        return reference(rid)
