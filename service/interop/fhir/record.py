"""The resources a case record maps to, keyed by deterministic ids, with the people they refer to."""

from __future__ import annotations

import copy
import functools
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


@functools.lru_cache(maxsize=4096)
def _practitioner_id(user_id: str) -> str:
    return resource_id(f"user:{user_id}", "Practitioner")


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
        self._base: FhirRecord | None = None

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
        """A resource already built, if it is (in a scratch record, a copy of the base record's)."""
        if rid not in self.resources and self._base is not None and rid in self._base.resources:
            self.resources[rid] = copy.deepcopy(self._base.resources[rid])
        return self.resources.get(rid)

    def get(self, rid: str) -> dict[str, Any]:
        """A resource that must exist, such as one the opening of the case made."""
        found = self.find(rid)
        if found is None:
            raise KeyError(rid)
        return found

    def scratch(self) -> FhirRecord:
        """A record to try an entry on: it reads this one's resources, and changes only its own copies."""
        tried = FhirRecord(self.case_id)
        tried._base, tried.patient_id, tried.plan, tried.primary = (
            self,
            self.patient_id,
            self.plan,
            self.primary,
        )
        return tried

    def patient(self) -> dict[str, str]:
        """A reference to the person the record is about."""
        return reference(self.patient_id)

    def set_patient(self, person_ref: str) -> str:
        """The person, known here only by the service's pseudonymous reference: no name, no NHS number."""
        self.patient_id = resource_id(f"person:{person_ref}", "Patient")
        if self.find(self.patient_id) is None:
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
        rid = _practitioner_id(user_id)
        if self.find(rid) is None:
            self.add(
                {
                    "resourceType": "Practitioner",
                    "id": rid,
                    "identifier": [{"system": IDENTIFIER["user"], "value": user_id}],
                }
            )
        return reference(rid)
