"""Builders for unit tests: entries stamped with fixed metadata, and a sample of every entry type."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any, TypeVar

from events.case import Case
from events.corrections import derive_fields
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
from events.instruments import InstrumentCode
from events.values import (
    Actor,
    BreakGlassReason,
    ClosureReason,
    ContributingFactor,
    ErasureGrounds,
    GoalAchievement,
    OutcomeDomain,
    ReviewKind,
    Role,
    StatementMaker,
)

E = TypeVar("E", bound=Entry)

CASE_ID = uuid.UUID("00000000-0000-4000-8000-000000000001")
CLINICIAN = Actor(id="clin-1", role=Role.CLINICIAN)
NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
"""The server clock of every test: entries are recorded at this moment unless a test says otherwise."""
OPENED_ON = date(2026, 1, 5)
STABILITY = OutcomeDomain.STABILITY_SELF_MANAGEMENT
CONNECTION = OutcomeDomain.CONNECTION_PARTICIPATION
DAILY_LIVING = OutcomeDomain.DAILY_LIVING_INDEPENDENCE
"""Not one of the test case's domains until a plan change adds it."""
CASE_DOMAINS = (STABILITY, CONNECTION)


def meta(
    *,
    case_id: uuid.UUID = CASE_ID,
    occurred_at: datetime | None = None,
    recorded_at: datetime = NOW,
    entry_id: uuid.UUID | None = None,
    actor: Actor = CLINICIAN,
) -> dict[str, Any]:
    """The fields every entry carries: a fresh id, the test clinician, recorded now, happened an hour ago."""
    return {
        "entry_id": entry_id or uuid.uuid4(),
        "case_id": case_id,
        "actor": actor,
        "recorded_at": recorded_at,
        "occurred_at": occurred_at or recorded_at - timedelta(hours=1),
    }


def make(
    cls: type[E], *, case_id: uuid.UUID = CASE_ID, occurred_at: datetime | None = None, **fields: Any
) -> E:
    """An entry of ``cls`` with the given values; a measure gets its score derived as the service would."""
    if cls is MeasureRecorded and "score" not in fields:
        fields = derive_fields(cls, dict(fields))
    return cls(**meta(case_id=case_id, occurred_at=occurred_at), **fields)


def opened(**fields: Any) -> CaseOpened:
    """The entry opening the test case: two domains, opened on OPENED_ON."""
    values: dict[str, Any] = {
        "person_ref": "P-000001",
        "service": "north",
        "opened_on": OPENED_ON,
        "care_team": (CLINICIAN.id,),
        "domains": CASE_DOMAINS,
    }
    values["occurred_at"] = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
    return make(CaseOpened, **(values | fields))


def open_case(**fields: Any) -> Case:
    """A newly opened case with its opening entry already collected."""
    case = Case.open(opened(**fields))
    case.collect_events()
    return case


def goal(
    case: Case, domain: OutcomeDomain = STABILITY, words: str = "feel calmer in the mornings"
) -> GoalSet:
    return case.record(make(GoalSet, domain=domain, in_own_words=words))


def milestone(case: Case, goal_id: uuid.UUID) -> MilestoneAdded:
    return case.record(make(MilestoneAdded, goal_id=goal_id, description="walk to the corner shop"))


def review(case: Case, **fields: Any) -> ReviewRecorded:
    values: dict[str, Any] = {
        "kind": ReviewKind.ROUTINE,
        "ratings": {STABILITY: 5},
        "confidence": 5,
        "autonomy": 5,
    }
    return case.record(make(ReviewRecorded, **(values | fields)))


def setback(case: Case, **fields: Any) -> SetbackRecorded:
    return case.record(make(SetbackRecorded, **(SAMPLE_FIELDS[SetbackRecorded] | fields)))


def escalation(case: Case, severity: int = 3) -> EscalationRaised:
    return case.record(make(EscalationRaised, **(SAMPLE_FIELDS[EscalationRaised] | {"severity": severity})))


def measure(case: Case, instrument: InstrumentCode = InstrumentCode.GAD7, **fields: Any) -> MeasureRecorded:
    items = fields.pop("items", (1,) * 7)
    return case.record(make(MeasureRecorded, instrument=instrument, items=items, **fields))


def plan_change(case: Case, **fields: Any) -> PlanChanged:
    return case.record(make(PlanChanged, rationale="more support", **fields))


def correction(case: Case, current: Entry, **changes: Any) -> EntryCorrected:
    """Correct ``current`` (the entry as it now reads) with ``changes``."""
    entry = make(EntryCorrected, corrects=current.entry_id, reason="recorded in error", changes=changes)
    return case.correct(entry, current)


