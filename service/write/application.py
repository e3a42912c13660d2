"""The write side: the eventsourcing Application that appends entries to case records."""

from __future__ import annotations

import contextlib
import random
import threading
import time
from collections.abc import Callable
from copy import deepcopy
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application, LRUCache
from eventsourcing.persistence import IntegrityError, InterfaceError, OperationalError
from eventsourcing.postgres import PostgresAggregateRecorder
from eventsourcing.utils import Environment
from psycopg.sql import SQL, Identifier

from events.case import SNAPSHOT_TOPIC, Case, CaseEvent
from events.entries import CaseOpened, Entry, EntryCorrected, ErasureApproved, TextErased
from events.sealing import Keyring
from events.values import ErasureGrounds
from service.write.keys import NotErasable
from service.write.persistence import CaseStore, EntryMapper, Erasure, IdempotencyKey, KeyUse
from service.write.recent import RecentCases

__all__ = [
    "CaseNotFound",
    "CaseRecords",
    "IdempotencyKeyReused",
    "Receipt",
    "StoreUnavailable",
    "VersionMismatch",
    "VersionNotFound",
    "WriteContention",
]


class CaseNotFound(LookupError):
    """No case record has this id."""

    def __init__(self, case_id: UUID) -> None:
        super().__init__(f"No case {case_id}")
        self.case_id = case_id


class VersionMismatch(Exception):
    """If-Match named a version the case has moved on from."""

    def __init__(self, current: int) -> None:
        super().__init__(f"The case is at version {current}")
        self.current = current


class VersionNotFound(LookupError):
    """A replay asked for a version the case has not reached."""

    def __init__(self, current: int) -> None:
        super().__init__(f"The case is at version {current}")
        self.current = current


class IdempotencyKeyReused(Exception):
    """An Idempotency-Key was sent again with a different request."""


class WriteContention(Exception):
    """Too many concurrent writers raced for the same case; the client may retry."""


class StoreUnavailable(Exception):
    """The event store cannot be reached; the client may retry shortly."""


@dataclass(frozen=True)
class Receipt:
    """What a write produced: the entry, the case version after it, and its place in the global log."""

    case_id: UUID
    entry_id: UUID
    version: int
    position: int | None
    replayed: bool = False


@dataclass(frozen=True)
class WriteRequest:
    """Conditions on a write: who may make it, the version the client saw (If-Match), its idempotency key."""

    authorise: Callable[[Case], None] | None = None
    expected_version: int | None = None
    idempotency: IdempotencyKey | None = None


_EVERY = 1_000_000
"""More entries than any case holds: the limit of a read of all of them."""


