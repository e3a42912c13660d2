"""Personal goals and their milestones as Goals: achievement status in FHIR's own codes, milestones
linked to their goal by the core goal-relationship extension (type ``milestone``)."""

from __future__ import annotations

from typing import Any

from events.entries import GoalRevised, GoalSet, MilestoneAdded, MilestoneReached
from events.values import GoalAchievement
from service.interop.fhir.codes import (
    GOAL_ACHIEVEMENT,
    GOAL_RELATIONSHIP,
    GOAL_RELATIONSHIP_EXTENSION,
    LOCAL,
    concept,
    day,
)
from service.interop.fhir.record import FhirRecord, reference, resource_id

__all__ = ["ACHIEVEMENT_DISPLAY", "goal_revised", "goal_set", "milestone_added", "milestone_reached"]

ACHIEVEMENT_DISPLAY = {
    GoalAchievement.IN_PROGRESS: "In Progress",
    GoalAchievement.IMPROVING: "Improving",
    GoalAchievement.WORSENING: "Worsening",
    GoalAchievement.NO_CHANGE: "No Change",
    GoalAchievement.ACHIEVED: "Achieved",
    GoalAchievement.SUSTAINING: "Sustaining",
    GoalAchievement.NOT_ACHIEVED: "Not Achieved",
}
_ENDED = frozenset({GoalAchievement.ACHIEVED, GoalAchievement.NOT_ACHIEVED})
"""Achievement statuses after which a goal is no longer pursued (lifecycle ``completed``)."""


def _achievement(code: GoalAchievement) -> dict[str, Any]:
    return concept(GOAL_ACHIEVEMENT, code.value, ACHIEVEMENT_DISPLAY[code])


def goal_id(entry_id: Any) -> str:
    """The id of the Goal a goal_set or milestone_added entry made."""
    return resource_id(entry_id, "Goal")


def goal_set(record: FhirRecord, entry: GoalSet) -> list[str]:
    """A goal in the person's own words, expressed by them, within one outcome domain."""
    return [
        record.add(
            {
                "resourceType": "Goal",
                "id": goal_id(entry.entry_id),
                "lifecycleStatus": "active",
                "achievementStatus": _achievement(GoalAchievement.IN_PROGRESS),
                "category": [concept(LOCAL["outcome-domain"], entry.domain.value)],
                "description": {"text": entry.in_own_words},
                "subject": record.patient(),
                "startDate": day(entry.occurred_at),
                "expressedBy": record.patient(),
            }
        )
    ]


def goal_revised(record: FhirRecord, entry: GoalRevised) -> list[str]:
    """New words or a new achievement status; achieved and not-achieved end the goal (``completed``)."""
    goal = record.find(goal_id(entry.goal_id))
    if goal is None:
        return []
    if entry.in_own_words is not None:
        goal["description"] = {"text": entry.in_own_words}
    if entry.achievement is not None:
        goal["achievementStatus"] = _achievement(entry.achievement)
        goal["lifecycleStatus"] = "completed" if entry.achievement in _ENDED else "active"
        goal["statusDate"] = day(entry.occurred_at)
    return [goal["id"]]


def milestone_added(record: FhirRecord, entry: MilestoneAdded) -> list[str]:
    """A milestone is a Goal of its own, which its goal names as a ``milestone`` relationship."""
    parent = record.find(goal_id(entry.goal_id))
    milestone: dict[str, Any] = {
        "resourceType": "Goal",
        "id": goal_id(entry.entry_id),
        "lifecycleStatus": "active",
        "achievementStatus": _achievement(GoalAchievement.IN_PROGRESS),
        "category": list(parent["category"]) if parent else [],
        "description": {"text": entry.description},
        "subject": record.patient(),
        "startDate": day(entry.occurred_at),
        "target": [{"dueDate": day(entry.target_on)}] if entry.target_on else [],
        "note": [{"text": entry.evidence}] if entry.evidence else [],
    }
    touched = [record.add(milestone)]
    if parent is not None:
        relationship = {
            "url": GOAL_RELATIONSHIP_EXTENSION,
            "extension": [
                {"url": "type", "valueCodeableConcept": concept(GOAL_RELATIONSHIP, "milestone", "Milestone")},
                {"url": "target", "valueReference": reference(milestone["id"])},
            ],
        }
        parent.setdefault("extension", []).append(relationship)
        touched.append(parent["id"])
    return touched


def milestone_reached(record: FhirRecord, entry: MilestoneReached) -> list[str]:
    """The milestone achieved and completed, the evidence as the reason for its status."""
    milestone = record.find(goal_id(entry.milestone_id))
    if milestone is None:
        return []
    milestone["lifecycleStatus"] = "completed"
    milestone["achievementStatus"] = _achievement(GoalAchievement.ACHIEVED)
    milestone["statusDate"] = day(entry.occurred_at)
    milestone["statusReason"] = entry.evidence
    return [milestone["id"]]
