"""Value types shared by the entries of a case record: domains, roles, ratings, plans."""

from __future__ import annotations

import enum
from typing import Annotated

import msgspec

__all__ = [
    "Actor",
    "BreakGlassReason",
    "ClosureReason",
    "ContributingFactor",
    "ErasureGrounds",
    "GoalAchievement",
    "Hours",
    "OutcomeDomain",
    "Plan",
    "Rating",
    "ReviewKind",
    "Role",
    "Severity",
    "ShortText",
    "StatementMaker",
    "StoryText",
    "Text",
    "UserId",
]

_PRINTABLE = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$"
"""Any text but NUL and control characters (tab, newline and carriage return are fine): PostgreSQL
cannot store NUL in text, and control characters in a record are always a mistake."""
Text = Annotated[str, msgspec.Meta(min_length=1, max_length=10_000, pattern=_PRINTABLE)]
"""Clinical free text: never logged, never shown to reporting roles."""
ShortText = Annotated[str, msgspec.Meta(min_length=1, max_length=200, pattern=_PRINTABLE)]
StoryText = Annotated[str, msgspec.Meta(min_length=1, max_length=2_000, pattern=_PRINTABLE)]
"""A short outcome story: a few paragraphs at most, so a report can print it whole."""
UserId = Annotated[str, msgspec.Meta(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9._@:-]+$")]
Rating = Annotated[int, msgspec.Meta(ge=1, le=10)]
Severity = Annotated[int, msgspec.Meta(ge=1, le=4, description="1 low, 2 moderate, 3 high, 4 crisis")]
Hours = Annotated[float, msgspec.Meta(ge=0, le=168)]


class OutcomeDomain(enum.StrEnum):
    """Groups of personal goals that can be aggregated while staying personal."""

    STABILITY_SELF_MANAGEMENT = "stability_self_management"
    DAILY_LIVING_INDEPENDENCE = "daily_living_independence"
    CONNECTION_PARTICIPATION = "connection_participation"
    CRISIS_PATTERN_REDUCTION = "crisis_pattern_reduction"


class Role(enum.StrEnum):
    """What a user may do: clinicians keep records, governance audits, reporting reads aggregates."""

    CLINICIAN = "clinician"
    GOVERNANCE = "governance"
    REPORTING = "reporting"
    ADMIN = "admin"


class ReviewKind(enum.StrEnum):
    """The setting a review took place in."""

    ROUTINE = "routine"
    FORMAL = "formal"
    MDT = "mdt"
    SUPERVISION = "supervision"


class GoalAchievement(enum.StrEnum):
    """FHIR Goal achievement codes."""

    IN_PROGRESS = "in-progress"
    IMPROVING = "improving"
    WORSENING = "worsening"
    NO_CHANGE = "no-change"
    ACHIEVED = "achieved"
    SUSTAINING = "sustaining"
    NOT_ACHIEVED = "not-achieved"


class ContributingFactor(enum.StrEnum):
    """Coded contributing factors, so service-level learning can rank them without free text."""

    HOUSING = "housing"
    FINANCES = "finances"
    RELATIONSHIPS = "relationships"
    ISOLATION = "isolation"
    BEREAVEMENT = "bereavement"
    PHYSICAL_HEALTH = "physical_health"
    MEDICATION = "medication"
    SUBSTANCE_USE = "substance_use"
    WORK_OR_STUDY = "work_or_study"
    LEGAL = "legal"
    SERVICE_CHANGE = "service_change"
    ACCESS_TO_SUPPORT = "access_to_support"
    OTHER = "other"


class ClosureReason(enum.StrEnum):
    """Why a case closed; death changes the retention period."""

    GOALS_MET = "goals_met"
    TRANSFERRED = "transferred"
    MOVED_AWAY = "moved_away"
    DISENGAGED = "disengaged"
    PERSON_CHOSE_TO_END = "person_chose_to_end"
    DIED = "died"
    OTHER = "other"


class ErasureGrounds(enum.StrEnum):
    """Why governance approved destroying a record's text (never automatic: a recorded decision)."""

    RETENTION_ENDED = "retention_ended"
    """The closed case passed its retention period and its appraisal decided it is not kept."""
    MISFILED = "misfiled"
    """The entries named were recorded in the wrong person's record."""


class StatementMaker(enum.StrEnum):
    """Who made a statement added to the record."""

    PERSON = "person"
    REPRESENTATIVE = "representative"


class BreakGlassReason(enum.StrEnum):
    """Why a clinician outside the care team opened a record: the short list a break-glass grant
    names (with free text beside it)."""

    EMERGENCY = "emergency"
    DUTY_COVER = "duty_cover"
    SAFEGUARDING = "safeguarding"


class Actor(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Who recorded an entry: a named user and the role they acted in."""

    id: UserId
    role: Role


class Plan(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """The support a person currently receives."""

    support_hours_per_week: float = 0.0
    approach: str | None = None
    strategies: tuple[str, ...] = ()
    # Weeks between reviews agreed for this person; None: the service's default (12 weeks).
    review_interval_weeks: int | None = None
