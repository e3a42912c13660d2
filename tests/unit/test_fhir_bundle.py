"""The FHIR Bundle of a case record: every kind of entry maps, every Bundle validates (as R4B models and
by the rules those models leave out), the same record gives the same Bundle, and every entry has its
Provenance: who, in what role, when it happened and when it was recorded."""

from __future__ import annotations

from pathlib import Path

from events.codec import ENTRY_TYPES, decode_entry
from events.entries import EntryCorrected
from service.interop.fhir import case_bundle
from service.interop.fhir.codes import IDENTIFIER, LOCAL, instant
from service.interop.fhir.fold import HANDLERS
from tests.fhir_checks import by_type, validate_bundle
from tests.unit.fhir_record import ASSEMBLED_AT, full_record

CORPUS = Path(__file__).parents[1] / "fixtures" / "entries"
IN_RECORD_ORDER = (
    "case_opened",
    "goal_set",
    "care_team_changed",
    "goal_revised",
    "milestone_added",
    "milestone_reached",
    "measure_recorded",
    "review_recorded",
    "setback_recorded",
    "escalation_raised",
    "escalation_resolved",
    "escalation_plan_agreed",
    "plan_changed",
    "plan_confirmed",
    "statement_added",
    "story_agreed",
    "story_consent_withdrawn",
    "case_closed",
    "case_reopened",
    "break_glass_granted",
    "erasure_approved",
    "text_erased",
    "entry_corrected",
)
"""The golden corpus's documents in an order a case could have recorded them (the review names the
measure, so the measure comes first)."""


def test_every_kind_of_entry_has_a_mapping() -> None:
    assert set(HANDLERS) | {EntryCorrected} == set(ENTRY_TYPES.values())


def test_the_test_record_holds_every_kind_of_entry() -> None:
    assert {type(entry) for entry in full_record().entries} == set(ENTRY_TYPES.values())


def test_the_bundle_of_every_kind_of_entry_validates() -> None:
    bundle = full_record().bundle()
    parsed = validate_bundle(bundle)
    assert parsed.entry is not None
    kinds = {entry["resource"]["resourceType"] for entry in bundle["entry"]}
    assert kinds == {
        "Patient",
        "Practitioner",
        "EpisodeOfCare",
        "CareTeam",
        "CarePlan",
        "Goal",
        "Observation",
        "QuestionnaireResponse",
        "Questionnaire",
        "ClinicalImpression",
        "Communication",
        "Provenance",
    }


def test_the_golden_corpus_maps_to_a_valid_bundle() -> None:
    """Entries as earlier versions of Waymark stored them still map."""
    assert set(IN_RECORD_ORDER) == set(ENTRY_TYPES)
    entries = [decode_entry(name, (CORPUS / f"{name}.json").read_bytes()) for name in IN_RECORD_ORDER]
    bundle = case_bundle(entries[0].case_id, len(entries), entries, assembled_at=ASSEMBLED_AT)
    validate_bundle(bundle)
    assert len(by_type(bundle, "Provenance")) == len(entries)


def test_the_same_record_gives_the_same_bundle() -> None:
    record = full_record()
    assert record.bundle() == record.bundle()


def test_every_entry_has_a_provenance_naming_who_when_and_in_what_role() -> None:
    record = full_record()
    bundle = record.bundle()
    provenances = by_type(bundle, "Provenance")
    practitioners = {f"urn:uuid:{p['id']}": p["identifier"][0] for p in by_type(bundle, "Practitioner")}
    assert [p["id"] for p in provenances] == [str(entry.entry_id) for entry in record.entries]
    for entry, found in zip(record.entries, provenances, strict=True):
        assert found["recorded"] == instant(entry.recorded_at)
        assert found["occurredDateTime"] == instant(entry.occurred_at)
        recorder = found["agent"][0]
        assert practitioners[recorder["who"]["reference"]] == {
            "system": IDENTIFIER["user"],
            "value": entry.actor.id,
        }
        assert recorder["role"][0]["coding"][0] == {
            "system": LOCAL["user-role"],
            "code": entry.actor.role.value,
        }
        activity = found["activity"]["coding"][0]["code"]
        assert activity == ("amend" if isinstance(entry, EntryCorrected) else "originate")
        assert found["target"]


def test_the_person_is_known_by_their_pseudonymous_reference_only() -> None:
    (patient,) = by_type(full_record().bundle(), "Patient")
    assert patient["identifier"] == [{"system": IDENTIFIER["person"], "value": "P-000001"}]
    assert set(patient) == {"resourceType", "id", "identifier", "meta"}