_REF = uuid.UUID("00000000-0000-4000-8000-0000000000aa")
SAMPLE_FIELDS: dict[type[Entry], dict[str, Any]] = {
    CaseOpened: {
        "person_ref": "P-000001",
        "service": "north",
        "opened_on": OPENED_ON,
        "care_team": ("clin-1", "clin-2"),
        "domains": CASE_DOMAINS,
    },
    CareTeamChanged: {"care_team": ("clin-2",), "reason": "keyworker moved team"},
    GoalSet: {"domain": STABILITY, "in_own_words": "feel calmer in the mornings"},
    GoalRevised: {
        "goal_id": _REF,
        "reason": "reworded with the person",
        "in_own_words": "feel calm before 10am",
        "achievement": GoalAchievement.IMPROVING,
    },
    MilestoneAdded: {
        "goal_id": _REF,
        "description": "walk to the corner shop",
        "evidence": "confidence rating 7 or more",
        "target_on": date(2026, 4, 1),
    },
    MilestoneReached: {"milestone_id": _REF, "evidence": "went twice this week"},
    ReviewRecorded: {
        "kind": ReviewKind.MDT,
        "ratings": {STABILITY: 6, CONNECTION: 4},
        "confidence": 5,
        "autonomy": 6,
        "easier_now": "mornings",
        "most_difficult": "crowds",
        "helpful_strategies": "breathing",
        "next_step": "bus with support",
        "measure_ids": (_REF,),
    },
    MeasureRecorded: {
        "instrument": InstrumentCode.PHQ9,
        "items": (2, 2, 1, 1, 2, 1, 1, 1, 1),
        "domain": STABILITY,
    },
    SetbackRecorded: {
        "domains": (CONNECTION,),
        "what_happened": "stopped attending group",
        "contributing_factors": (ContributingFactor.HOUSING, ContributingFactor.ISOLATION),
        "risk_management": "daily check-in",
        "learning": "early signs were missed",
        "adaptation": "weekly housing call",
        "factors_detail": "eviction notice",
    },
    EscalationRaised: {
        "severity": 3,
        "trigger": "anniversary",
        "response": "same-day visit",
        "escalation_plan_used_early": True,
        "domains": (STABILITY,),
    },
    EscalationResolved: {"escalation_id": _REF, "resolution": "settled with family support"},
    EscalationPlanAgreed: {
        "early_signs": ("sleeping less", "not answering texts"),
        "what_helps": ("a walk with my sister",),
        "contacts": ("keyworker via the team line", "crisis team out of hours"),
        "person_has_copy": True,
        "shared_with": ("GP", "sister"),
        "review_on": date(2026, 9, 1),
    },
    PlanChanged: {
        "rationale": "more support after the setback",
        "because_of": (_REF,),
        "support_hours_per_week": 6.5,
        "approach": "recovery coaching",
        "strategies_added": ("peer group",),
        "strategies_removed": ("diary",),
        "domains_added": (DAILY_LIVING,),
        "review_interval_weeks": 8,
    },
    PlanConfirmed: {"rationale": "no change, because the plan is working", "because_of": (_REF,)},
    StatementAdded: {"text": "I do not agree with this", "about": (_REF,)},
    StoryAgreed: {
        "story": "I walk to the shop on my own now. Three months ago I could not open the door.",
        "consent_given_by": StatementMaker.PERSON,
        "de_identified": True,
        "domains": (STABILITY,),
        "consent_note": "read back and agreed at the review",
    },
    StoryConsentWithdrawn: {
        "story_id": _REF,
        "withdrawn_by": StatementMaker.REPRESENTATIVE,
        "note": "asked by phone",
    },
    CaseClosed: {"reason": ClosureReason.GOALS_MET, "note": "planned ending"},
    CaseReopened: {"reason": "re-referral"},
    BreakGlassGranted: {
        "reason": BreakGlassReason.DUTY_COVER,
        "detail": "covering the keyworker's caseload on the night shift",
        "expires_at": datetime(2026, 6, 1, 16, 0, tzinfo=UTC),
    },
    ErasureApproved: {
        "grounds": ErasureGrounds.MISFILED,
        "decision_ref": "IG panel 2026-14, item 3",
        "entries": (_REF,),
    },
    TextErased: {"approval_id": _REF},
}
"""Valid values, every optional field set, for every entry type but corrections."""


def sample(cls: type[E]) -> E:
    """An entry of ``cls`` with every field set (not checked against any case)."""
    if cls is EntryCorrected:
        corrected = sample(GoalSet)
        return make(
            cls,
            corrects=corrected.entry_id,
            reason="typo",
            changes={"in_own_words": corrected.in_own_words},
            corrected=corrected,
        )
    return make(cls, **SAMPLE_FIELDS[cls])


def outsider_grant() -> BreakGlassGranted:
    """The sample break-glass grant, by a clinician outside the test case's care team (the only one
    a case takes)."""
    return BreakGlassGranted(
        **meta(actor=Actor(id="clin-outside", role=Role.CLINICIAN)), **SAMPLE_FIELDS[BreakGlassGranted]
    )
