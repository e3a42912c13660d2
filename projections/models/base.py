"""What a read model is: tables, the kinds of entry it reads, and the rows each entry adds."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, ClassVar, NamedTuple
from uuid import UUID

from events.codec import decode_entry
from events.entries import Entry
from projections.schema import Table, layout_of

__all__ = ["CORRECTION", "EventAt", "ReadModel", "Row", "Statement"]

CORRECTION = "entry_corrected"


class EventAt(NamedTuple):
    """Where an entry sits: its position in the global log and its case's version."""

    position: int
    case_id: UUID
    version: int


Row = tuple[str, tuple[Any, ...]]
"""One row: its table's name, and its values without the ``entry_id`` and ``corrected`` columns every
table has. A plain tuple: a rebuild makes one per row, and a named tuple's constructor was a tenth of
the time spent building rows."""


@dataclass(frozen=True, slots=True)
class Statement:
    """A statement to run in order with the batch's rows (used for corrections)."""

    sql: str
    args: tuple[Any, ...]


class ReadModel:
    """A projection: its name, its tables, the entry types it reads, and the rows each adds.

    By default a correction replaces the rows of the entry it corrects with rows built from the
    corrected entry, marked corrected. A model can instead return statements from ``on_correction``.
    """

    name: ClassVar[str]
    tables: ClassVar[tuple[Table, ...]]
    topics: ClassVar[frozenset[str] | None] = None
    """The entry types this model reads (None: all); others are skipped without being decoded."""
    replace_on_correction: ClassVar[bool] = True

    @classmethod
    def layout(cls) -> str:
        """Fingerprint of the model's tables; a change needs a rebuild."""
        return layout_of(cls.tables)

    def reads(self, topic: str) -> bool:
        """Whether entries of this type can change this model."""
        return self.topics is None or topic in self.topics

    def rows_from(self, topic: str, state: bytes, at: EventAt) -> tuple[UUID, Iterable[Row]]:
        """The id of a stored entry and the rows it adds; a model may decode less than all of it, but
        must give the rows ``rows`` gives for the whole entry (corrections are read through ``rows``)."""
        entry = decode_entry(topic, state)
        return entry.entry_id, self.rows(entry, at)

    def rows(self, entry: Entry, at: EventAt | None) -> Iterator[Row]:
        """Rows an entry contributes; ``at`` is None when rows are rebuilt for a corrected entry."""
        raise NotImplementedError

    def on_correction(self, corrected: Entry, schema: str) -> list[Statement]:
        """Statements run after a corrected entry's rows are replaced (or instead, for a model that
        does not replace them)."""
        return []

    def after_batch(
        self, schema: str, written: dict[str, list[tuple[Any, ...]]], corrected: list[Entry]
    ) -> list[Statement]:
        """Statements run once a batch's rows are written, for values that depend on other rows.

        ``written`` holds the batch's rows per table (each starting with ``entry_id`` and
        ``corrected``); ``corrected`` the entries the batch corrected. Indexes exist when this runs;
        during a rebuild's bulk load (no indexes) ``derive_all`` runs once instead.
        """
        return []

    def after_retry(self, schema: str, cases: set[UUID]) -> list[Statement]:
        """Statements that refresh every derived value of cases whose parked events were just applied,
        out of log order (an opening applied after its reviews, say)."""
        return []

    def derive_all(self, schema: str) -> list[list[Statement]]:
        """Set-based statements that fill every derived value after a bulk load: groups run at the
        same time, each in its own transaction, after the load's corrections and before the indexes
        are built (at most the ``entry_id`` indexes exist, so a group may swap in a filled copy)."""
        return []
