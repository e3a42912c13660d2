"""Trajectories: each person's readings over time, per outcome domain and per standard measure."""

from __future__ import annotations

from collections.abc import Iterator

from events.entries import Entry, MeasureRecorded, ReviewRecorded
from projections.models.base import CORRECTION, EventAt, ReadModel, Row
from projections.schema import Table

__all__ = ["Trajectories"]


class Trajectories(ReadModel):
    """Review ratings per domain (plus confidence and autonomy) and scored outcome measures."""

    name = "trajectory"
    topics = frozenset({"review_recorded", "measure_recorded", CORRECTION})
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

    def rows(self, entry: Entry, at: EventAt | None) -> Iterator[Row]:
        if isinstance(entry, ReviewRecorded):
            when = entry.occurred_at
            for domain, rating in entry.ratings.items():
                yield ("ratings", (entry.case_id, when, domain.value, rating))
            yield ("ratings", (entry.case_id, when, "confidence", entry.confidence))
            yield ("ratings", (entry.case_id, when, "autonomy", entry.autonomy))
        elif isinstance(entry, MeasureRecorded):
            score, limits = entry.score, entry.score.thresholds
            yield (
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
