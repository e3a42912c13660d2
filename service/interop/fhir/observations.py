"""Outcome measures, escalations and setbacks.

A scored measure is an Observation coded in LOINC where a total-score code was verified (always also in
the local instrument system), carrying its instrument version, the thresholds it was labelled with
(reference range and interpretation) and its item scores. An escalation is an Observation of the
event (severity, trigger, response, resolution over its period); a setback is a ClinicalImpression (what
happened, the contributing factors as findings, what was learned).
"""

from __future__ import annotations

import math
from typing import Any

from events.entries import EscalationRaised, EscalationResolved, MeasureRecorded, SetbackRecorded
from events.instruments import MeasureScore, Thresholds, catalogue
from events.values import OutcomeDomain
from service.interop.fhir.codes import (
    EXTENSION,
    INTERPRETATION,
    LOCAL,
    LOINC,
    LOINC_TOTALS,
    REFERENCE_RANGE_MEANING,
    SURVEY,
    UCUM,
    concept,
    instant,
)
from service.interop.fhir.record import FhirRecord, resource_id

__all__ = ["SEVERITY", "escalation_raised", "escalation_resolved", "measure_recorded", "setback_recorded"]

SEVERITY = {1: "low", 2: "moderate", 3: "high", 4: "crisis"}
_RULE = {"below": "below", "at_or_above": "at or above", "at_or_below": "at or below"}


def domains(values: tuple[OutcomeDomain, ...] | list[OutcomeDomain]) -> list[dict[str, Any]]:
    """The outcome domains a resource concerns, as Waymark's extension."""
    return [
        {
            "url": EXTENSION["outcome-domain"],
            "valueCoding": {"system": LOCAL["outcome-domain"], "code": d.value},
        }
        for d in values
    ]


def _score(value: float) -> dict[str, Any]:
    return {"value": value, "unit": "score", "system": UCUM, "code": "{score}"}


def measure_recorded(record: FhirRecord, entry: MeasureRecorded) -> list[str]:
    """The total score, coded, valued and interpreted as it was labelled when recorded."""
    instrument = catalogue()[entry.instrument]
    score = entry.score
    version = {"url": EXTENSION["instrument-version"], "valueString": score.instrument_version}
    observation = {
        "resourceType": "Observation",
        "id": resource_id(entry.entry_id, "Observation"),
        "extension": [version, *domains([entry.domain] if entry.domain else [])],
        "status": "final",
        "category": [SURVEY],
        "code": _code(entry, instrument.name),
        "subject": record.patient(),
        "effectiveDateTime": instant(entry.occurred_at),
        "issued": instant(entry.recorded_at),
        "performer": [record.practitioner(entry.actor.id)],
        "valueQuantity": _score(score.score),
        "interpretation": _interpretation(score),
        "referenceRange": [_reference_range(score.thresholds, whole=instrument.metric is None)],
        "component": _items(entry),
    }
    return [record.add(observation)]


def _code(entry: MeasureRecorded, name: str) -> dict[str, Any]:
    """The total score's code: the verified LOINC code first, where there is one; the local code always."""
    codings = [{"system": LOCAL["instrument"], "code": entry.instrument.value, "display": name}]
    if entry.instrument in LOINC_TOTALS:
        code, display = LOINC_TOTALS[entry.instrument]
        codings.insert(0, {"system": LOINC, "code": code, "display": display})
    return {"coding": codings, "text": f"{name} total score"}


def _items(entry: MeasureRecorded) -> list[dict[str, Any]]:
    """Each item score as sent, and the raw total where the reported score is converted from it."""
    prefix = entry.instrument.value
    items: list[dict[str, Any]] = [
        {"code": concept(LOCAL["instrument-item"], f"{prefix}-{n}"), "valueInteger": value}
        for n, value in enumerate(entry.items, start=1)
    ]
    if entry.score.score != entry.score.raw_total:
        raw = concept(LOCAL["instrument-item"], f"{prefix}-raw-total", "Raw total")
        items.insert(0, {"code": raw, "valueQuantity": _score(entry.score.raw_total)})
    return items


