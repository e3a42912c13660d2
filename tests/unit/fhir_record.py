"""A case record holding every kind of entry, a late entry and corrections (one entry corrected
twice), recorded through the Case aggregate so every rule holds, and its FHIR Bundle."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from events.case import Case
from events.entries import (
    CareTeamChanged,
    CaseClosed,
    CaseReopened,
    Entry,
    EntryCorrected,
    ErasureApproved,
    EscalationPlanAgreed,
    EscalationResolved,
    GoalRevised,
    GoalSet,
    MeasureRecorded,
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
from events.values import ClosureReason, ErasureGrounds, GoalAchievement, StatementMaker
from service.interop.fhir import case_bundle
from tests.unit.builders import (
    CASE_ID,
    NOW,
    SAMPLE_FIELDS,
    STABILITY,
    correction,
    escalation,
    goal,
    make,
    measure,
    milestone,
    opened,
    outsider_grant,
    review,
    sample,
    setback,
)

ASSEMBLED_AT = datetime(2026, 6, 2, 8, 0, tzinfo=UTC)


@dataclass
class Record:
    """The entries in the order recorded, and the ones tests look at."""

    entries: list[Entry]
    goal: GoalSet
    phq9: MeasureRecorded
    review: ReviewRecorded
    setback: SetbackRecorded
    late: GoalSet
    goal_corrections: tuple[EntryCorrected, EntryCorrected]
    measure_correction: EntryCorrected

    def bundle(self) -> dict[str, Any]:
        """The Bundle of the whole record."""
        return case_bundle(CASE_ID, len(self.entries), self.entries, assembled_at=ASSEMBLED_AT)


def full_record() -> Record:
    """Every kind of entry on one case; the goal corrected twice, the PHQ-9's items corrected once."""
    opening = opened()
    case = Case.open(opening)
    the_goal = goal(case)
    case.record(
        make(GoalRevised, goal_id=the_goal.entry_id, reason="reworded", achievement=GoalAchievement.IMPROVING)
    )
    step = milestone(case, the_goal.entry_id)
    case.record(make(MilestoneReached, milestone_id=step.entry_id, evidence="went twice"))
    phq9 = measure(case, InstrumentCode.PHQ9, items=(2, 2, 1, 1, 2, 1, 1, 1, 1))
    the_review = review(
        case,
        measure_ids=(phq9.entry_id,),
        easier_now="mornings",
        most_difficult="crowds",
        helpful_strategies="planning the route",
        next_step="bus with support",
    )
    the_setback = setback(case)
    raised = escalation(case)
    case.record(make(EscalationResolved, escalation_id=raised.entry_id, resolution="settled"))
    case.record(sample(EscalationPlanAgreed))
    case.record(outsider_grant())
    case.record(
        make(
            PlanChanged,
            rationale="more support after the review",
            because_of=(the_review.entry_id, the_setback.entry_id),
            support_hours_per_week=4,
            approach="recovery coaching",
            strategies_added=("peer group",),
        )
    )
    case.record(make(PlanConfirmed, rationale="no change, because it works", because_of=(raised.entry_id,)))
    statement = case.record(make(StatementAdded, text="I see it differently", about=(the_review.entry_id,)))
    told = case.record(make(StoryAgreed, **{**SAMPLE_FIELDS[StoryAgreed], "domains": ()}))
    case.record(make(StoryConsentWithdrawn, story_id=told.entry_id, withdrawn_by=StatementMaker.PERSON))
    approval = case.record(
        make(
            ErasureApproved,
            grounds=ErasureGrounds.MISFILED,
            decision_ref="IG panel 7",
            entries=(statement.entry_id,),
        )
    )
    case.record(make(TextErased, approval_id=approval.entry_id))
    case.record(make(CareTeamChanged, care_team=("clin-1", "clin-2"), reason="second keyworker"))
    late = case.record(
        make(GoalSet, domain=STABILITY, in_own_words="sleep", occurred_at=NOW - timedelta(days=3))
    )
    first = correction(case, the_goal, in_own_words="feel calm in the mornings")
    assert first.corrected is not None
    second = correction(case, first.corrected, in_own_words="feel calm before ten")
    fixed = correction(case, phq9, items=(0,) * 9)
    case.record(make(CaseClosed, reason=ClosureReason.GOALS_MET, note="planned ending"))
    case.record(make(CaseReopened, reason="re-referral"))
    entries = [event.entry for event in case.collect_events()]
    assert entries[0] == opening
    return Record(entries, the_goal, phq9, the_review, the_setback, late, (first, second), fixed)
