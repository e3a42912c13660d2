"""Audit trail: every entry with who recorded it, in what role, when it happened and was recorded."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

import msgspec

from events.codec import type_name
from events.entries import LATE_AFTER, Entry, EntryCorrected, PlanChanged
from events.values import Actor
from projections.models.base import EventAt, ReadModel, Row, Statement
from projections.schema import Column, tables_of

__all__ = ["AuditTrail"]


class _Causes(msgspec.Struct):
    """What a correction says the corrected entry now is: its kind and the causes it names."""

    type: str
    because_of: list[UUID] = []


class _Meta(msgspec.Struct):
    """What the audit trail reads of an entry (unknown fields are skipped, not decoded)."""

    entry_id: UUID
    actor: Actor
    recorded_at: datetime
    occurred_at: datetime
    corrects: UUID | None = None
    because_of: list[UUID] | None = None
    corrected: _Causes | None = None

    def names_cause(self, topic: str) -> bool | None:
        """For a plan change, and a correction of one, whether it (now) names a cause; else None.
        The trail keeps the original row, so when a plan change first named no cause and when a
        correction gave it one can be told (time from flag to action)."""
        if topic == _PLAN_CHANGED:
            return bool(self.because_of)
        if self.corrected is not None and self.corrected.type == _PLAN_CHANGED:
            return bool(self.corrected.because_of)
        return None


_PLAN_CHANGED = type_name(PlanChanged)


_META = msgspec.json.Decoder(_Meta)

AuditEntryRow = tuple[
    Annotated[int, Column("position", "bigint NOT NULL")],
    Annotated[UUID, Column("case_id", "uuid NOT NULL")],
    Annotated[int, Column("version", "integer NOT NULL")],
    Annotated[str, Column("type", "text NOT NULL")],
    Annotated[str, Column("actor_id", "text NOT NULL")],
    Annotated[str, Column("role", "text NOT NULL")],
    Annotated[datetime, Column("recorded_at", "timestamptz NOT NULL")],
    Annotated[datetime, Column("occurred_at", "timestamptz NOT NULL")],
    Annotated[bool, Column("late", "boolean NOT NULL")],
    Annotated[UUID | None, Column("corrects", "uuid")],
    Annotated[bool | None, Column("names_cause", "boolean")],
]
AuditRow = tuple[Literal["audit_entries"], AuditEntryRow]
"""The audit trail's one row per entry, typed column by column (its table is made from this type)."""


def _row(topic: str, meta: _Meta, at: EventAt) -> AuditRow:
    late = meta.recorded_at - meta.occurred_at > LATE_AFTER
    return (
        "audit_entries",
        (
            at.position,
            at.case_id,
            at.version,
            topic,
            meta.actor.id,
            meta.actor.role.value,
            meta.recorded_at,
            meta.occurred_at,
            late,
            meta.corrects,
            meta.names_cause(topic),
        ),
    )


class AuditTrail(ReadModel):
    """One row per entry, corrections linked to what they correct; the original row stays."""

    name = "audit"
    # No per-kind decisions: every kind of entry is audited alike, from what every entry carries.
    replace_on_correction = False
    tables = tables_of(
        AuditRow,
        indexes={
            "audit_entries": (
                "case_id, version",
                # The trail pages in log order (keyset on position), by actor or kind of entry or
                # neither: without these, a page at 10M events sorted every match (0.45 s).
                "position",
                "actor_id, position",
                "type, position",
                "actor_id, recorded_at",
                "type, recorded_at",
                "recorded_at",
                "corrects",
                "occurred_at WHERE type = 'plan_changed' AND NOT names_cause",
            )
        },
    )

    def rows_from(self, topic: str, state: bytes, at: EventAt) -> tuple[UUID, Iterable[Row]]:
        # Only the fields every entry carries are read: they are never renamed, so no upcasting
        # is needed, and skipping the rest makes a rebuild much faster.
        meta = _META.decode(state)
        return meta.entry_id, [_row(topic, meta, at)]

    def rows(self, entry: Entry, at: EventAt | None) -> Iterator[Row]:
        if at is not None:
            corrects = entry.corrects if isinstance(entry, EntryCorrected) else None
            meta = _Meta(entry.entry_id, entry.actor, entry.recorded_at, entry.occurred_at, corrects)
            if isinstance(entry, PlanChanged):
                meta.because_of = list(entry.because_of)
            elif isinstance(entry, EntryCorrected) and isinstance(entry.corrected, PlanChanged):
                meta.corrected = _Causes(_PLAN_CHANGED, list(entry.corrected.because_of))
            yield _row(type_name(type(entry)), meta, at)

    def on_correction(self, corrected: Entry, schema: str) -> list[Statement]:
        # The original's row keeps who recorded it and when; it is flagged, and shows the corrected
        # time it happened (a correction may move occurred_at).
        return [
            Statement(
                f"UPDATE {schema}.audit_entries SET corrected = true, occurred_at = $2, late = $3"
                " WHERE entry_id = $1",
                (corrected.entry_id, corrected.occurred_at, corrected.late),
            )
        ]
