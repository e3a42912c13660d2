"""The entries of recently read cases, kept decoded: an entry never changes once stored, so a case
read before needs only the entries recorded since. A record page reads every entry of its case on
each view; for a case of a thousand entries, fetching and decoding them all took 25 ms of the page."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from uuid import UUID

from events.entries import Entry

__all__ = ["RecentEntries"]

Recorded = list[tuple[int, Entry]]
"""Entries with the case version each was stored at, in the order recorded."""


class RecentEntries:
    """Every entry of the cases read most recently, up to ``budget`` entries in all."""

    def __init__(self, fetch: Callable[[UUID, int], Recorded], budget: int = 20_000) -> None:
        self._fetch = fetch
        """The entries of a case stored after a version."""
        self._budget = budget
        self._cases: OrderedDict[UUID, Recorded] = OrderedDict()
        self._held = 0
        self._lock = threading.Lock()

    def all_of(self, case_id: UUID) -> Recorded:
        """Every entry of the case: those kept from an earlier read, and any stored since."""
        with self._lock:
            known = self._cases.get(case_id, [])
        since = self._fetch(case_id, known[-1][0] if known else 0)
        entries = known + since if since else known
        self._keep(case_id, entries)
        return entries

    def _keep(self, case_id: UUID, entries: Recorded) -> None:
        with self._lock:
            # Two readers may fetch at once: keep the longer list (entries are only ever appended).
            held = self._cases.pop(case_id, [])
            entries = max(held, entries, key=len)
            self._held += len(entries) - len(held)
            self._cases[case_id] = entries
            while self._held > self._budget and self._cases:
                _, dropped = self._cases.popitem(last=False)
                self._held -= len(dropped)
