"""Trajectories: each person's readings over time, per outcome domain and per standard measure."""

from __future__ import annotations

import operator
from collections.abc import Sequence
from datetime import datetime
from typing import Annotated, Any, Literal
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
from projections.models.base import Decision, Ignored, ReadModel, Statement, applies_corrections
from projections.schema import Column, tables_of

__all__ = ["EARLIER_KEPT", "Trajectories"]


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
    # Derived after each batch from case_services, so a service's readings of a period are one
    # index range (service learning's reliable improvement) instead of every reading joined to cases.
    Annotated[str | None, Column("service", "text")],
    # The same person's next reading of the instrument, and the time, score and clinical range of
    # the EARLIER_KEPT earlier ones before it, with how many earlier there are in all (derived after
    # each batch): a period's latest reading is the row whose next leaves the period, and it
    # carries the period's first. Service learning counts its people from the latest rows of one
    # index range; pairing each person's first and latest rows by a hash took 55-65 ms at 10M,
    # sorting every reading 67 ms.
    Annotated[datetime | None, Column("next_at", "timestamptz")],
    Annotated[Sequence[datetime] | None, Column("earlier_at", "timestamptz[]")],
    Annotated[Sequence[float] | None, Column("earlier_score", "double precision[]")],
    Annotated[Sequence[bool | None] | None, Column("earlier_clinical", "boolean[]")],
    Annotated[int | None, Column("earlier_count", "integer")],
]
EARLIER_KEPT = 64
"""Earlier readings a reading keeps: the index that carries them takes rows of at most 2,704 bytes,
which a record of about 230 weekly readings passed. A period whose first reading is older than
those kept looks it up (``projections.queries.outcome_change``)."""
# Each case's service, from its opening (corrected with it): what the readings' service comes from.
CaseServiceRow = tuple[CaseId, Annotated[str, Column("service", "text NOT NULL")]]
TrajectoryRow = (
    tuple[Literal["ratings"], RatingRow]
    | tuple[Literal["measures"], MeasureRow]
    | tuple[Literal["case_services"], CaseServiceRow]
)
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
                None,
                None,
                None,
                None,
                None,
                None,
            ),
        )
    ]


def _case_service(entry: CaseOpened) -> list[TrajectoryRow]:
    return [("case_services", (entry.case_id, entry.service))]


_NO_READING = Ignored("carries no rating or scored measure")

_DECISIONS: dict[type[Entry], Decision] = {
    CaseOpened: _case_service,
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
    tracked = (
        Tracked("ratings", "ratings"),
        Tracked(
            "measures",
            "outcome_measures",
            unseen=("service", "next_at", "earlier_at", "earlier_score", "earlier_clinical", "earlier_count"),
        ),
    )
    tables = tables_of(
        TrajectoryRow,
        indexes={
            "ratings": ("case_id, measure, occurred_at INCLUDE value",),
            "measures": (
                "case_id, instrument, occurred_at",
                "occurred_at",
                "service, occurred_at INCLUDE case_id, instrument, score, clinical_range, reliable_change,"
                " higher_is_better, domain, entry_id",
                # A period's latest readings: those of the service whose next reading is after it.
                "service, coalesce(next_at, 'infinity'), occurred_at INCLUDE instrument, score,"
                " clinical_range, reliable_change, higher_is_better, next_at, earlier_at, earlier_score,"
                " earlier_clinical, earlier_count",
                # The few whose period's first reading may be older than the earlier ones they keep.
                f"service, coalesce(next_at, 'infinity'), occurred_at WHERE earlier_count > {EARLIER_KEPT}",
            ),
            "case_services": ("case_id",),
        },
    )

    def after_batch(
        self, schema: str, written: dict[str, list[tuple[Any, ...]]], corrected: list[Entry]
    ) -> list[Statement]:
        # Readings written now, and every case with a correction (an opening's service, a reading's
        # time), need their service and links again.
        cases = {_MEASURE_CASE(row) for row in written["measures"]} | {e.case_id for e in corrected}
        return _derive(schema, cases)

    def after_retry(self, schema: str, cases: set[UUID]) -> list[Statement]:
        return _derive(schema, cases)

    def derive_all(self, schema: str) -> list[list[Statement]]:
        return [[Statement(_DERIVE.format(s=schema, services="", readings=""), ())]]


_MEASURE_CASE = operator.itemgetter(
    next(table for table in Trajectories.tables if table.name == "measures").position("case_id")
)
# Each reading's service (its case's, from the opening), the time of the same person's next reading
# of the instrument and what their earlier ones were, in (occurred_at, entry_id) order: two readings
# at one moment still have one first. One statement, so a reading is rewritten once; only rows that
# change. The services joined, not looked up per row: after a bulk load the tables have no indexes.
_DERIVE = f"""
UPDATE {{s}}.measures t SET service = x.service, next_at = x.next_at, earlier_at = x.earlier_at,
                          earlier_score = x.earlier_score, earlier_clinical = x.earlier_clinical,
                          earlier_count = x.earlier_count
FROM (SELECT m.entry_id, c.service, lead(m.occurred_at) OVER w AS next_at,
             array_agg(m.occurred_at) OVER kept AS earlier_at,
             array_agg(m.score) OVER kept AS earlier_score,
             array_agg(m.clinical_range) OVER kept AS earlier_clinical,
             (row_number() OVER w - 1)::integer AS earlier_count
      FROM {{s}}.measures m
      LEFT JOIN (SELECT DISTINCT ON (case_id) case_id, service FROM {{s}}.case_services {{services}}) c
             ON c.case_id = m.case_id
      {{readings}}
      WINDOW w AS (PARTITION BY m.case_id, m.instrument ORDER BY m.occurred_at, m.entry_id),
             kept AS (w ROWS BETWEEN {EARLIER_KEPT} PRECEDING AND 1 PRECEDING)) x
WHERE t.entry_id = x.entry_id
  AND (t.service IS DISTINCT FROM x.service OR t.next_at IS DISTINCT FROM x.next_at
       OR t.earlier_at IS DISTINCT FROM x.earlier_at OR t.earlier_score IS DISTINCT FROM x.earlier_score
       OR t.earlier_clinical IS DISTINCT FROM x.earlier_clinical
       OR t.earlier_count IS DISTINCT FROM x.earlier_count)
"""


def _derive(schema: str, cases: set[UUID]) -> list[Statement]:
    """The service and the links of the cases' readings (a new reading moves its neighbours' links)."""
    if not cases:
        return []
    derive = _DERIVE.format(
        s=schema, services="WHERE case_id = ANY($1::uuid[])", readings="WHERE m.case_id = ANY($1::uuid[])"
    )
    return [Statement(derive, (list(cases),))]
