"""Folding a record's entries into resources, and judging which resources a correction amends."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any
from uuid import UUID

from events.entries import (
    BreakGlassGranted,
    CareTeamChanged,
    CaseClosed,
    CaseOpened,
    CaseReopened,
    Entry,
    EntryCorrected,
    ErasureApproved,
    EscalationPlanAgreed,
    EscalationRaised,
    EscalationResolved,
    GoalRevised,
    GoalSet,
    MeasureRecorded,
    MilestoneAdded,
    MilestoneReached,
    PlanChanged,
    PlanConfirmed,
    ReviewRecorded,
    SetbackRecorded,
    StatementAdded,
    StoryAgreed,
    StoryConsentWithdrawn,
    TextErased,
)
from service.interop.fhir import care, goals, observations, review, stories
from service.interop.fhir.record import FhirRecord

__all__ = ["HANDLERS", "amended", "fold"]

Handler = Callable[[FhirRecord, Any], list[str]]
HANDLERS: dict[type[Entry], Handler] = {
    CaseOpened: care.case_opened,
    CareTeamChanged: care.care_team_changed,
    PlanChanged: care.plan_changed,
    PlanConfirmed: care.plan_confirmed,
    CaseClosed: care.case_closed,
    CaseReopened: care.case_reopened,
    StatementAdded: care.statement_added,
    EscalationPlanAgreed: care.escalation_plan_agreed,
    GoalSet: goals.goal_set,
    GoalRevised: goals.goal_revised,
    MilestoneAdded: goals.milestone_added,
    MilestoneReached: goals.milestone_reached,
    MeasureRecorded: observations.measure_recorded,
    EscalationRaised: observations.escalation_raised,
    EscalationResolved: observations.escalation_resolved,
    SetbackRecorded: observations.setback_recorded,
    ReviewRecorded: review.review_recorded,
    StoryAgreed: stories.story_agreed,
    StoryConsentWithdrawn: stories.story_consent_withdrawn,
    BreakGlassGranted: care.break_glass_granted,
    ErasureApproved: care.erasure_recorded,
    TextErased: care.erasure_recorded,
}
"""What each kind of entry (other than a correction) records, and the resources it makes or changes."""


def fold(record: FhirRecord, entries: Sequence[Entry], current: dict[UUID, Entry]) -> dict[UUID, list[str]]:
    """Apply every entry but the corrections, each as it now reads (``current``), in the order recorded;
    return the resources each made or changed (its main resource first)."""
    touched: dict[UUID, list[str]] = {}
    for entry in entries:
        if not isinstance(entry, EntryCorrected):
            made = HANDLERS[type(entry)](record, current.get(entry.entry_id, entry))
            touched[entry.entry_id] = made
            if made:
                record.primary[entry.entry_id] = made[0]
    return touched


def amended(record: FhirRecord, before: Entry, after: Entry) -> list[str]:
    """The resources a correction from ``before`` to ``after`` amends: each version is tried on a scratch
    copy of the folded record, and of the resources either version makes or changes, those that come
    out differently are amended (all the corrected entry's resources, if none does)."""
    then, now = record.scratch(), record.scratch()
    made_then = HANDLERS[type(before)](then, before)
    made_now = HANDLERS[type(after)](now, after)
    either = dict.fromkeys([*made_now, *made_then])
    return [rid for rid in either if then.find(rid) != now.find(rid)] or made_now
