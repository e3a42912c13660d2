"""The case as a whole: EpisodeOfCare (open and closed), CareTeam, CarePlan (the current support, its
changes and confirmations as notes), the crisis (escalation) plan as a second CarePlan, and the person's
statements as Communications."""

from __future__ import annotations

from typing import Any

from events.entries import (
    BreakGlassGranted,
    CareTeamChanged,
    CaseClosed,
    CaseOpened,
    CaseReopened,
    ErasureApproved,
    EscalationPlanAgreed,
    PlanChanged,
    PlanConfirmed,
    StatementAdded,
    TextErased,
)
from events.state import changed_plan
from events.values import ClosureReason, StatementMaker
from service.interop.fhir.codes import IDENTIFIER, LOCAL, concept, day, instant
from service.interop.fhir.record import FhirRecord, reference, resource_id

__all__ = [
    "break_glass_granted",
    "care_team_changed",
    "case_closed",
    "case_opened",
    "case_reopened",
    "erasure_recorded",
    "escalation_plan_agreed",
    "plan_changed",
    "plan_confirmed",
    "statement_added",
]

EPISODE, TEAM, PLAN = "EpisodeOfCare", "CareTeam", "CarePlan"
CRISIS_PLAN = "CarePlan/escalation"
"""The case's one crisis plan: each plan agreed replaces its content (earlier ones are in the history)."""


def case_opened(record: FhirRecord, entry: CaseOpened) -> list[str]:
    """The episode of care, its care team and an empty plan, for the person by their pseudonym."""
    patient_id = record.set_patient(entry.person_ref)
    episode, team, plan = (record.case_part(p) for p in (EPISODE, TEAM, PLAN))
    start = day(entry.opened_on)
    record.add(
        {
            "resourceType": EPISODE,
            "id": episode,
            "identifier": [{"system": IDENTIFIER["case"], "value": str(entry.case_id)}],
            "status": "active",
            "statusHistory": [{"status": "active", "period": {"start": start}}],
            "type": [{"text": entry.service}],
            "patient": record.patient(),
            "period": {"start": start},
            "team": [reference(team)],
        }
    )
    record.add({"resourceType": TEAM, "id": team, "status": "active", "subject": record.patient()})
    _members(record, entry.care_team)
    record.add(
        {
            "resourceType": PLAN,
            "id": plan,
            "status": "active",
            "intent": "plan",
            "title": "Recovery support plan",
            "category": [concept(LOCAL["outcome-domain"], d.value) for d in entry.domains],
            "subject": record.patient(),
            "period": {"start": start},
            "careTeam": [reference(team)],
        }
    )
    return [episode, team, plan, patient_id]


def care_team_changed(record: FhirRecord, entry: CareTeamChanged) -> list[str]:
    """The care team's members replaced (why is on the entry's Provenance)."""
    return _members(record, entry.care_team)


def _members(record: FhirRecord, care_team: tuple[str, ...]) -> list[str]:
    team = record.get(record.case_part(TEAM))
    team["participant"] = [{"member": record.practitioner(user)} for user in care_team]
    return [team["id"]]


def plan_changed(record: FhirRecord, entry: PlanChanged) -> list[str]:
    """The plan's support, approach and strategies as they now stand; the rationale as a note."""
    plan = record.get(record.case_part(PLAN))
    record.plan = changed_plan(record.plan, entry)
    plan["description"] = record.plan.approach
    plan["activity"] = _activities(record)
    known = {c["coding"][0]["code"] for c in plan["category"]}
    plan["category"] += [
        concept(LOCAL["outcome-domain"], d.value) for d in entry.domains_added if d not in known
    ]
    _note(record, plan, entry.rationale, entry)
    return [plan["id"]]


def plan_confirmed(record: FhirRecord, entry: PlanConfirmed) -> list[str]:
    """A decision of "no change, because ...": a note on the plan (what prompted it is on its Provenance)."""
    plan = record.get(record.case_part(PLAN))
    _note(record, plan, entry.rationale, entry)
    return [plan["id"]]


def break_glass_granted(_: FhirRecord, __: BreakGlassGranted) -> list[str]:
    """Who opened the record by break-glass is access, not care: it belongs in an audit trail
    (FHIR AuditEvent), not in the record's bundle, so it makes no resource."""
    return []


def erasure_recorded(_: FhirRecord, __: ErasureApproved | TextErased) -> list[str]:
    """An erasure approval and its carrying out are governance of the record, not care: they make
    no resource (the text they erased reads as erased in the resources that held it)."""
    return []


