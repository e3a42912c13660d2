"""Outcome stories: a story is shared only once de-identified, in the case's domains; a withdrawal of
consent names a story of the same case; the FHIR record keeps the words and notes the withdrawal."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from events.case import Case
from events.entries import StoryAgreed, StoryConsentWithdrawn
from events.errors import CorrectionNotAllowed, DomainNotInCase, EntryNotFound, InvalidEntry
from events.values import OutcomeDomain, StatementMaker
from service.interop.fhir import case_bundle
from service.interop.fhir.record import resource_id
from tests.fhir_checks import by_type, validate_bundle
from tests.unit.builders import SAMPLE_FIELDS, correction, goal, make, opened


def agree(case: Case, **fields: Any) -> StoryAgreed:
    return case.record(make(StoryAgreed, **(SAMPLE_FIELDS[StoryAgreed] | fields)))


def withdraw(case: Case, story_id: uuid.UUID) -> StoryConsentWithdrawn:
    return case.record(make(StoryConsentWithdrawn, story_id=story_id, withdrawn_by=StatementMaker.PERSON))


def test_a_story_not_de_identified_is_refused(opened_case: Case) -> None:
    with pytest.raises(InvalidEntry) as refused:
        agree(opened_case, de_identified=False)
    assert refused.value.field == "de_identified"


def test_a_story_names_only_the_case_s_domains(opened_case: Case) -> None:
    outside = next(d for d in OutcomeDomain if d not in opened_case.state.domains)
    with pytest.raises(DomainNotInCase):
        agree(opened_case, domains=(outside,))


def test_a_withdrawal_names_a_story_of_this_case(opened_case: Case) -> None:
    not_a_story = goal(opened_case)
    for story_id in (uuid.uuid4(), not_a_story.entry_id):
        with pytest.raises(EntryNotFound) as refused:
            withdraw(opened_case, story_id)
        assert refused.value.field == "story_id"
    withdraw(opened_case, agree(opened_case).entry_id)


def test_a_correction_cannot_move_a_withdrawal_onto_another_story(opened_case: Case) -> None:
    """The story a withdrawal names comes from the path, as an escalation's resolution does: fixed."""
    withdrawal = withdraw(opened_case, agree(opened_case).entry_id)
    other = agree(opened_case)
    with pytest.raises(CorrectionNotAllowed):
        correction(opened_case, withdrawal, story_id=other.entry_id)


def test_the_fhir_record_keeps_the_story_and_notes_its_withdrawal() -> None:
    case = Case.open(opened())
    story = agree(case)
    withdrawal = withdraw(case, story.entry_id)
    entries = [event.entry for event in case.collect_events()]
    bundle = case_bundle(case.id, len(entries), entries, assembled_at=withdrawal.recorded_at)
    validate_bundle(bundle)
    (shared,) = [
        c for c in by_type(bundle, "Communication") if c["id"] == resource_id(story.entry_id, "Communication")
    ]
    assert shared["payload"] == [{"contentString": story.story}]
    assert shared["topic"]["coding"][0]["code"] == "story-consent-withdrawn"
    assert "withdrawn by the person" in shared["note"][-1]["text"]
