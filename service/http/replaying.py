"""Reading a case as of a moment on either time axis (``recorded_until``, ``occurred_until``), and
what was learned later (``recorded_after``): authorised and logged like every read of a record.

The recorded axis turns a time into a case version (``CaseRecords.versions_recorded_by``) and folds
the case at that version from the entries held in memory (``CaseRecords.case_at``); the occurred
axis folds the entries without those that happened later (``events.replay``). A read at a version
(``GET /cases/{id}?version=N``) is the same read with the version given.
"""

from __future__ import annotations

import copy
import hashlib
import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlencode
from uuid import UUID

from events.case import Case
from events.entries import Entry
from events.replay import Learned, case_of, happened_by, learned_since, unbroken
from events.values import Actor
from service.http.access import Purpose, authorise_logged
from service.http.routes.parameters import invalid, replay_time
from service.write.application import CaseRecords, VersionNotFound
from service.write.recent import up_to

__all__ = ["ReplayPoint", "Replayed", "learned_after", "replay_case"]


@dataclass(frozen=True)
class ReplayPoint:
    """Where on the two time axes a read stands; neither: the record as it stands now."""

    recorded_until: datetime | None = None
    occurred_until: datetime | None = None

    @classmethod
    def of(cls, recorded_until: datetime | None, occurred_until: datetime | None) -> ReplayPoint:
        """The point asked for, each time checked (offset, bounds) and in UTC; else a 422 naming it."""
        return cls(
            replay_time("recorded_until", recorded_until), replay_time("occurred_until", occurred_until)
        )

    @property
    def active(self) -> bool:
        """Whether this is a replay rather than the record as it stands."""
        return self.recorded_until is not None or self.occurred_until is not None

    def now(self) -> datetime:
        """ "Now" for windows and labels: the earlier of the two times given, else the clock."""
        given = [t for t in (self.recorded_until, self.occurred_until) if t is not None]
        return min(given) if given else datetime.now(UTC)

    def query(self) -> str:
        """The replay as a query string (empty for none), for the access log and shared links."""
        values = {"recorded_until": self.recorded_until, "occurred_until": self.occurred_until}
        return urlencode({k: v.isoformat() for k, v in values.items() if v is not None})

    def view(self, name: str) -> str:
        """The access log's name for this view: the view, and the replay when there is one."""
        return f"{name}?{self.query()}" if self.active else name

    def etag(self, version: int) -> str:
        """A strong entity tag from the case's current version and the replay: any new entry, or
        another replay point, changes it."""
        if not self.active:
            return f'"{version}"'
        digest = hashlib.sha256(self.query().encode()).hexdigest()[:16]
        return f'"{version}-{digest}"'


class _LatestCopies:
    """A copy of the latest version of each case read most recently, shared by every read of that
    version: a version never changes, and copying a case of a thousand entries for each read (its
    state through msgspec) cost 2 ms. The copy is never changed: readers only read it."""

    def __init__(self, cases: int = 32) -> None:
        self._cases = cases
        self._copies: OrderedDict[UUID, Case] = OrderedDict()
        self._lock = threading.Lock()

    def copy_of(self, latest: Case) -> Case:
        """A copy of ``latest`` (the cached case itself, which catching up changes in place)."""
        with self._lock:
            kept = self._copies.get(latest.id)
        version = latest.version
        if kept is not None and kept.version == version:
            return kept
        made = copy.deepcopy(latest)  # as the cache's own reads copy it
        if made.version != version:  # caught up meanwhile: keep only what matches its version
            return made
        with self._lock:
            self._copies[latest.id] = made
            self._copies.move_to_end(latest.id)
            while len(self._copies) > self._cases:
                self._copies.popitem(last=False)
        return made


_LATEST = _LatestCopies()


@dataclass(frozen=True)
class Replayed:
    """A case as of a replay point: the case shown (for reading: it may be shared with other reads
    of the same version), the case's current version, and (when they were read) the entries it was
    folded from, in the order they were recorded."""

    case: Case
    current: int
    entries: list[tuple[int, Entry]] | None


def replay_case(
    records: CaseRecords,
    actor: Actor,
    case_id: UUID,
    view: str,
    point: ReplayPoint,
    *,
    version: int | None = None,
    entries: bool = False,
    purpose: Purpose | None = None,
) -> Replayed:
    """The case as of ``point`` (or at ``version``) for a reader with a legitimate relationship to
    it, with its entries if asked (``entries``); the read is logged with the version shown and its
    purpose (governance states one). Blocking: run it in a worker thread."""
    current = records.get_case(case_id, copy=False)
    why = authorise_logged(records, actor, current, point.view(view), purpose)
    cut = current.version
    if version is not None:
        if version > current.version:
            raise VersionNotFound(current.version)
        cut = version
    if point.recorded_until is not None:
        cut = records.versions_recorded_by(case_id, point.recorded_until, current.version)
        if cut == 0:
            raise invalid("recorded_until", "The case had not been opened then: send a later time.")
    shown = None
    if entries or point.occurred_until is not None:  # kept decoded for recently read cases
        shown = up_to(records.every_entry(case_id, current.version), cut)
    if point.occurred_until is not None and shown is not None:
        shown = happened_by(shown, point.occurred_until)
        # Fold on from the case as recorded at the last version before the first left out: usually
        # only the entries after that version are folded, not the whole case.
        start = unbroken(shown)
        case = case_of(shown, version=cut, start=records.case_at(case_id, start) if start else None)
        if case is None:
            raise invalid("occurred_until", "Nothing of this case had happened by then: send a later time.")
    elif cut == current.version:
        case = _LATEST.copy_of(current)
    else:
        case = records.case_at(case_id, cut)  # from the entries held, without a query
    records.case_recorder.record_view(actor.id, actor.role.value, case_id, point.view(view), cut, purpose=why)
    return Replayed(case, current.version, shown)


def learned_after(
    records: CaseRecords, actor: Actor, case_id: UUID, recorded_after: datetime, purpose: Purpose | None
) -> tuple[Case, list[Learned]]:
    """The late entries and corrections recorded after ``recorded_after`` about the time before it,
    with the case as it stands (for linking corrections); logged as a view. Blocking."""
    replayed = replay_case(
        records,
        actor,
        case_id,
        f"learned-since?{urlencode({'recorded_after': recorded_after.isoformat()})}",
        ReplayPoint(),
        entries=True,
        purpose=purpose,
    )
    return replayed.case, learned_since(replayed.entries or [], recorded_after)
