"""Replay on both time axes: the record as it stood when something was recorded (``recorded_until``),
what is known now about the time up to a moment (``occurred_until``), and what was learned later.

Pure functions over a case's entries in the order they were recorded (``(version, entry)``), so the
API, the pages and the tests replay alike. A correction counts on the recorded axis from when it was
recorded; on the occurred axis what counts is when the entry it corrects happened (as corrected).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time
from uuid import UUID

from events.case import Case
from events.entries import CaseOpened, Entry, EntryCorrected
from events.state import CaseState

__all__ = [
    "Learned",
    "as_known",
    "case_of",
    "happened_by",
    "learned_since",
    "prefix_recorded_by",
    "unbroken",
    "when_it_happened",
]

Versioned = tuple[int, Entry]


def prefix_recorded_by(recorded: Sequence[datetime], until: datetime) -> int:
    """How many of a case's first versions had all been recorded by ``until`` (0: none).

    A prefix, not every entry stamped by then: two writers racing on one case can commit an entry
    stamped a moment before the one ahead of it, and only a prefix is a state the rules checked."""
    count = 0
    for at in recorded:
        if at > until:
            break
        count += 1
    return count


def as_known(entries: Iterable[Versioned]) -> tuple[dict[UUID, Entry], set[UUID]]:
    """Each entry as it reads after every correction among ``entries``, and the ids corrected."""
    current: dict[UUID, Entry] = {}
    corrected: set[UUID] = set()
    for _, entry in entries:
        if isinstance(entry, EntryCorrected):
            corrected.add(entry.corrects)
            if entry.corrected is not None:
                current[entry.corrects] = entry.corrected
        else:
            current[entry.entry_id] = entry
    return current, corrected


def when_it_happened(entry: Entry) -> datetime:
    """When an entry happened; a case counts as open from the start of its ``opened_on`` date."""
    if isinstance(entry, CaseOpened):
        return min(entry.occurred_at, datetime.combine(entry.opened_on, time.min, tzinfo=UTC))
    return entry.occurred_at


def happened_by(entries: Sequence[Versioned], until: datetime) -> list[Versioned]:
    """The entries about what happened by ``until`` as known from ``entries``: an entry when it
    happened by then (as corrected), a correction when the entry it corrects is kept."""
    current, _ = as_known(entries)
    kept = {entry_id for entry_id, entry in current.items() if when_it_happened(entry) <= until}
    return [
        (version, entry)
        for version, entry in entries
        if (entry.corrects if isinstance(entry, EntryCorrected) else entry.entry_id) in kept
    ]


def case_of(entries: Sequence[Versioned], *, version: int, start: Case | None = None) -> Case | None:
    """A case folded from some of its entries (originals and corrections, in recorded order), shown
    as ``version``; None when the opening is not among them. ``start``: the case already folded
    from the first ``start.version`` of them (a snapshot), so only the rest are folded."""
    if not entries or not isinstance(entries[0][1], CaseOpened):
        return None
    opened = entries[0][1]
    if start is None:
        start = Case(CaseState.opened(opened), version=1, created_on=opened.recorded_at)
    for at, entry in entries[start.version :]:
        start.state.evolve(entry, version=at)
    start.version = version
    start.modified_on = entries[-1][1].recorded_at
    return start


def unbroken(kept: Sequence[Versioned]) -> int:
    """How many of the case's first versions are all among ``kept``: the case as recorded at that
    version is the fold of those, a start for ``case_of``."""
    count = 0
    for version, _ in kept:
        if version != count + 1:
            break
        count = version
    return count


@dataclass(frozen=True)
class Learned:
    """An entry recorded after the moment asked about, about the time before it: a late entry, or a
    correction (``about`` is when the entry it corrects happened)."""

    version: int
    entry: Entry
    about: datetime

    @property
    def kind(self) -> str:
        """``correction`` or ``late_entry``."""
        return "correction" if isinstance(self.entry, EntryCorrected) else "late_entry"

    @property
    def reason(self) -> str | None:
        """Why: a correction's reason (a late entry carries its own explanation in its fields)."""
        return self.entry.reason if isinstance(self.entry, EntryCorrected) else None


def learned_since(entries: Sequence[Versioned], recorded_after: datetime) -> list[Learned]:
    """Late entries and corrections recorded after ``recorded_after`` about what happened by then,
    in the order they were recorded. A correction counts when the entry it corrects happened by
    then as it read before the correction or as it reads after it (moved into or out of the time)."""
    learned: list[Learned] = []
    reading: dict[UUID, Entry] = {}
    for version, entry in entries:
        if isinstance(entry, EntryCorrected):
            before = reading.get(entry.corrects)
            after = entry.corrected or before
            if entry.corrected is not None:
                reading[entry.corrects] = entry.corrected
            if entry.recorded_at <= recorded_after or before is None or after is None:
                continue
            about = when_it_happened(after)
            if about > recorded_after:
                about = when_it_happened(before)
            if about <= recorded_after:
                learned.append(Learned(version, entry, about))
            continue
        reading[entry.entry_id] = entry
        if entry.recorded_at > recorded_after and when_it_happened(entry) <= recorded_after:
            learned.append(Learned(version, entry, when_it_happened(entry)))
    return learned
