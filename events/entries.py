"""The event vocabulary: every kind of entry a case record holds, as versioned msgspec Structs.

Entries are stored as plain JSON (see ``events.codec``). Schema evolution follows msgspec's rules: a
new field gets a default; a stored field is never retyped or renamed. Where a shape must change, the
class's ``class_version`` default is bumped and an ``upcast_vN_vN+1(state: dict)`` static method is
added, so old entries always decode. Constraints (lengths, ranges, patterns) are checked when stored
entries are read too, so a constraint may be loosened but never tightened once entries exist.
"""

from __future__ import annotations

import typing
from datetime import date, datetime, timedelta
from typing import Annotated, Any, ClassVar
from uuid import UUID

import msgspec

from events.instruments import InstrumentCode, MeasureScore
from events.values import (
    Actor,
    BreakGlassReason,
    ClosureReason,
    ContributingFactor,
    ErasureGrounds,
    GoalAchievement,
    Hours,
    OutcomeDomain,
    Rating,
    ReviewKind,
    Severity,
    ShortText,
    StatementMaker,
    StoryText,
    Text,
    UserId,
)

__all__ = [
    "CORRECTABLE_KINDS",
    "ENTRY_KINDS",
    "LATE_AFTER",
    "AnyEntry",
    "BreakGlassGranted",
    "CareTeamChanged",
    "CaseClosed",
    "CaseOpened",
    "CaseReopened",
    "CorrectableEntry",
    "Entry",
    "EntryCorrected",
    "ErasureApproved",
    "EscalationPlanAgreed",
    "EscalationRaised",
    "EscalationResolved",
    "GoalRevised",
    "GoalSet",
    "MeasureRecorded",
    "MilestoneAdded",
    "MilestoneReached",
    "PlanChanged",
    "PlanConfirmed",
    "ReviewRecorded",
    "SetbackRecorded",
    "StatementAdded",
    "StoryAgreed",
    "StoryConsentWithdrawn",
    "TextErased",
]

LATE_AFTER = timedelta(hours=24)
"""An entry recorded more than this long after it happened is a late entry."""

EntryIds = Annotated[tuple[UUID, ...], msgspec.Meta(max_length=50)]
Domains = Annotated[tuple[OutcomeDomain, ...], msgspec.Meta(min_length=1, max_length=4)]
Strategies = Annotated[tuple[ShortText, ...], msgspec.Meta(max_length=30)]
CareTeam = Annotated[tuple[UserId, ...], msgspec.Meta(max_length=50)]
PlanPoints = Annotated[tuple[ShortText, ...], msgspec.Meta(min_length=1, max_length=20)]


class Entry(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True, tag_field="type"):
    """What every entry carries: who recorded it, when it happened and when it was recorded.

    ``occurred_at`` earlier than ``recorded_at`` by more than a day marks a late entry.
    """

    class_version: int = 1
    entry_id: UUID
    case_id: UUID
    actor: Actor
    recorded_at: datetime
    occurred_at: Annotated[datetime, msgspec.Meta(tz=True)]

    server_fields: ClassVar[frozenset[str]] = frozenset()
    """Fields the service fills in (derived or taken from the path), never sent in a request body."""

    @property
    def late(self) -> bool:
        """Whether the entry was recorded long after it happened."""
        return self.recorded_at - self.occurred_at > LATE_AFTER


class CaseOpened(Entry, tag="case_opened", frozen=True, kw_only=True):
    """A person's case is opened with the care team and the outcome domains that matter to them."""

    person_ref: ShortText
    service: ShortText
    opened_on: date
    care_team: CareTeam
    domains: Domains


class CareTeamChanged(Entry, tag="care_team_changed", frozen=True, kw_only=True):
    """The people with a legitimate relationship to the record changed."""

    care_team: Annotated[tuple[UserId, ...], msgspec.Meta(min_length=1, max_length=50)]
    reason: Text


class GoalSet(Entry, tag="goal_set", frozen=True, kw_only=True):
    """A personal goal, in the person's own words, within one outcome domain."""

    domain: OutcomeDomain
    in_own_words: Text


class GoalRevised(Entry, tag="goal_revised", frozen=True, kw_only=True):
    """A goal reworded or its achievement status moved (FHIR achievement codes)."""

    goal_id: UUID
    reason: Text
    in_own_words: Text | None = None
    achievement: GoalAchievement | None = None

    server_fields: ClassVar[frozenset[str]] = frozenset({"goal_id"})


