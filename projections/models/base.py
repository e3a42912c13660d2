"""What a read model is: tables, what it does with each kind of entry, and the rows each entry adds."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, NamedTuple
from uuid import UUID

from events.codec import decode_entry, type_name
from events.entries import Entry, EntryCorrected
from projections import changes
from projections.changes import Tracked, change_tables
from projections.schema import Table, layout_of
from projections.summaries import Summary

__all__ = [
    "CORRECTION",
    "Decision",
    "EventAt",
    "Ignored",
    "ReadModel",
    "Row",
    "RowBuilder",
    "Statement",
    "applies_corrections",
]

CORRECTION = type_name(EntryCorrected)


class EventAt(NamedTuple):
    """Where an entry sits: its position in the global log and its case's version."""

    position: int
    case_id: UUID
    version: int


Row = tuple[str, tuple[Any, ...]]
"""One row: its table's name, and its values without the ``entry_id`` and ``corrected`` columns every
table has. Each model narrows it to a union of typed rows from which its tables are made (see
``projections.schema.tables_of``), so mypy checks every value against its column. A plain tuple at
run time: a rebuild makes one per row, and a named tuple's constructor was a tenth of the time spent
building rows."""

RowBuilder = Callable[[Any], Iterable[Row]]
"""The rows one entry of a kind adds to a model."""


@dataclass(frozen=True, slots=True)
class Ignored:
    """A kind of entry a read model deliberately does not read, and why; its entries are skipped
    without being decoded."""

    why: str


Decision = RowBuilder | Ignored
"""What a read model does with one kind of entry."""


def applies_corrections(_: EntryCorrected) -> list[Row]:
    """A correction adds no rows of its own to a model that reads it: the batch writer replaces the
    rows of the entry it corrects, if the model reads that entry's kind."""
    return []


@dataclass(frozen=True, slots=True)
class Statement:
    """A statement to run in order with the batch's rows (used for corrections)."""

    sql: str
    args: tuple[Any, ...]


class ReadModel:
    """A projection: its name, its tables, what it does with each kind of entry, and the rows each adds.

    By default a correction replaces the rows of the entry it corrects with rows built from the
    corrected entry, marked corrected. A model can instead return statements from ``on_correction``.
    """

    name: ClassVar[str]
    tables: ClassVar[tuple[Table, ...]]
    decisions: ClassVar[Mapping[type[Entry], Decision] | None] = None
    """Every kind of entry and what this model does with it: the rows it builds, or ``Ignored(why)``;
    ``tests/unit/test_registry.py`` fails for a kind left out. None: the model reads every kind alike
    and builds its rows itself (``rows``), as the audit trail does."""
    topics: ClassVar[frozenset[str] | None] = None
    """The stored type names this model reads (None: all), derived from ``decisions``; others are
    skipped without being decoded."""
    replace_on_correction: ClassVar[bool] = True
    summaries: ClassVar[tuple[Summary, ...]] = ()
    """Counts kept beside the tables by triggers (``projections.summaries``), served as ``read`` views."""
    tracked: ClassVar[tuple[Tracked, ...]] = ()
    """Tables a reporting view reads, whose changes are logged (``projections.changes``)."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.decisions is not None:
            cls.topics = frozenset(
                type_name(kind)
                for kind, decision in cls.decisions.items()
                if not isinstance(decision, Ignored)
            )

    @classmethod
    def layout(cls) -> str:
        """Fingerprint of the model's tables; a change needs a rebuild."""
        definitions = [summary.definition() for summary in cls.summaries] + [repr(t) for t in cls.tracked]
        return layout_of(cls.tables, definitions)

    @classmethod
    def served(cls) -> list[str]:
        """The tables and summaries a generation serves as ``read`` views."""
        return [table.name for table in cls.tables] + [summary.name for summary in cls.summaries]

    @classmethod
    def published(cls) -> list[str]:
        """Everything served as ``read`` views: the tables and summaries, and the change log, which
        differs between generations (rebuild comparisons read ``served`` only)."""
        return cls.served() + (list(change_tables(cls.name)) if cls.tracked else [])

    @classmethod
    def keep_changes(cls, schema: str) -> list[str]:
        """The triggers that log the changes of the tables a reporting view reads."""
        columns = {table.name: table.column_names for table in cls.tables}
        return [
            statement
            for tracked in cls.tracked
            for statement in changes.keep(schema, cls.name, tracked, columns[tracked.table])
        ]

    def reads(self, topic: str) -> bool:
        """Whether entries of this type can change this model."""
        return self.topics is None or topic in self.topics

    def rows_from(self, topic: str, state: bytes, at: EventAt) -> tuple[UUID, Iterable[Row]]:
        """The id of a stored entry and the rows it adds; a model may decode less than all of it, but
        must give the rows ``rows`` gives for the whole entry (corrections are read through ``rows``)."""
        entry = decode_entry(topic, state)
        return entry.entry_id, self.rows(entry, at)

    def rows(self, entry: Entry, at: EventAt | None) -> Iterable[Row]:
        """Rows an entry contributes; ``at`` is None when rows are rebuilt for a corrected entry."""
        decision = self.decisions.get(type(entry)) if self.decisions is not None else None
        if decision is None:
            raise NotImplementedError(f"{type(self).__name__} builds no rows for {type(entry).__name__}")
        return () if isinstance(decision, Ignored) else decision(entry)

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
