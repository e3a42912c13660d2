"""A case's current state, folded from its entries; corrections refold it from the corrected entries."""

from __future__ import annotations

import enum
import typing
from datetime import date, datetime
from typing import assert_never
from uuid import UUID

import msgspec

from events.codec import type_name
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
from events.values import GoalAchievement, OutcomeDomain, Plan

__all__ = [
    "NOT_FOLDED",
    "STATEFUL",
    "CaseState",
    "CaseStatus",
    "EntryRef",
    "Escalation",
    "Goal",
    "Milestone",
    "StatefulEntry",
]

StatefulEntry = (
    CaseOpened
    | CareTeamChanged
    | GoalSet
    | GoalRevised
    | MilestoneAdded
    | MilestoneReached
    | EscalationRaised
    | EscalationResolved
    | EscalationPlanAgreed
    | PlanChanged
    | ReviewRecorded
    | BreakGlassGranted
)
"""Entries the current state is folded from; only these are kept in full (the latest review and
escalation plan only).
Written out: msgspec decodes a snapshot's kept entries by their tag."""
STATEFUL = typing.get_args(StatefulEntry)

NOT_FOLDED: dict[type[Entry], str] = {
    MeasureRecorded: "scored measures are read from the trajectory model, not the current state",
    SetbackRecorded: "a setback is history: the learning log reads it",
    PlanConfirmed: "a confirmation leaves the plan as it is",
    StatementAdded: "a statement changes nothing the rules or the case view read",
    StoryAgreed: "a story is for reports (the care model), not for the rules or the case view",
    StoryConsentWithdrawn: "read by the care model: a report leaves the story out; the rules check the ref",
    CaseClosed: "only sets the status (evolve); its reason is history",
    CaseReopened: "only sets the status (evolve)",
    EntryCorrected: "refolds the entry it corrects (replace_corrected)",
    ErasureApproved: "a governance decision: the rules read it through the entry index",
    TextErased: "changes no state: the data keys are destroyed beside the log (service.write.sealing)",
}
"""Every other kind, and why the current state does not fold it: with ``STATEFUL`` it covers every
kind (``tests/unit/test_registry.py``), so a new kind is a decision, not an omission."""


class CaseStatus(enum.StrEnum):
    """Whether a case accepts new entries."""

    OPEN = "open"
    CLOSED = "closed"


class Goal(msgspec.Struct, kw_only=True):
    """A personal goal as it currently stands."""

    goal_id: UUID
    domain: OutcomeDomain
    in_own_words: str
    achievement: GoalAchievement = GoalAchievement.IN_PROGRESS
    set_at: datetime
    milestone_ids: list[UUID] = msgspec.field(default_factory=list)


class Milestone(msgspec.Struct, kw_only=True):
    """A milestone towards a goal and, once reached, when."""

    milestone_id: UUID
    goal_id: UUID
    description: str
    target_on: date | None = None
    reached_at: datetime | None = None


class Escalation(msgspec.Struct, kw_only=True):
    """An escalation and, once resolved, when."""

    escalation_id: UUID
    severity: int
    raised_at: datetime
    escalation_plan_used_early: bool
    resolved_at: datetime | None = None


class EntryRef(msgspec.Struct, array_like=True):
    """Where an entry sits in the case's stream, kept for every entry to check references."""

    type: str
    version: int