class CaseRecords(Application[UUID]):
    """Case records: opens cases, appends checked entries, and reads cases back at any version."""

    name = "case_records"
    snapshotting_intervals: ClassVar[dict[type[Any], int]] = {Case: 100}
    max_attempts = 60
    _stripes = 256

    def __init__(self, env: dict[str, str], keyring: Keyring | None = None) -> None:
        super().__init__(env)
        self.case_recorder.keyring = keyring
        self._locks = [threading.Lock() for _ in range(self._stripes)]
        self.on_erased: list[Callable[[UUID], None]] = []
        """Told of a case whose text was erased since this process read it, so what was made from
        its entries (remembered replays, say) is dropped too (``service.bootstrap`` registers them)."""
        self._recent = RecentCases(
            lambda case_id, after: self.entries(case_id, after=after, limit=_EVERY), on_erased=self._erased
        )
        self._drop_stale_snapshots()

    def construct_env(self, name: str, env: Any = None) -> Environment:
        # Only the settings Waymark passes: a stray variable in the process environment (such as
        # POSTGRES_ENABLE_DB_FUNCTIONS) must not change how events are stored.
        return Environment(name, {"IS_SNAPSHOTTING_ENABLED": "y", **(env or {})})

    def construct_mapper(self) -> EntryMapper:
        return EntryMapper()

    @property
    def case_recorder(self) -> CaseStore:
        """The recorder, with Waymark's idempotency and record-view tables."""
        if not isinstance(self.recorder, CaseStore):
            raise TypeError(
                "CaseRecords must be configured with a CaseStore: CaseRecorder (APPLICATION_RECORDER_TOPIC)"
                " or service.write.memory's MemoryFactory (PERSISTENCE_MODULE)"
            )
        return self.recorder

    def open_case(self, opened: CaseOpened, request: WriteRequest = WriteRequest()) -> Receipt:
        """Open a new case record."""
        if replay := self._replay(request):
            return replay
        case = Case.open(opened)
        try:
            return self._save(case, opened, request)
        except IntegrityError:
            # Only a concurrent request with the same Idempotency-Key can collide on a new case.
            if replay := self._replay(request):
                return replay
            raise

    def record(self, case_id: UUID, entry: Entry, request: WriteRequest = WriteRequest()) -> Receipt:
        """Append an entry to a case."""
        return self._write(case_id, lambda case: case.record(entry), request)

    def erase(self, case_id: UUID, erased: TextErased, request: WriteRequest = WriteRequest()) -> Receipt:
        """Carry out an approved erasure: record it and destroy the data keys of the text its approval
        names, in one transaction; then forget what this process kept of the case's text."""
        erasure: list[Erasure] = []

        def command(case: Case) -> Entry:
            before = case.version
            entry = case.record(erased)  # the rules: the approval must be in the case
            if self.case_recorder.keyring is None:
                raise NotErasable("Sealing is off (WAYMARK_RECORD_KEY unset): no text can be erased")
            erasure[:] = [Erasure(case.id, self._erased_versions(case, erased.approval_id, before))]
            return entry

        try:
            receipt = self._write(case_id, command, request, erasure=erasure)
            # The library snapshots after the append, from the case as it was folded before the
            # keys went: a snapshot taken at this version would hold the text.
            self.case_recorder.drop_snapshots(case_id)
            return receipt
        finally:
            self._forget(case_id)

    def _erased_versions(self, case: Case, approval_id: UUID, before: int) -> tuple[int, ...]:
        """The versions an approval erases: every entry of the case (end of retention), or the
        misfiled entries and every correction of them."""
        approval = self.entry_at(case.id, case.entry_version(approval_id, field="approval_id"))
        if not isinstance(approval, ErasureApproved):
            raise TypeError("An erasure names an approval")
        if approval.grounds is ErasureGrounds.RETENTION_ENDED:
            return tuple(range(1, before + 1))
        ids = [*approval.entries]
        for entry_id in approval.entries:
            ids += case.state.corrections_of(entry_id)
        return tuple(sorted({case.entry_version(entry_id, field="entries") for entry_id in ids}))

    def _erased(self, case_id: UUID) -> None:
        for listener in self.on_erased:
            listener(case_id)

    def _forget(self, case_id: UUID) -> None:
        """Drop the case from this process's caches, so its erased text is read again as erased."""
        cache = self.repository.cache
        if isinstance(cache, LRUCache):
            with contextlib.suppress(KeyError):
                cache.get(case_id, evict=True)
        self._recent.forget(case_id)
        self._erased(case_id)

    def correct(
        self, case_id: UUID, correction: EntryCorrected, request: WriteRequest = WriteRequest()
    ) -> Receipt:
        """Append a correction, checking its changes against the entry it corrects."""

        def command(case: Case) -> Entry:
            return case.correct(correction, self.current_entry(case, correction.corrects))

        return self._write(case_id, command, request)

    def _write(
        self,
        case_id: UUID,
        command: Callable[[Case], Entry],
        request: WriteRequest,
        erasure: list[Erasure] | None = None,
    ) -> Receipt:
        """Run a command on the latest case and save, retrying if another writer got there first."""
        if replay := self._replay(request):
            return replay
        for _ in range(self.max_attempts):
            with self._locks[hash(case_id) % self._stripes]:
                case = self.get_case(case_id)
                if request.authorise is not None:
                    request.authorise(case)
                if request.expected_version not in (None, case.version):
                    raise VersionMismatch(case.version)
                entry = command(case)
                try:
                    return self._save(case, entry, request, erasure[0] if erasure else None)
                except IntegrityError:
                    if replay := self._replay(request):
                        return replay
                    if request.expected_version is not None:
                        raise VersionMismatch(self.get_case(case_id).version) from None
            time.sleep(random.uniform(0.001, 0.02))  # noqa: S311 - jitter, not security
        raise WriteContention

    def get_case(self, case_id: UUID, version: int | None = None, *, copy: bool = True) -> Case:
        """The case as it stands, or as it stood at ``version``. ``copy=False`` returns the cached
        case itself, without the deep copy: only to look at its care team and version."""
        try:
            case: Case = self.repository.get(case_id, version=version, deepcopy_from_cache=copy)
        except AggregateNotFoundError:
            raise CaseNotFound(case_id) from None
        if version is None and case.erased_since_load:
            return self._reload(case_id, case.version, copy=copy)
        return case

    def _reload(self, case_id: UUID, version: int, *, copy: bool) -> Case:
        """The case loaded again from the store (an erasure, perhaps by another process, came after
        this process folded its text), kept in the cache in place of the stale one."""
        fresh: Case = self.repository.get(case_id, version=version)  # never from the cache
        fresh.erased_since_load = False
        cache = self.repository.cache
        if isinstance(cache, LRUCache):
            cache.put(case_id, fresh)
        self._recent.forget(case_id)
        self._erased(case_id)
        return deepcopy(fresh) if copy else fresh

    def entry_at(self, case_id: UUID, version: int) -> Entry:
        """The entry recorded at one version of a case."""
        (event,) = self.events.get(case_id, gt=version - 1, lte=version)
        if not isinstance(event, CaseEvent):
            raise TypeError(f"Version {version} of case {case_id} is not an entry")
        return event.entry

    def current_entry(self, case: Case, entry_id: UUID) -> Entry:
        """An entry as it currently reads: the latest correction's corrected values, else the original."""
        earlier = case.state.corrections_of(entry_id)
        if earlier:
            latest = self.entry_at(case.id, case.entry_version(earlier[-1], field="corrects"))
            if isinstance(latest, EntryCorrected) and latest.corrected is not None:
                return latest.corrected
        return self.entry_at(case.id, case.entry_version(entry_id, field="corrects"))

    def entries(self, case_id: UUID, *, after: int, limit: int) -> list[tuple[int, Entry]]:
        """A page of a case's entries, in the order they were recorded."""
        return [
            (event.originator_version, event.entry)
            for event in self.events.get(case_id, gt=after, limit=limit)
            if isinstance(event, CaseEvent)
        ]

    def every_entry(self, case_id: UUID, current: int | None = None) -> list[tuple[int, Entry]]:
        """Every entry of a case, in the order recorded (those read before are not read again; with
        ``current``, a version the case has reached, the store is asked only for entries not held,
        and more than ``current`` may come back)."""
        return self._recent.all_of(case_id, current)

    def versions_recorded_by(self, case_id: UUID, until: datetime, current: int) -> int:
        """The last version of a case (of ``current``) whose entries had all been recorded by ``until``;
        0 when even its opening was recorded later."""
        return self._recent.versions_recorded_by(case_id, until, current)

    def case_at(self, case_id: UUID, version: int) -> Case:
        """A copy of the case as it stood at ``version`` (one it has reached), folded from the
        entries held in memory rather than loaded from its snapshot."""
        return self._recent.case_at(case_id, version)

    def _save(
        self, case: Case, entry: Entry, request: WriteRequest, erasure: Erasure | None = None
    ) -> Receipt:
        use = None
        if request.idempotency is not None:
            use = KeyUse(request.idempotency, case.id, entry.entry_id, case.version)
        try:
            recordings = self.save(case, idempotency=use, erasure=erasure)
        except (OperationalError, InterfaceError) as error:
            raise StoreUnavailable from error
        position = recordings[-1].notification.id if recordings else None
        return Receipt(case.id, entry.entry_id, case.version, position)

    def _replay(self, request: WriteRequest) -> Receipt | None:
        """The first response to a write sent again with the same Idempotency-Key."""
        key = request.idempotency
        if key is None:
            return None
        found = self.case_recorder.find_key(key.actor_id, key.key)
        if found is None:
            return None
        used, position = found
        if used.key.request_hash != key.request_hash:
            raise IdempotencyKeyReused
        return Receipt(used.case_id, used.entry_id, used.case_version, position, replayed=True)

    def a_case_of(self, clinician_id: str) -> str | None:
        """The id of one case on a clinician's care team, to point a new user at (demo start-up)."""
        return self.case_recorder.a_case_of(clinician_id)

    def ping(self) -> None:
        """Raise unless the case record store answers."""
        self.case_recorder.ping()

    def _drop_stale_snapshots(self) -> None:
        """Snapshots written under an older state layout cannot be read: drop them, cases replay instead."""
        recorder = self.snapshots.recorder if self.snapshots is not None else None
        if not isinstance(recorder, PostgresAggregateRecorder):
            return  # the in-memory store starts empty: no snapshot of an older layout to drop
        table = Identifier(recorder.datastore.schema, recorder.events_table_name)
        with recorder.datastore.transaction(commit=True) as curs:
            curs.execute(SQL("DELETE FROM {} WHERE topic <> %s").format(table), [SNAPSHOT_TOPIC])
