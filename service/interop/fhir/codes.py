"""Code systems, identifier systems and extensions the FHIR mapping uses, standard and local.

Standard systems are used only where a code was verified (docs/fhir.md lists each and its source).
Everything Waymark defines itself lives under ``BASE``, a URI a deployment can register as its own.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from events.instruments import InstrumentCode

__all__ = [
    "BASE",
    "EXTENSION",
    "GOAL_ACHIEVEMENT",
    "IDENTIFIER",
    "LOCAL",
    "LOINC",
    "LOINC_TOTALS",
    "QUESTIONNAIRE_URL",
    "SURVEY",
    "concept",
    "day",
    "instant",
    "local",
]

BASE = "https://waymark.example/fhir"
"""Root of every URI Waymark defines itself (``.example`` is reserved: a trust substitutes its own)."""

LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
GOAL_ACHIEVEMENT = "http://terminology.hl7.org/CodeSystem/goal-achievement"
GOAL_RELATIONSHIP = "http://terminology.hl7.org/CodeSystem/goal-relationship-type"
GOAL_RELATIONSHIP_EXTENSION = "http://hl7.org/fhir/StructureDefinition/goal-relationship"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
INTERPRETATION = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"
REFERENCE_RANGE_MEANING = "http://terminology.hl7.org/CodeSystem/referencerange-meaning"
LIFECYCLE = "http://terminology.hl7.org/CodeSystem/iso-21089-lifecycle"
PARTICIPANT_TYPE = "http://terminology.hl7.org/CodeSystem/provenance-participant-type"

LOINC_TOTALS: dict[InstrumentCode, tuple[str, str]] = {
    InstrumentCode.PHQ9: ("44261-6", "Patient Health Questionnaire 9 item (PHQ-9) total score [Reported]"),
    InstrumentCode.GAD7: (
        "70274-6",
        "Generalized anxiety disorder 7 item (GAD-7) total score [Reported.PHQ]",
    ),
}
"""Total-score LOINC codes that were verified; the other instruments have none Waymark could verify and
are coded in the local ``instrument`` system only."""


def local(name: str) -> str:
    """The URI of one of Waymark's local code systems, such as ``outcome-domain``."""
    return f"{BASE}/CodeSystem/{name}"


LOCAL = {
    name: local(name)
    for name in (
        "outcome-domain",
        "instrument",
        "instrument-item",
        "review-rating",
        "review-kind",
        "record-element",
        "escalation-severity",
        "contributing-factor",
        "closure-reason",
        "user-role",
        "record-keeping",
    )
}
IDENTIFIER = {
    "person": f"{BASE}/identifier/person-ref",
    "user": f"{BASE}/identifier/user-id",
    "case": f"{BASE}/identifier/case-id",
    "entry": f"{BASE}/identifier/entry-id",
}
EXTENSION = {
    "outcome-domain": f"{BASE}/StructureDefinition/outcome-domain",
    "instrument-version": f"{BASE}/StructureDefinition/instrument-version",
}
QUESTIONNAIRE_URL = f"{BASE}/Questionnaire/recovery-review"
SURVEY = {"coding": [{"system": OBSERVATION_CATEGORY, "code": "survey", "display": "Survey"}]}


def concept(system: str, code: str, display: str | None = None, *, text: str | None = None) -> dict[str, Any]:
    """A CodeableConcept of one coding."""
    coding: dict[str, Any] = {"system": system, "code": code}
    if display is not None:
        coding["display"] = display
    result: dict[str, Any] = {"coding": [coding]}
    if text is not None:
        result["text"] = text
    return result


def instant(moment: datetime) -> str:
    """A FHIR instant or dateTime: always with its offset (a time without one is taken as UTC)."""
    return (moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)).isoformat()


def day(moment: date | datetime) -> str:
    """A FHIR date."""
    return (moment.date() if isinstance(moment, datetime) else moment).isoformat()
