"""A review as a QuestionnaireResponse to Waymark's recovery-review Questionnaire (kind, ratings, the
four recovery questions in the person's words, the measures taken), and an Observation for each rating,
derived from it."""

from __future__ import annotations

from typing import Any

from events.entries import ReviewRecorded
from events.values import OutcomeDomain, ReviewKind
from service.interop.fhir.codes import LOCAL, QUESTIONNAIRE_URL, SURVEY, concept, instant
from service.interop.fhir.record import FhirRecord, reference, resource_id

__all__ = ["QUESTIONNAIRE", "QUESTIONNAIRE_VERSION", "review_recorded"]

QUESTIONNAIRE_VERSION = "1"
DOMAIN_NAMES = {
    OutcomeDomain.STABILITY_SELF_MANAGEMENT: "Stability and self-management",
    OutcomeDomain.DAILY_LIVING_INDEPENDENCE: "Daily living and independence",
    OutcomeDomain.CONNECTION_PARTICIPATION: "Connection and participation",
    OutcomeDomain.CRISIS_PATTERN_REDUCTION: "Crisis pattern reduction",
}
RATINGS = {
    **{d.value: f"Rating: {name}" for d, name in DOMAIN_NAMES.items()},
    "confidence": "Confidence",
    "autonomy": "Autonomy",
}
"""The ratings a review records (1 to 10), by their code in the local ``review-rating`` system."""
QUESTIONS = {
    "easier_now": "What feels easier now than three months ago?",
    "most_difficult": "What still feels most difficult?",
    "helpful_strategies": "Which support strategies help most?",
    "next_step": "What is a realistic next step?",
}
"""The four recovery questions, by the review's field (and linkId)."""

QUESTIONNAIRE: dict[str, Any] = {
    "resourceType": "Questionnaire",
    "id": resource_id(QUESTIONNAIRE_URL, QUESTIONNAIRE_VERSION),
    "url": QUESTIONNAIRE_URL,
    "version": QUESTIONNAIRE_VERSION,
    "name": "RecoveryReview",
    "title": "Recovery-focused review",
    "status": "active",
    "item": [
        {
            "linkId": "kind",
            "text": "Kind of review",
            "type": "choice",
            "answerOption": [
                {"valueCoding": {"system": LOCAL["review-kind"], "code": k.value}} for k in ReviewKind
            ],
        },
        *({"linkId": code, "text": f"{text} (1-10)", "type": "integer"} for code, text in RATINGS.items()),
        *({"linkId": field, "text": text, "type": "text"} for field, text in QUESTIONS.items()),
        {
            "linkId": "measures",
            "text": "Outcome measures taken for the review",
            "type": "reference",
            "repeats": True,
        },
    ],
}
"""Waymark's review questions, defined once; each review's QuestionnaireResponse names it by URL."""


def review_recorded(record: FhirRecord, entry: ReviewRecorded) -> list[str]:
    """The review's answers, then one Observation per rating derived from them."""
    ratings = {
        **{d.value: v for d, v in entry.ratings.items()},
        "confidence": entry.confidence,
        "autonomy": entry.autonomy,
    }
    response_id = record.add(
        {
            "resourceType": "QuestionnaireResponse",
            "id": resource_id(entry.entry_id, "QuestionnaireResponse"),
            "questionnaire": f"{QUESTIONNAIRE_URL}|{QUESTIONNAIRE_VERSION}",
            "status": "completed",
            "subject": record.patient(),
            "authored": instant(entry.occurred_at),
            "author": record.practitioner(entry.actor.id),
            "source": record.patient(),
            "item": _answers(record, entry, ratings),
        }
    )
    return [
        response_id,
        *(_rating(record, entry, code, value, response_id) for code, value in ratings.items()),
    ]


def _answers(record: FhirRecord, entry: ReviewRecorded, ratings: dict[str, int]) -> list[dict[str, Any]]:
    """The answers, by the Questionnaire's linkIds: the questions the review left open are left out."""
    kind = {"system": LOCAL["review-kind"], "code": entry.kind.value}
    items: list[dict[str, Any]] = [
        {"linkId": "kind", "answer": [{"valueCoding": kind}]},
        *({"linkId": code, "answer": [{"valueInteger": value}]} for code, value in ratings.items()),
    ]
    for field in QUESTIONS:
        answer = getattr(entry, field)
        if answer is not None:
            items.append({"linkId": field, "answer": [{"valueString": answer}]})
    if entry.measure_ids:
        measures = [{"valueReference": record.entry(m)} for m in entry.measure_ids]
        items.append({"linkId": "measures", "answer": measures})
    return items


def _rating(record: FhirRecord, entry: ReviewRecorded, code: str, value: int, response_id: str) -> str:
    """One rating as an Observation of its own, derived from the review's answers."""
    return record.add(
        {
            "resourceType": "Observation",
            "id": resource_id(entry.entry_id, f"Observation/{code}"),
            "status": "final",
            "category": [SURVEY],
            "code": concept(LOCAL["review-rating"], code, RATINGS[code]),
            "subject": record.patient(),
            "effectiveDateTime": instant(entry.occurred_at),
            "issued": instant(entry.recorded_at),
            "performer": [record.practitioner(entry.actor.id)],
            "valueInteger": value,
            "derivedFrom": [reference(response_id)],
        }
    )