class MilestoneAdded(Entry, tag="milestone_added", frozen=True, kw_only=True):
    """A step specific enough to evidence progress towards a goal."""

    goal_id: UUID
    description: Text
    evidence: Text | None = None
    target_on: date | None = None


class MilestoneReached(Entry, tag="milestone_reached", frozen=True, kw_only=True):
    """A milestone was reached, with the evidence for it."""

    milestone_id: UUID
    evidence: Text

    server_fields: ClassVar[frozenset[str]] = frozenset({"milestone_id"})


class ReviewRecorded(Entry, tag="review_recorded", frozen=True, kw_only=True):
    """A review: ratings per domain, confidence and autonomy, and the four recovery questions."""

    kind: ReviewKind
    ratings: Annotated[dict[OutcomeDomain, Rating], msgspec.Meta(min_length=1)]
    confidence: Rating
    autonomy: Rating
    easier_now: Text | None = None
    most_difficult: Text | None = None
    helpful_strategies: Text | None = None
    next_step: Text | None = None
    measure_ids: EntryIds = ()


class MeasureRecorded(Entry, tag="measure_recorded", frozen=True, kw_only=True):
    """A standard outcome measure: item scores as sent, and the score derived from them."""

    instrument: InstrumentCode
    items: Annotated[tuple[int, ...], msgspec.Meta(min_length=1, max_length=20)]
    score: MeasureScore
    domain: OutcomeDomain | None = None

    server_fields: ClassVar[frozenset[str]] = frozenset({"score"})


class SetbackRecorded(Entry, tag="setback_recorded", frozen=True, kw_only=True):
    """A setback, recorded as part of recovery: what contributed, how risk was managed, what was learned."""

    domains: Domains
    what_happened: Text
    contributing_factors: Annotated[tuple[ContributingFactor, ...], msgspec.Meta(max_length=13)]
    risk_management: Text
    learning: Text
    adaptation: Text
    factors_detail: Text | None = None


class EscalationRaised(Entry, tag="escalation_raised", frozen=True, kw_only=True):
    """An escalation: its severity, trigger, the response, and whether the escalation plan was used early."""

    severity: Severity
    trigger: Text
    response: Text
    escalation_plan_used_early: bool
    domains: Annotated[tuple[OutcomeDomain, ...], msgspec.Meta(max_length=4)] = ()


class EscalationResolved(Entry, tag="escalation_resolved", frozen=True, kw_only=True):
    """An open escalation was resolved."""

    escalation_id: UUID
    resolution: Text

    server_fields: ClassVar[frozenset[str]] = frozenset({"escalation_id"})


class EscalationPlanAgreed(Entry, tag="escalation_plan_agreed", frozen=True, kw_only=True):
    """A crisis (escalation) plan agreed with the person: the early signs, what helps, who to contact
    and who holds a copy. Each plan agreed supersedes the one before."""

    early_signs: PlanPoints
    what_helps: PlanPoints
    contacts: Annotated[tuple[ShortText, ...], msgspec.Meta(min_length=1, max_length=10)]
    person_has_copy: bool
    shared_with: Annotated[tuple[ShortText, ...], msgspec.Meta(max_length=20)] = ()
    review_on: date | None = None


class PlanChanged(Entry, tag="plan_changed", frozen=True, kw_only=True):
    """The support changed, naming the reviews, setbacks or escalations that caused it."""

    class_version: int = 2
    rationale: Text
    because_of: EntryIds = ()
    support_hours_per_week: Hours | None = None
    approach: ShortText | None = None
    strategies_added: Strategies = ()
    strategies_removed: Strategies = ()
    domains_added: Annotated[tuple[OutcomeDomain, ...], msgspec.Meta(max_length=4)] = ()
    # How often this person's care is reviewed from now on (None: as before). Added in version 2.
    review_interval_weeks: Annotated[int, msgspec.Meta(ge=1, le=52)] | None = None

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        """Version 1 had no review interval: it left the interval as it was."""
        state["review_interval_weeks"] = None


class PlanConfirmed(Entry, tag="plan_confirmed", frozen=True, kw_only=True):
    """A decision of 'no change, because ...': also an action, and it names what prompted it."""

    rationale: Text
    because_of: Annotated[tuple[UUID, ...], msgspec.Meta(min_length=1, max_length=50)]


class StatementAdded(Entry, tag="statement_added", frozen=True, kw_only=True):
    """A statement by the person (or their representative), for example of disagreement."""

    text: Text
    made_by: StatementMaker = StatementMaker.PERSON
    about: EntryIds = ()


