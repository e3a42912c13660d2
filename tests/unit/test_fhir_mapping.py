"""Each mapping decision that could be wrong: LOINC codes, goal achievement codes, corrections as
amendments, late entries, thresholds, the review's answers, what prompted a plan change, milestones,
the episode's status, and the person's statements."""

from __future__ import annotations

from typing import Any

import pytest

from events.case import Case
from events.entries import EscalationPlanAgreed, GoalRevised
from events.instruments import InstrumentCode, catalogue
from events.values import GoalAchievement
from service.interop.fhir import case_bundle
from service.interop.fhir.codes import EXTENSION, GOAL_ACHIEVEMENT, IDENTIFIER, LOCAL, LOINC
from service.interop.fhir.provenance import LATE_ENTRY
from service.interop.fhir.record import resource_id
from service.interop.fhir.review import QUESTIONNAIRE, QUESTIONS
from tests.fhir_checks import by_type, validate_bundle
from tests.unit.builders import (
    CASE_ID,
    CONNECTION,
    correction,
    goal,
    make,
    measure,
    milestone,
    opened,
    review,
    sample,
)
from tests.unit.fhir_record import ASSEMBLED_AT, full_record

Resource = dict[str, Any]


def _one_case(fill: Any) -> dict[str, Any]:
    """The Bundle of a case opened and then given what ``fill`` records."""
    opening = opened()
    case = Case.open(opening)
    fill(case)
    entries = [event.entry for event in case.collect_events()]
    bundle = case_bundle(CASE_ID, len(entries), entries, assembled_at=ASSEMBLED_AT)
    validate_bundle(bundle)
    return bundle


def _by_id(bundle: dict[str, Any], rid: str) -> Resource:
    return next(e["resource"] for e in bundle["entry"] if e["resource"]["id"] == rid)


@pytest.mark.parametrize(
    ("instrument", "loinc"),
    [
        (InstrumentCode.PHQ9, "44261-6"),
        (InstrumentCode.GAD7, "70274-6"),
        *((c, None) for c in InstrumentCode if c.value not in {"phq9", "gad7"}),
    ],
)
def test_a_measure_is_coded_in_loinc_where_a_code_exists_and_locally_always(
    instrument: InstrumentCode, loinc: str | None
) -> None:
    items = (catalogue()[instrument].item_min,) * catalogue()[instrument].item_count
    (observation,) = by_type(_one_case(lambda case: measure(case, instrument, items=items)), "Observation")
    codings = observation["code"]["coding"]
    assert [c["code"] for c in codings if c["system"] == LOINC] == ([loinc] if loinc else [])
    assert {"system": LOCAL["instrument"], "code": instrument.value} in [
        {"system": c["system"], "code": c["code"]} for c in codings
    ]
    version = {"url": EXTENSION["instrument-version"], "valueString": catalogue()[instrument].version}
    assert version in observation["extension"]


@pytest.mark.parametrize("achievement", list(GoalAchievement))
def test_goal_achievement_is_in_fhir_s_own_codes(achievement: GoalAchievement) -> None:
    def fill(case: Case) -> None:
        the_goal = goal(case)
        case.record(make(GoalRevised, goal_id=the_goal.entry_id, reason="moved on", achievement=achievement))

    (found,) = by_type(_one_case(fill), "Goal")
    assert found["achievementStatus"]["coding"][0]["system"] == GOAL_ACHIEVEMENT
    assert found["achievementStatus"]["coding"][0]["code"] == achievement.value
    ended = achievement in {GoalAchievement.ACHIEVED, GoalAchievement.NOT_ACHIEVED}
    assert found["lifecycleStatus"] == ("completed" if ended else "active")


def test_a_correction_is_an_amendment_naming_the_version_it_replaces() -> None:
    record = full_record()
    bundle = record.bundle()
    the_goal = _by_id(bundle, resource_id(record.goal.entry_id, "Goal"))
    first, second = record.goal_corrections
    assert the_goal["description"]["text"] == "feel calm before ten"
    # goal_set, goal_revised, milestone_added, two corrections
    assert the_goal["meta"]["versionId"] == "5"
    for amendment, replaces in ((first, record.goal.entry_id), (second, first.entry_id)):
        provenance = _by_id(bundle, str(amendment.entry_id))
        assert provenance["activity"]["coding"][0]["code"] == "amend"
        assert provenance["target"] == [{"reference": f"urn:uuid:{the_goal['id']}"}]
        assert provenance["reason"] == [{"text": "recorded in error"}]
        (revision,) = provenance["entity"]
        assert revision["role"] == "revision"
        assert revision["what"]["identifier"] == {"system": IDENTIFIER["entry"], "value": str(replaces)}


