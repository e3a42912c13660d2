"""Domain errors: one class per broken rule, each naming the field a person can fix."""

from __future__ import annotations

from datetime import date
from uuid import UUID

__all__ = [
    "CaseAlreadyOpen",
    "CaseExists",
    "CaseIsClosed",
    "CaseRuleBroken",
    "CauseNotAllowed",
    "CorrectionNotAllowed",
    "DateOutOfRange",
    "DomainNotInCase",
    "EntryNotFound",
    "ErasureNotAllowed",
    "EscalationNotOpen",
    "GoalNotFound",
    "InvalidEntry",
    "MilestoneAlreadyReached",
    "MilestoneNotFound",
    "NothingChanged",
    "OccurredBeforeCaseOpened",
    "OccurredInFuture",
    "OnCareTeam",
    "StrategyNotInPlan",
]


class CaseRuleBroken(Exception):
    """A command conflicts with what the case record already says (HTTP 409)."""

    rule = "case-rule-broken"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class InvalidEntry(Exception):
    """An entry's own values break a rule, whatever the case holds (HTTP 422)."""

    rule = "invalid-entry"

    def __init__(self, message: str, *, field: str) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class CaseIsClosed(CaseRuleBroken):
    rule = "case-closed"

    def __init__(self) -> None:
        super().__init__("The case is closed: reopen it before adding entries.")


class OnCareTeam(CaseRuleBroken):
    rule = "on-care-team"

    def __init__(self) -> None:
        super().__init__(
            "You are on this case's care team and may read it already: no break-glass is needed."
        )


class CaseAlreadyOpen(CaseRuleBroken):
    rule = "case-already-open"

    def __init__(self) -> None:
        super().__init__("The case is already open: only a closed case can be reopened.")


class CaseExists(CaseRuleBroken):
    rule = "case-exists"

    def __init__(self) -> None:
        super().__init__("This case was opened already: a case is opened once (a closed one is reopened).")


class EscalationNotOpen(CaseRuleBroken):
    rule = "escalation-not-open"

    def __init__(self, escalation_id: UUID) -> None:
        super().__init__(
            f"Entry {escalation_id} is not an open escalation of this case: "
            "name an escalation that was raised and not yet resolved.",
            field="escalation_id",
        )


class EntryNotFound(CaseRuleBroken):
    rule = "entry-not-found"

    def __init__(self, entry_id: UUID, *, field: str) -> None:
        super().__init__(f"Entry {entry_id} is not part of this case.", field=field)


class ErasureNotAllowed(CaseRuleBroken):
    """An erasure approval does not fit the case as it stands (HTTP 409)."""

    rule = "erasure-not-allowed"


class CauseNotAllowed(CaseRuleBroken):
    rule = "cause-not-allowed"

    def __init__(self, entry_id: UUID, kind: str) -> None:
        super().__init__(
            f"Entry {entry_id} is a {kind}; a plan decision can only be caused by a review, "
            "a setback or an escalation.",
            field="because_of",
        )


class CorrectionNotAllowed(CaseRuleBroken):
    rule = "correction-not-allowed"

    def __init__(self, message: str, *, field: str = "changes") -> None:
        super().__init__(message, field=field)


class GoalNotFound(CaseRuleBroken):
    rule = "goal-not-found"

    def __init__(self, goal_id: UUID) -> None:
        super().__init__(f"Goal {goal_id} is not a goal of this case.", field="goal_id")


class MilestoneNotFound(CaseRuleBroken):
    rule = "milestone-not-found"

    def __init__(self, milestone_id: UUID) -> None:
        super().__init__(f"Milestone {milestone_id} is not a milestone of this case.", field="milestone_id")


class MilestoneAlreadyReached(CaseRuleBroken):
    rule = "milestone-already-reached"

    def __init__(self, milestone_id: UUID) -> None:
        super().__init__(f"Milestone {milestone_id} was already reached.", field="milestone_id")


class DomainNotInCase(CaseRuleBroken):
    rule = "domain-not-in-case"

    def __init__(self, domain: str, *, field: str) -> None:
        super().__init__(
            f"Outcome domain '{domain}' is not one of this case's domains: "
            "use one of the case's domains or add it with a plan change (domains_added).",
            field=field,
        )


class StrategyNotInPlan(CaseRuleBroken):
    rule = "strategy-not-in-plan"

    def __init__(self) -> None:
        super().__init__(
            "A strategy to remove is not in the current plan: send only strategies the plan holds.",
            field="strategies_removed",
        )


class NothingChanged(InvalidEntry):
    rule = "nothing-changed"

    def __init__(self) -> None:
        super().__init__(
            "A plan change must change something: to record 'no change, because ...' "
            "send a plan confirmation instead.",
            field="support_hours_per_week",
        )


class OccurredInFuture(InvalidEntry):
    rule = "occurred-in-future"

    def __init__(self) -> None:
        super().__init__(
            "occurred_at is in the future: send the time it actually happened, or leave it out for now.",
            field="occurred_at",
        )


class DateOutOfRange(InvalidEntry):
    """A date an entry carries lies outside what a record can hold or a plan can mean."""

    rule = "date-out-of-range"

    def __init__(self, field: str, earliest: date, latest: date, send: str) -> None:
        super().__init__(f"{field} must fall between {earliest} and {latest}: send {send}.", field=field)


class OccurredBeforeCaseOpened(InvalidEntry):
    rule = "occurred-before-case-opened"

    def __init__(self) -> None:
        super().__init__(
            "occurred_at is before the case was opened: send a time on or after the opening date.",
            field="occurred_at",
        )