def _interpretation(score: MeasureScore) -> list[dict[str, Any]]:
    found = []
    if score.clinical_range is not None:
        code, display = ("A", "Abnormal") if score.clinical_range else ("N", "Normal")
        text = "In the clinical range" if score.clinical_range else "Not in the clinical range"
        found.append(concept(INTERPRETATION, code, display, text=text))
    if score.band is not None:
        found.append({"text": f"Severity band: {score.band}"})
    return found


def _reference_range(thresholds: Thresholds, *, whole: bool) -> dict[str, Any]:
    """The non-clinical range as bounds where exact (scores in whole numbers make a strict cut-off
    inclusive), and always in words: the rule, the reliable-change threshold and their source."""
    cutoff, rule = thresholds.cutoff, thresholds.clinical_when
    words = (
        "No clinical cut-off"
        if cutoff is None or rule is None
        else f"Clinical range: {_RULE[rule]} {cutoff:g}"
    )
    if thresholds.reliable_change is not None:
        words += f"; reliable change {thresholds.reliable_change:g}"
    found: dict[str, Any] = {"text": f"{words}. Source: {thresholds.source}"}
    if cutoff is not None and (rule == "below" or (whole and rule is not None)):
        found["type"] = concept(REFERENCE_RANGE_MEANING, "normal", "Normal Range")
        if rule == "below":
            found["low"] = _score(cutoff)
        elif rule == "at_or_above":
            found["high"] = _score(math.ceil(cutoff) - 1)
        else:
            found["low"] = _score(math.floor(cutoff) + 1)
    return found


def _text(code: str, display: str, value: str) -> dict[str, Any]:
    return {"code": concept(LOCAL["record-element"], code, display), "valueString": value}


def escalation_raised(record: FhirRecord, entry: EscalationRaised) -> list[str]:
    """The escalation from when it was raised: severity, trigger, response, escalation plan used early."""
    observation = {
        "resourceType": "Observation",
        "id": resource_id(entry.entry_id, "Observation"),
        "extension": domains(entry.domains),
        "status": "final",
        "code": concept(LOCAL["record-element"], "escalation", "Escalation"),
        "subject": record.patient(),
        "effectivePeriod": {"start": instant(entry.occurred_at)},
        "issued": instant(entry.recorded_at),
        "performer": [record.practitioner(entry.actor.id)],
        "valueCodeableConcept": concept(
            LOCAL["escalation-severity"], str(entry.severity), SEVERITY[entry.severity]
        ),
        "component": [
            {
                "code": concept(
                    LOCAL["record-element"], "escalation-plan-used-early", "Escalation plan used early"
                ),
                "valueBoolean": entry.escalation_plan_used_early,
            },
            _text("escalation-trigger", "Trigger", entry.trigger),
            _text("escalation-response", "Response", entry.response),
        ],
    }
    return [record.add(observation)]


def escalation_resolved(record: FhirRecord, entry: EscalationResolved) -> list[str]:
    """The escalation's period ends; the resolution joins its components."""
    observation = record.find(resource_id(entry.escalation_id, "Observation"))
    if observation is None:
        return []
    observation["effectivePeriod"]["end"] = instant(entry.occurred_at)
    observation["component"].append(_text("escalation-resolution", "Resolution", entry.resolution))
    return [observation["id"]]


def setback_recorded(record: FhirRecord, entry: SetbackRecorded) -> list[str]:
    """The setback as an assessment of what happened, never framed as failure: contributing factors as
    findings, what was learned as the summary, risk management and adaptation as notes."""
    notes = [f"Risk management: {entry.risk_management}", f"Adaptation: {entry.adaptation}"]
    if entry.factors_detail:
        notes.append(f"Contributing factors: {entry.factors_detail}")
    impression = {
        "resourceType": "ClinicalImpression",
        "id": resource_id(entry.entry_id, "ClinicalImpression"),
        "extension": domains(entry.domains),
        "status": "completed",
        "code": concept(LOCAL["record-element"], "setback", "Setback"),
        "description": entry.what_happened,
        "subject": record.patient(),
        "effectiveDateTime": instant(entry.occurred_at),
        "date": instant(entry.recorded_at),
        "assessor": record.practitioner(entry.actor.id),
        "summary": entry.learning,
        "finding": [
            {"itemCodeableConcept": concept(LOCAL["contributing-factor"], f.value)}
            for f in entry.contributing_factors
        ],
        "note": [{"text": note} for note in notes],
    }
    return [record.add(impression)]