def test_a_corrected_measure_shows_its_current_values_and_is_marked_corrected() -> None:
    record = full_record()
    bundle = record.bundle()
    observation = _by_id(bundle, resource_id(record.phq9.entry_id, "Observation"))
    assert observation["status"] == "corrected"
    assert observation["valueQuantity"]["value"] == 0
    assert [c["valueInteger"] for c in observation["component"]] == [0] * 9
    assert observation["interpretation"][0]["coding"][0]["code"] == "N"
    assert observation["meta"]["versionId"] == "2"
    ratings = [
        o
        for o in by_type(bundle, "Observation")
        if o["code"]["coding"][0]["system"] == LOCAL["review-rating"]
    ]
    assert ratings
    assert {o["status"] for o in ratings} == {"final"}


def test_a_late_entry_is_tagged_and_keeps_both_times() -> None:
    record = full_record()
    bundle = record.bundle()
    late = _by_id(bundle, str(record.late.entry_id))
    assert late["meta"]["tag"] == [LATE_ENTRY]
    assert late["occurredDateTime"] < late["recorded"]
    on_time = _by_id(bundle, str(record.goal.entry_id))
    assert "tag" not in on_time.get("meta", {})


@pytest.mark.parametrize(
    ("instrument", "bounds"),
    [
        (InstrumentCode.PHQ9, {"high": 9}),
        (InstrumentCode.GAD7, {"high": 7}),
        (InstrumentCode.CORE10, {"high": 10}),
        (InstrumentCode.REQOL10, {"low": 24}),
        (InstrumentCode.WEMWBS, {"low": 41}),
        (InstrumentCode.SWEMWBS, {}),
    ],
)
def test_the_thresholds_used_are_the_reference_range(
    instrument: InstrumentCode, bounds: dict[str, int]
) -> None:
    spec = catalogue()[instrument]
    items = (spec.item_max,) * spec.item_count
    (observation,) = by_type(_one_case(lambda case: measure(case, instrument, items=items)), "Observation")
    (reference_range,) = observation["referenceRange"]
    assert {k: reference_range[k]["value"] for k in ("low", "high") if k in reference_range} == bounds
    assert spec.thresholds.source in reference_range["text"]
    clinical = observation.get("interpretation", [{}])[0].get("coding", [{}])[0].get("code")
    expected = None if spec.thresholds.cutoff is None else ("A" if not spec.higher_is_better else "N")
    assert clinical == expected


def test_a_review_answers_the_recovery_questionnaire_and_its_ratings_derive_from_it() -> None:
    record = full_record()
    bundle = record.bundle()
    response = _by_id(bundle, resource_id(record.review.entry_id, "QuestionnaireResponse"))
    assert response["questionnaire"] == f"{QUESTIONNAIRE['url']}|{QUESTIONNAIRE['version']}"
    answers = {item["linkId"]: item["answer"][0] for item in response["item"]}
    assert set(answers) <= {item["linkId"] for item in QUESTIONNAIRE["item"]}
    assert {field: answers[field]["valueString"] for field in QUESTIONS} == {
        "easier_now": "mornings",
        "most_difficult": "crowds",
        "helpful_strategies": "planning the route",
        "next_step": "bus with support",
    }
    measure_reference = answers["measures"]["valueReference"]["reference"]
    assert measure_reference == f"urn:uuid:{resource_id(record.phq9.entry_id, 'Observation')}"
    derived = [o for o in by_type(bundle, "Observation") if o.get("derivedFrom")]
    assert {o["code"]["coding"][0]["code"]: o["valueInteger"] for o in derived} == {
        "stability_self_management": 5,
        "confidence": 5,
        "autonomy": 5,
    }
    assert {o["derivedFrom"][0]["reference"] for o in derived} == {f"urn:uuid:{response['id']}"}


def test_a_plan_change_names_what_prompted_it_as_its_sources() -> None:
    record = full_record()
    bundle = record.bundle()
    change = next(
        p for p in by_type(bundle, "Provenance") if p.get("entity", [{}])[0].get("role") == "source"
    )
    assert [e["what"]["reference"] for e in change["entity"]] == [
        f"urn:uuid:{resource_id(record.review.entry_id, 'QuestionnaireResponse')}",
        f"urn:uuid:{resource_id(record.setback.entry_id, 'ClinicalImpression')}",
    ]
    plan, _crisis_plan = by_type(bundle, "CarePlan")
    assert change["target"] == [{"reference": f"urn:uuid:{plan['id']}"}]
    assert [a["detail"]["description"] for a in plan["activity"]] == [
        "4 hours of support a week",
        "peer group",
    ]


