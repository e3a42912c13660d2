"""Short outcome stories as Communications from the person, with the consent to share them in a note;
a withdrawal of that consent is noted on the same Communication and marks its topic."""

from __future__ import annotations

from typing import Any

from events.entries import StoryAgreed, StoryConsentWithdrawn
from events.values import StatementMaker
from service.interop.fhir.codes import LOCAL, concept, day, instant
from service.interop.fhir.record import FhirRecord, resource_id

__all__ = ["story_agreed", "story_consent_withdrawn"]

_BY = {StatementMaker.PERSON: "the person", StatementMaker.REPRESENTATIVE: "the person's representative"}


def story_agreed(record: FhirRecord, entry: StoryAgreed) -> list[str]:
    """The story in the person's words (de-identified by its author), from them, shared by consent.

    A Communication rather than a Consent: the consent covers one text, and FHIR's Consent describes
    policies over records; the consent is kept beside the words it covers, in a note."""
    sender = (
        record.patient()
        if entry.consent_given_by is StatementMaker.PERSON
        else {"display": "The person's representative"}
    )
    consent = (
        f"Agreed for sharing, de-identified by its author; consent given by {_BY[entry.consent_given_by]}"
    )
    notes: list[dict[str, Any]] = [{"text": consent, "time": instant(entry.occurred_at)}]
    if entry.consent_note is not None:
        notes.append({"text": entry.consent_note})
    return [
        record.add(
            {
                "resourceType": "Communication",
                "id": resource_id(entry.entry_id, "Communication"),
                "status": "completed",
                "category": [concept(LOCAL["record-element"], "outcome-story", "Outcome story")],
                "subject": record.patient(),
                "sent": instant(entry.occurred_at),
                "sender": sender,
                "payload": [{"contentString": entry.story}],
                "note": notes,
            }
        )
    ]


def story_consent_withdrawn(record: FhirRecord, entry: StoryConsentWithdrawn) -> list[str]:
    """The story's Communication says consent was withdrawn, when and by whom (its words stay, as every
    entry does; reports stop showing them)."""
    story = record.find(resource_id(entry.story_id, "Communication"))
    if story is None:
        return []
    withdrawn = f"Consent to share withdrawn by {_BY[entry.withdrawn_by]} on {day(entry.occurred_at)}"
    story.setdefault("note", []).append({"text": withdrawn, "time": instant(entry.occurred_at)})
    story["topic"] = concept(LOCAL["record-element"], "story-consent-withdrawn", "Consent to share withdrawn")
    return [story["id"]]
