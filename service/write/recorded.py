"""When each version of a case was recorded, kept in memory: a replay "as recorded at T" turns T into
a case version without decoding the case's entries.

A version, once recorded, never changes, so what is cached stays true; only versions recorded since
the last look are read (one indexed query), and of each only its ``recorded_at`` is decoded. Kept as a
running maximum in whole microseconds (8 bytes a version), so "every version up to n was recorded by
T" is a bisection. Read through the library's recorder interface, so it works on any case store.
"""

from __future__ import annotations

import bisect
import threading
from array import array
from collections import OrderedDict
from datetime import UTC, datetime
from uuid import UUID

import msgspec
from eventsourcing.persistence import ApplicationRecorder

__all__ = ["RecordedTimes"]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class _Stamp(msgspec.Struct):
    """The one field of a stored entry this index reads (msgspec skips the rest unparsed)."""

    recorded_at: datetime


_DECODER = msgspec.json.Decoder(_Stamp)


def _micros(at: datetime) -> int:
    delta = at - _EPOCH
    return (delta.days * 86400 + delta.seconds) * 1_000_000 + delta.microseconds


class RecordedTimes:
    """Per case, the latest ``recorded_at`` among versions 1..n, for the most recently replayed cases."""

    def __init__(self, recorder: ApplicationRecorder, *, cases: int = 1024) -> None:
        self._recorder = recorder
        self._cases = cases
        self._known: OrderedDict[UUID, array[int]] = OrderedDict()
        self._lock = threading.Lock()

    def versions_recorded_by(self, case_id: UUID, until: datetime, current: int) -> int:
        """How many of the case's first versions (of ``current``) had all been recorded by ``until``."""
        running = self._running(case_id, current)
        return bisect.bisect_right(running, _micros(until), hi=current)

    def _running(self, case_id: UUID, current: int) -> array[int]:
        with self._lock:
            known = self._known.get(case_id, array("q"))
            self._known.pop(case_id, None)
        if len(known) < current:
            known = self._extend(case_id, known, current)
        with self._lock:
            self._known[case_id] = known
            while len(self._known) > self._cases:
                self._known.popitem(last=False)
        return known

    def _extend(self, case_id: UUID, known: array[int], current: int) -> array[int]:
        stored = self._recorder.select_events(case_id, gt=len(known), lte=current)
        grown = array("q", known)
        latest = grown[-1] if grown else -(2**62)
        for event in stored:
            latest = max(latest, _micros(_DECODER.decode(event.state).recorded_at))
            grown.append(latest)
        return grown