def escalation_plan_agreed(record: FhirRecord, entry: EscalationPlanAgreed) -> list[str]:
    """The crisis plan as now agreed: what helps and whom to contact as activities, the early signs
    and who holds a copy as notes, its review date as the end of its period."""
    element = LOCAL["record-element"]

    def activity(code: str, display: str, text: str) -> dict[str, Any]:
        return {
            "detail": {"code": concept(element, code, display), "status": "not-started", "description": text}
        }

    holders = ["the person"] if entry.person_has_copy else []
    notes = [f"Early sign: {sign}" for sign in entry.early_signs]
    notes += (
        [f"A copy is held by {', '.join([*holders, *entry.shared_with])}"]
        if holders or entry.shared_with
        else []
    )
    author = record.practitioner(entry.actor.id)
    period = {"start": day(entry.occurred_at)} | ({"end": day(entry.review_on)} if entry.review_on else {})
    plan = {
        "resourceType": PLAN,
        "id": record.case_part(CRISIS_PLAN),
        "status": "active",
        "intent": "plan",
        "title": "Crisis and escalation plan",
        "category": [concept(element, "escalation-plan", "Crisis and escalation plan")],
        "subject": record.patient(),
        "period": period,
        "created": instant(entry.occurred_at),
        "author": author,
        "careTeam": [reference(record.case_part(TEAM))],
        "activity": [activity("what-helps", "What helps", text) for text in entry.what_helps]
        + [activity("crisis-contact", "Who to contact", text) for text in entry.contacts],
        "note": [{"authorReference": author, "time": instant(entry.occurred_at), "text": n} for n in notes],
    }
    return [record.add(plan)]


def _activities(record: FhirRecord) -> list[dict[str, Any]]:
    current = record.plan
    activities: list[dict[str, Any]] = []
    if current.support_hours_per_week:
        hours = current.support_hours_per_week
        activities.append(
            {
                "detail": {
                    "code": concept(LOCAL["record-element"], "support-hours", "Support hours"),
                    "status": "in-progress",
                    "scheduledTiming": {
                        "repeat": {
                            "frequency": 1,
                            "period": 1,
                            "periodUnit": "wk",
                            "duration": hours,
                            "durationUnit": "h",
                        }
                    },
                    "description": f"{hours:g} hours of support a week",
                }
            }
        )
    strategy = concept(LOCAL["record-element"], "strategy", "Support strategy")
    activities += [
        {"detail": {"code": strategy, "status": "in-progress", "description": s}} for s in current.strategies
    ]
    return activities


def _note(
    record: FhirRecord, resource: dict[str, Any], text: str, entry: PlanChanged | PlanConfirmed
) -> None:
    note = {
        "authorReference": record.practitioner(entry.actor.id),
        "time": instant(entry.occurred_at),
        "text": text,
    }
    resource.setdefault("note", []).append(note)


def case_closed(record: FhirRecord, entry: CaseClosed) -> list[str]:
    """The episode finished, the plan completed and the team inactive; a death is noted on the person."""
    touched = _status(record, "finished", "completed", "inactive", entry)
    if entry.reason is ClosureReason.DIED:
        record.get(record.patient_id)["deceasedBoolean"] = True
        touched.append(record.patient_id)
    return touched


def case_reopened(record: FhirRecord, entry: CaseReopened) -> list[str]:
    """The episode active again, from the reopening."""
    return _status(record, "active", "active", "active", entry)


def _status(
    record: FhirRecord, episode_status: str, plan: str, team: str, entry: CaseClosed | CaseReopened
) -> list[str]:
    episode = record.get(record.case_part(EPISODE))
    when = day(entry.occurred_at)
    history = episode["statusHistory"]
    history[-1]["period"]["end"] = when
    history.append({"status": episode_status, "period": {"start": when}})
    episode["status"] = episode_status
    if episode_status == "finished":
        episode["period"]["end"] = when
    else:
        episode["period"].pop("end", None)
    record.get(record.case_part(PLAN))["status"] = plan
    record.get(record.case_part(TEAM))["status"] = team
    return [episode["id"], record.case_part(PLAN), record.case_part(TEAM)]


def statement_added(record: FhirRecord, entry: StatementAdded) -> list[str]:
    """The person's own statement (of disagreement, say), from them, about the entries it names."""
    sender = (
        record.patient()
        if entry.made_by is StatementMaker.PERSON
        else {"display": "The person's representative"}
    )
    return [
        record.add(
            {
                "resourceType": "Communication",
                "id": resource_id(entry.entry_id, "Communication"),
                "status": "completed",
                "category": [concept(LOCAL["record-element"], "statement", "Statement by the person")],
                "subject": record.patient(),
                "about": [record.entry(about) for about in entry.about],
                "sent": instant(entry.occurred_at),
                "sender": sender,
                "payload": [{"contentString": entry.text}],
            }
        )
    ]