class CaseState(msgspec.Struct, kw_only=True):
    """Everything the case's rules and its current-state view need."""

    case_id: UUID
    person_ref: str = ""
    service: str = ""
    opened_on: date
    status: CaseStatus = CaseStatus.OPEN
    care_team: list[str] = msgspec.field(default_factory=list)
    domains: list[OutcomeDomain] = msgspec.field(default_factory=list)
    goals: dict[UUID, Goal] = msgspec.field(default_factory=dict)
    milestones: dict[UUID, Milestone] = msgspec.field(default_factory=dict)
    escalations: dict[UUID, Escalation] = msgspec.field(default_factory=dict)
    plan: Plan = msgspec.field(default_factory=Plan)
    last_review: ReviewRecorded | None = None
    escalation_plan: EscalationPlanAgreed | None = None
    """The escalation (crisis) plan in force: the last one agreed."""
    superseded_plan: UUID | None = None
    """The escalation plan the one in force superseded."""
    grants: dict[str, datetime] = msgspec.field(default_factory=dict)
    """Break-glass grants: each clinician outside the care team who opened the record, and when
    their access ends (the latest grant's end)."""
    # Keyed by the entry id's text: a case may hold thousands of entries, and decoding and hashing
    # UUID keys made loading a long case three times slower.
    index: dict[str, EntryRef] = msgspec.field(default_factory=dict)
    corrected_by: dict[str, list[UUID]] = msgspec.field(default_factory=dict)
    stateful: dict[UUID, StatefulEntry] = msgspec.field(default_factory=dict)

    @classmethod
    def opened(cls, entry: CaseOpened) -> CaseState:
        """The state of a case just opened."""
        state = cls(case_id=entry.case_id, opened_on=entry.opened_on)
        state.evolve(entry, version=1)
        return state

    def ref(self, entry_id: UUID) -> EntryRef | None:
        """Where an entry sits in this case, if it is part of it."""
        return self.index.get(str(entry_id))

    def may_read(self, user_id: str, now: datetime) -> bool:
        """Whether a clinician has a legitimate relationship to the record at ``now``: on the care
        team, or holding a break-glass grant that has not yet ended."""
        if user_id in self.care_team:
            return True
        until = self.grants.get(user_id)
        return until is not None and now < until

    def corrections_of(self, entry_id: UUID) -> list[UUID]:
        """The corrections recorded against an entry, oldest first."""
        return self.corrected_by.get(str(entry_id), [])

    @property
    def open_escalations(self) -> list[Escalation]:
        """Escalations raised and not yet resolved, oldest first."""
        return [e for e in self.escalations.values() if e.resolved_at is None]

    def evolve(self, entry: Entry, *, version: int) -> None:
        """Apply one recorded entry."""
        self.index[str(entry.entry_id)] = EntryRef(type_name(type(entry)), version)
        match entry:
            case CaseClosed():
                self.status = CaseStatus.CLOSED
            case CaseReopened():
                self.status = CaseStatus.OPEN
            case EntryCorrected():
                self.corrected_by.setdefault(str(entry.corrects), []).append(entry.entry_id)
                if entry.corrected is not None:
                    self.replace_corrected(entry.corrected)
            case ReviewRecorded():
                self._keep_latest(self.last_review, entry)
            case EscalationPlanAgreed():
                if self.escalation_plan is not None:
                    self.superseded_plan = self.escalation_plan.entry_id
                self._keep_latest(self.escalation_plan, entry)
            case _ if isinstance(entry, STATEFUL):
                self.stateful[entry.entry_id] = entry
                self._fold(entry)

    def _keep_latest(self, previous: StatefulEntry | None, entry: StatefulEntry) -> None:
        """Fold an entry of a kind whose latest alone is current, keeping it instead of ``previous``."""
        if previous is not None:
            self.stateful.pop(previous.entry_id, None)
        self.stateful[entry.entry_id] = entry
        self._fold(entry)

    def replace_corrected(self, corrected: Entry) -> None:
        """Swap in the corrected values of an entry the current state depends on, and refold."""
        if corrected.entry_id not in self.stateful or not isinstance(corrected, STATEFUL):
            return
        self.stateful[corrected.entry_id] = corrected
        self.goals, self.milestones, self.escalations = {}, {}, {}
        self.plan, self.last_review, self.escalation_plan = Plan(), None, None
        self.grants = {}
        for entry in self.stateful.values():
            self._fold(entry)

    def _fold_access(self, entry: CaseOpened | CareTeamChanged | BreakGlassGranted) -> None:
        """Who may read the record: the care team, and break-glass grants beside it."""
        match entry:
            case CaseOpened():
                self.person_ref, self.service, self.opened_on = (
                    entry.person_ref,
                    entry.service,
                    entry.opened_on,
                )
                self.care_team, self.domains = list(entry.care_team), list(entry.domains)
            case CareTeamChanged():
                self.care_team = list(entry.care_team)
            case BreakGlassGranted():
                until = max(entry.expires_at, self.grants.get(entry.actor.id, entry.expires_at))
                self.grants[entry.actor.id] = until

    def _fold(self, entry: StatefulEntry) -> None:
        match entry:
            case CaseOpened() | CareTeamChanged() | BreakGlassGranted():
                self._fold_access(entry)
            case GoalSet():
                self.goals[entry.entry_id] = Goal(
                    goal_id=entry.entry_id,
                    domain=entry.domain,
                    in_own_words=entry.in_own_words,
                    set_at=entry.occurred_at,
                )
            case GoalRevised():
                goal = self.goals[entry.goal_id]
                goal.in_own_words = entry.in_own_words or goal.in_own_words
                goal.achievement = entry.achievement or goal.achievement
            case MilestoneAdded():
                self.milestones[entry.entry_id] = Milestone(
                    milestone_id=entry.entry_id,
                    goal_id=entry.goal_id,
                    description=entry.description,
                    target_on=entry.target_on,
                )
                self.goals[entry.goal_id].milestone_ids.append(entry.entry_id)
            case MilestoneReached():
                self.milestones[entry.milestone_id].reached_at = entry.occurred_at
            case EscalationRaised():
                self.escalations[entry.entry_id] = Escalation(
                    escalation_id=entry.entry_id,
                    severity=entry.severity,
                    raised_at=entry.occurred_at,
                    escalation_plan_used_early=entry.escalation_plan_used_early,
                )
            case EscalationResolved():
                self.escalations[entry.escalation_id].resolved_at = entry.occurred_at
            case PlanChanged():
                self.plan = changed_plan(self.plan, entry)
                self.domains.extend(d for d in entry.domains_added if d not in self.domains)
            case ReviewRecorded():
                self.last_review = entry
            case EscalationPlanAgreed():
                self.escalation_plan = entry
            case _:
                assert_never(entry)  # mypy: a kind in StatefulEntry with no case here


def changed_plan(plan: Plan, change: PlanChanged) -> Plan:
    """The plan after a change: new values where given, strategies added and removed."""
    removed = set(change.strategies_removed)
    kept = [s for s in plan.strategies if s not in removed]
    added = [s for s in change.strategies_added if s not in kept]
    return Plan(
        support_hours_per_week=(
            plan.support_hours_per_week
            if change.support_hours_per_week is None
            else change.support_hours_per_week
        ),
        approach=change.approach if change.approach is not None else plan.approach,
        strategies=(*kept, *added),
        review_interval_weeks=(
            plan.review_interval_weeks
            if change.review_interval_weeks is None
            else change.review_interval_weeks
        ),
    )