def test_a_crisis_plan_is_a_care_plan_of_what_helps_whom_to_contact_and_the_early_signs() -> None:
    _support, crisis = by_type(full_record().bundle(), "CarePlan")
    agreed = sample(EscalationPlanAgreed)
    assert crisis["title"] == "Crisis and escalation plan"
    assert crisis["period"] == {"start": agreed.occurred_at.date().isoformat(), "end": "2026-09-01"}
    assert [
        (a["detail"]["code"]["coding"][0]["code"], a["detail"]["description"]) for a in crisis["activity"]
    ] == [
        ("what-helps", "a walk with my sister"),
        ("crisis-contact", "keyworker via the team line"),
        ("crisis-contact", "crisis team out of hours"),
    ]
    assert [note["text"] for note in crisis["note"]] == [
        "Early sign: sleeping less",
        "Early sign: not answering texts",
        "A copy is held by the person, GP, sister",
    ]


def test_a_milestone_is_a_goal_its_goal_names_as_a_milestone() -> None:
    bundle = full_record().bundle()
    parent, step, _ = by_type(bundle, "Goal")
    (relationship,) = parent["extension"]
    parts = {part["url"]: part for part in relationship["extension"]}
    assert parts["type"]["valueCodeableConcept"]["coding"][0]["code"] == "milestone"
    assert parts["target"]["valueReference"] == {"reference": f"urn:uuid:{step['id']}"}
    assert (step["lifecycleStatus"], step["achievementStatus"]["coding"][0]["code"]) == (
        "completed",
        "achieved",
    )


def test_closing_and_reopening_are_the_episode_s_status_history() -> None:
    (episode,) = by_type(full_record().bundle(), "EpisodeOfCare")
    assert [h["status"] for h in episode["statusHistory"]] == ["active", "finished", "active"]
    assert episode["status"] == "active"
    assert "end" not in episode["period"]


def test_a_statement_is_the_person_s_own_entered_by_the_clinician() -> None:
    record = full_record()
    bundle = record.bundle()
    (statement,) = [
        c for c in by_type(bundle, "Communication") if c["category"][0]["coding"][0]["code"] == "statement"
    ]
    (patient,) = by_type(bundle, "Patient")
    assert statement["sender"] == {"reference": f"urn:uuid:{patient['id']}"}
    assert statement["about"] == [
        {"reference": f"urn:uuid:{resource_id(record.review.entry_id, 'QuestionnaireResponse')}"}
    ]
    provenance = next(
        p for p in by_type(bundle, "Provenance") if p["target"][0]["reference"].endswith(statement["id"])
    )
    assert [a["type"]["coding"][0]["code"] for a in provenance["agent"]] == ["enterer", "author"]
    assert provenance["agent"][1]["who"] == statement["sender"]


def test_a_correction_amends_only_the_resources_whose_values_it_changed() -> None:
    """Correcting a review's confidence amends its answers and its confidence rating, not its other
    ratings; moving a milestone to a goal in another domain amends both goals and the milestone."""

    def fill(case: Case) -> None:
        the_review = review(case)
        correction(case, the_review, confidence=8)

    bundle = _one_case(fill)
    changed = {
        o["code"]["coding"][0]["code"]: (o["status"], o["meta"]["versionId"])
        for o in by_type(bundle, "Observation")
    }
    assert changed == {
        "stability_self_management": ("final", "1"),
        "confidence": ("corrected", "2"),
        "autonomy": ("final", "1"),
    }
    (response,) = by_type(bundle, "QuestionnaireResponse")
    assert (response["status"], response["meta"]["versionId"]) == ("amended", "2")
    amendment = by_type(bundle, "Provenance")[-1]
    assert len(amendment["target"]) == 2

    def move(case: Case) -> None:
        first, second = goal(case), goal(case, CONNECTION, "see friends")
        step = milestone(case, first.entry_id)
        correction(case, step, goal_id=second.entry_id)

    bundle = _one_case(move)
    first, second, step = by_type(bundle, "Goal")
    assert "extension" not in first
    assert second["extension"][0]["extension"][1]["valueReference"] == {"reference": f"urn:uuid:{step['id']}"}
    assert {t["reference"] for t in by_type(bundle, "Provenance")[-1]["target"]} == {
        f"urn:uuid:{r['id']}" for r in (first, second, step)
    }
