"""Recently read cases, kept in memory: their entries decoded, when each version was recorded, and the
case as it stood at every hundredth version.

An entry never changes once stored, so a case read before needs only the entries recorded since (a
record page reads every entry of its case on each view: fetching and decoding a thousand took 25 ms),
and nothing kept goes stale. From them a replay needs no query: "as recorded at T" is a bisection of
the running latest ``recorded_at`` (a prefix: two writers racing can commit an entry stamped a moment
before the one ahead of it, and only a prefix is a state the rules checked), and the case at a version
is the nearest kept state before it with at most 99 entries folded on (loading it from its snapshot
took two queries).
"""

from __future__ import annotations

import bisect
import copy
import threading
from array import array
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from uuid import UUID

from events.case import Case
from events.entries import Entry, TextErased
from events.replay import case_of

__all__ = ["RecentCases", "Recorded", "up_to"]

Recorded = list[tuple[int, Entry]]
"""Entries with the case version each was stored at, in the order recorded."""

STATES_EVERY = 100
"""Versions between the states kept of a case (as the store's snapshots)."""
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def up_to(entries: Recorded, version: int) -> Recorded:
    """The entries of a case up to ``version``: a slice, as a case's versions run 1, 2, 3, ..."""
    if not entries or entries[-1][0] <= version:
        return entries
    if 0 < version <= len(entries) and entries[version - 1][0] == version:
        return entries[:version]
    return [(v, e) for v, e in entries if v <= version]  # not a whole case's entries


def _micros(at: datetime) -> int:
    delta = at - _EPOCH
    return (delta.days * 86400 + delta.seconds) * 1_000_000 + delta.microseconds


@dataclass
class _Known:
    """What is kept of one case: every entry up to a version, the latest ``recorded_at`` among
    versions 1..n (whole microseconds, 8 bytes a version), and states at every hundredth version."""

    entries: Recorded = field(default_factory=list)
    recorded: array[int] = field(default_factory=lambda: array("q"))
    states: dict[int, Case] = field(default_factory=dict)

    def grown(self, since: Recorded) -> _Known:
        """A copy with ``since`` appended (those kept are shared, never changed)."""
        running = array("q", self.recorded)
        latest = running[-1] if running else -(2**62)
        for _, entry in since:
            latest = max(latest, _micros(entry.recorded_at))
            running.append(latest)
        return _Known(self.entries + since, running, dict(self.states))


class RecentCases:
    """The cases read most recently, up to ``budget`` entries in all (the states kept add about as
    much again); the cases read longest ago give way first."""

    def __init__(
        self,
        fetch: Callable[[UUID, int], Recorded],
        budget: int = 20_000,
        on_erased: Callable[[UUID], None] | None = None,
    ) -> None:
        self._fetch = fetch
        self._on_erased = on_erased
        """Told when kept entries turn out stale (an erasure since), to drop what was made from them."""
        """The entries of a case stored after a version."""
        self._budget = budget
        self._cases: OrderedDict[UUID, _Known] = OrderedDict()
        self._held = 0
        self._lock = threading.Lock()

    def all_of(self, case_id: UUID, current: int | None = None) -> Recorded:
        """Every entry of the case: those kept from an earlier read, and any stored since. With
        ``current`` (a version the case is known to have reached), the store is asked only when
        fewer are kept; the list may then also hold entries stored after ``current``."""
        return self._known(case_id, current).entries

    def versions_recorded_by(self, case_id: UUID, until: datetime, current: int) -> int:
        """How many of the case's first versions (of ``current``) had all been recorded by ``until``."""
        known = self._known(case_id, current)
        return bisect.bisect_right(known.recorded, _micros(until), hi=current)

    def case_at(self, case_id: UUID, version: int) -> Case:
        """A case of its own (the caller may change it) as it stood at ``version``, which the case
        has reached."""
        known = self._known(case_id, version)
        base = (version // STATES_EVERY) * STATES_EVERY
        state = known.states.get(base)
        if state is None:
            state = self._state_at(case_id, known, base) if base else None
        start = copy.deepcopy(state) if state is not None else None
        case = case_of(known.entries[:version], version=version, start=start)
        if case is None:
            raise LookupError(f"Case {case_id} has no opening entry")
        return case

    def _state_at(self, case_id: UUID, known: _Known, version: int) -> Case:
        """The case at a hundredth version, folded on from the nearest kept before it; each
        hundredth version passed on the way is kept too."""
        earlier = max((v for v in known.states if v < version), default=0)
        case = known.states.get(earlier)
        for step in range(earlier + STATES_EVERY, version + 1, STATES_EVERY):
            start = copy.deepcopy(case) if case is not None else None
            case = case_of(known.entries[:step], version=step, start=start)
            if case is None:
                raise LookupError(f"Case {case_id} has no opening entry")
            known.states.setdefault(step, case)
        if case is None:
            raise LookupError(f"Case {case_id} has no state at version {version}")
        return case

    def _known(self, case_id: UUID, current: int | None) -> _Known:
        with self._lock:
            known = self._cases.get(case_id) or _Known()
        have = known.entries[-1][0] if known.entries else 0
        if current is not None and have >= current:
            self._touch(case_id)
            return known
        since = self._fetch(case_id, have)
        if have and any(isinstance(entry, TextErased) for _, entry in since):
            # An erasure (perhaps by another process) since these were read: what is kept is stale.
            known, since = _Known(), self._fetch(case_id, 0)
            if self._on_erased is not None:
                self._on_erased(case_id)
        if since:
            known = known.grown(since)
        self._keep(case_id, known)
        return known

    def forget(self, case_id: UUID) -> None:
        """Drop what is kept of a case (its text was erased: it is read again from the store)."""
        with self._lock:
            held = self._cases.pop(case_id, None)
            if held is not None:
                self._held -= len(held.entries)

    def _touch(self, case_id: UUID) -> None:
        with self._lock:
            if case_id in self._cases:
                self._cases.move_to_end(case_id)

    def _keep(self, case_id: UUID, known: _Known) -> None:
        with self._lock:
            # Two readers may fetch at once: keep the longer (entries are only ever appended).
            held = self._cases.pop(case_id, None)
            if held is not None and len(held.entries) >= len(known.entries):
                known = held
            self._held += len(known.entries) - (len(held.entries) if held else 0)
            self._cases[case_id] = known
            while self._held > self._budget and self._cases:
                _, dropped = self._cases.popitem(last=False)
                self._held -= len(dropped.entries)