class StoryAgreed(Entry, tag="story_agreed", frozen=True, kw_only=True):
    """A short outcome story in the person's words, de-identified by its author and agreed with the
    person for sharing in reports; consent is recorded with it and may be withdrawn by a later entry."""

    story: StoryText
    consent_given_by: StatementMaker
    de_identified: bool
    """The author confirms names, places and dates that could identify anyone were taken out."""
    domains: Annotated[tuple[OutcomeDomain, ...], msgspec.Meta(max_length=4)] = ()
    consent_note: ShortText | None = None
    """How consent was taken (for example "read back and agreed at the review")."""


class StoryConsentWithdrawn(Entry, tag="story_consent_withdrawn", frozen=True, kw_only=True):
    """Consent to share a story was withdrawn: no report made after this shows the story again."""

    story_id: UUID
    withdrawn_by: StatementMaker
    note: ShortText | None = None

    server_fields: ClassVar[frozenset[str]] = frozenset({"story_id"})


class CaseClosed(Entry, tag="case_closed", frozen=True, kw_only=True):
    """The case closed: the end of treatment from which retention is counted."""

    reason: ClosureReason
    note: Text | None = None


class CaseReopened(Entry, tag="case_reopened", frozen=True, kw_only=True):
    """A closed case was reopened."""

    reason: Text


class BreakGlassGranted(Entry, tag="break_glass_granted", frozen=True, kw_only=True):
    """A clinician outside the care team opened the record (break-glass), stating why: read access for
    them alone until ``expires_at``, reviewed afterwards by governance."""

    reason: BreakGlassReason
    detail: Text
    expires_at: datetime

    server_fields: ClassVar[frozenset[str]] = frozenset({"expires_at"})


class ErasureApproved(Entry, tag="erasure_approved", frozen=True, kw_only=True):
    """Governance approved destroying text in this record: the whole closed case once its retention
    period has passed and its appraisal decided it is not kept, or entries filed in the wrong
    person's record. Nothing is destroyed until a ``text_erased`` entry carries the approval out."""

    grounds: ErasureGrounds
    decision_ref: ShortText
    """Where the governance decision is minuted (a board or panel reference), never clinical text."""
    entries: EntryIds = ()
    """The misfiled entries (their corrections go with them); empty for a whole case."""


class TextErased(Entry, tag="text_erased", frozen=True, kw_only=True):
    """The text an approval named was destroyed by crypto-shredding: its data keys are gone, so the
    stored entries keep their structure and hash chain but their text can no longer be read."""

    approval_id: UUID


CorrectableEntry = (
    CaseOpened
    | CareTeamChanged
    | GoalSet
    | GoalRevised
    | MilestoneAdded
    | MilestoneReached
    | ReviewRecorded
    | MeasureRecorded
    | SetbackRecorded
    | EscalationRaised
    | EscalationResolved
    | EscalationPlanAgreed
    | PlanChanged
    | PlanConfirmed
    | StatementAdded
    | StoryAgreed
    | StoryConsentWithdrawn
    | CaseClosed
    | CaseReopened
    | BreakGlassGranted
    | ErasureApproved
    | TextErased
)
"""The registry of entry kinds: every kind but corrections, which correct one of these. A new kind is
added here, once: the decoder (``events.codec.ENTRY_TYPES``), what a correction may carry and
``ENTRY_KINDS`` all derive from it (``tests/unit/test_registry.py`` fails for a kind left out).
msgspec needs the union written out to decode a correction's ``corrected`` entry by its tag."""


class EntryCorrected(Entry, tag="entry_corrected", frozen=True, kw_only=True):
    """A correction of an earlier entry: the original stays; this names it, the reason and the new values.

    ``changes`` holds the fields the clinician changed (and any derived field that changed with them);
    ``corrected`` holds the whole entry as it now reads, so readers never need the original to apply it.
    """

    corrects: UUID
    reason: Text
    changes: Annotated[dict[str, Any], msgspec.Meta(min_length=1, max_length=30)]
    corrected: CorrectableEntry | None = None

    server_fields: ClassVar[frozenset[str]] = frozenset({"corrected"})


AnyEntry = CorrectableEntry | EntryCorrected
"""Every kind of entry, as one tagged union (msgspec tells them apart by ``type``)."""
ENTRY_KINDS: tuple[type[Entry], ...] = typing.get_args(AnyEntry)
"""Every kind of entry, in the registry's order."""
CORRECTABLE_KINDS: tuple[type[Entry], ...] = typing.get_args(CorrectableEntry)
"""Every kind a correction can correct."""
