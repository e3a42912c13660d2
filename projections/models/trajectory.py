"""Trajectories: each person's readings over time, per outcome domain and per standard measure."""

from __future__ import annotations

from events.entries import (
    CareTeamChanged,
    CaseClosed,
    CaseOpened,
    CaseReopened,
    Entry,
    EntryCorrected,
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
)
from projections.models.base import Decision, Ignored, ReadModel, Row, applies_corrections
from projections.schema import Table

__all__ = ["Trajectories"]


def _ratings(entry: ReviewRecorded) -> list[Row]:
    when = entry.occurred_at
    rows: list[Row] = [
        ("ratings", (entry.case_id, when, domain.value, r)) for domain, r in entry.ratings.items()
    ]
    rows.append(("ratings", (entry.case_id, when, "confidence", entry.confidence)))
    rows.append(("ratings", (entry.case_id, when, "autonomy", entry.autonomy)))
    return rows


def _measure(entry: MeasureRecorded) -> list[Row]:
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
    PlanChanged: _NO_READING,
    PlanConfirmed: _NO_READING,
    StatementAdded: _NO_READING,
    CaseClosed: _NO_READING,
    CaseReopened: _NO_READING,
    EntryCorrected: applies_corrections,
}
"""What the trajectory model does with every kind of entry."""


class Trajectories(ReadModel):
    """Review ratings per domain (plus confidence and autonomy) and scored outcome measures."""

    name = "trajectory"
    decisions = _DECISIONS
    tables = (
        Table(
            "ratings",
            (
                ("case_id", "uuid NOT NULL"),
                ("occurred_at", "timestamptz NOT NULL"),
                ("measure", "text NOT NULL"),
                ("value", "smallint NOT NULL"),
            ),
            indexes=("case_id, measure, occurred_at",),
        ),
        Table(
            "measures",
            (
                ("case_id", "uuid NOT NULL"),
                ("occurred_at", "timestamptz NOT NULL"),
                ("instrument", "text NOT NULL"),
                ("instrument_version", "text NOT NULL"),
                ("score", "double precision NOT NULL"),
                ("raw_total", "integer NOT NULL"),
                ("higher_is_better", "boolean NOT NULL"),
                ("clinical_range", "boolean"),
                ("band", "text"),
                ("cutoff", "double precision"),
                ("clinical_when", "text"),
                ("reliable_change", "double precision"),
                ("source", "text NOT NULL"),
                ("domain", "text"),
            ),
            indexes=("case_id, instrument, occurred_at", "occurred_at"),
        ),
    )
