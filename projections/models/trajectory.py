"""Trajectories: each person's readings over time, per outcome domain and per standard measure."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
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
from projections.changes import Tracked
from projections.models.base import Decision, Ignored, ReadModel, applies_corrections
from projections.schema import Column, tables_of

__all__ = ["Trajectories"]


CaseId = Annotated[UUID, Column("case_id", "uuid NOT NULL")]
OccurredAt = Annotated[datetime, Column("occurred_at", "timestamptz NOT NULL")]
RatingRow = tuple[
    CaseId,
    OccurredAt,
    Annotated[str, Column("measure", "text NOT NULL")],
    Annotated[int, Column("value", "smallint NOT NULL")],
]
MeasureRow = tuple[
    CaseId,
    OccurredAt,
    Annotated[str, Column("instrument", "text NOT NULL")],
    Annotated[str, Column("instrument_version", "text NOT NULL")],
    Annotated[float, Column("score", "double precision NOT NULL")],
    Annotated[int, Column("raw_total", "integer NOT NULL")],
    Annotated[bool, Column("higher_is_better", "boolean NOT NULL")],
    Annotated[bool | None, Column("clinical_range", "boolean")],
    Annotated[str | None, Column("band", "text")],
    Annotated[float | None, Column("cutoff", "double precision")],
    Annotated[str | None, Column("clinical_when", "text")],
    Annotated[float | None, Column("reliable_change", "double precision")],
    Annotated[str, Column("source", "text NOT NULL")],
    Annotated[str | None, Column("domain", "text")],
]
TrajectoryRow = tuple[Literal["ratings"], RatingRow] | tuple[Literal["measures"], MeasureRow]
"""One row of the trajectory model, typed column by column (its tables are made from this type)."""


def _ratings(entry: ReviewRecorded) -> list[TrajectoryRow]:
    when = entry.occurred_at
    rows: list[TrajectoryRow] = [
        ("ratings", (entry.case_id, when, domain.value, r)) for domain, r in entry.ratings.items()
    ]
    rows.append(("ratings", (entry.case_id, when, "confidence", entry.confidence)))
    rows.append(("ratings", (entry.case_id, when, "autonomy", entry.autonomy)))
    return rows


def _measure(entry: MeasureRecorded) -> list[TrajectoryRow]:
    score, limits = entry.score, entry.score.thresholds
    return [
        (
            "measures",
            (
                entry.case_id,
                entry.occurred_at,
                entry.instrument.value,
                score.instrument_version,
                score.score,
                score.raw_total,
                score.higher_is_better,
                score.clinical_range,
                score.band,
                limits.cutoff,
                limits.clinical_when,
                limits.reliable_change,
                limits.source,
                entry.domain.value if entry.domain else None,
            ),
        )
    ]


_NO_READING = Ignored("carries no rating or scored measure")

_DECISIONS: dict[type[Entry], Decision] = {
    CaseOpened: _NO_READING,
    CareTeamChanged: _NO_READING,
    GoalSet: _NO_READING,
    GoalRevised: _NO_READING,
    MilestoneAdded: _NO_READING,
    MilestoneReached: _NO_READING,
    ReviewRecorded: _ratings,
    MeasureRecorded: _measure,
    SetbackRecorded: _NO_READING,
    EscalationRaised: _NO_READING,
    EscalationResolved: _NO_READING,
    EscalationPlanAgreed: _NO_READING,
    PlanChanged: _NO_READING,
    PlanConfirmed: _NO_READING,
    StatementAdded: _NO_READING,
    StoryAgreed: _NO_READING,
    StoryConsentWithdrawn: _NO_READING,
    CaseClosed: _NO_READING,
    CaseReopened: _NO_READING,
    BreakGlassGranted: _NO_READING,
    ErasureApproved: _NO_READING,
    TextErased: _NO_READING,
    EntryCorrected: applies_corrections,
}
"""What the trajectory model does with every kind of entry."""


class Trajectories(ReadModel):
    """Review ratings per domain (plus confidence and autonomy) and scored outcome measures."""

    name = "trajectory"
    decisions = _DECISIONS
    tracked = (Tracked("ratings", "ratings"), Tracked("measures", "outcome_measures"))
    tables = tables_of(
        TrajectoryRow,
        indexes={
            "ratings": ("case_id, measure, occurred_at",),
            "measures": ("case_id, instrument, occurred_at", "occurred_at"),
        },
    )
