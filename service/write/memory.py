"""The case store on the eventsourcing library's in-memory (POPO) persistence: the same idempotency
and record-view contract as CaseRecorder, kept in Python objects, so CaseRecords' own logic (versions,
retries, idempotent replays) runs without PostgreSQL. Nothing survives the process; production never
uses it (``eventsourcing_env`` always names PostgreSQL)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

import msgspec
from eventsourcing.persistence import ApplicationRecorder, IntegrityError, StoredEvent
from eventsourcing.popo import POPOApplicationRecorder, POPOFactory

from service.write.persistence import CaseStore, KeyUse

__all__ = ["MemoryCaseRecorder", "MemoryFactory", "RecordView", "memory_env"]

RecordView = tuple[str, str, UUID, str, int | None, str, str | None]
"""One logged read of a record: actor id, role, case id, view, case version, served or refused."""


class _CareTeam(msgspec.Struct):
    care_team: list[str]


class MemoryCaseRecorder(POPOApplicationRecorder, CaseStore):
    """The library's in-memory recorder, plus idempotency keys checked and stored under its lock with
    the events they produced (as CaseRecorder does in one transaction)."""

    def __init__(self) -> None:
        super().__init__()
        self.keys: dict[tuple[str, str], KeyUse] = {}
        self.views: list[RecordView] = []

    def _assert_uniqueness(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> None:
        use: KeyUse | None = kwargs.get("idempotency")
        if use is not None and (use.key.actor_id, use.key.key) in self.keys:
            raise IntegrityError(f"Idempotency key already used: {use.key.key}")
        super()._assert_uniqueness(stored_events, **kwargs)

    def _update_table(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Sequence[int] | None:
        use: KeyUse | None = kwargs.get("idempotency")
        if use is not None:
            self.keys[use.key.actor_id, use.key.key] = use
        return super()._update_table(stored_events, **kwargs)

    def find_key(self, actor_id: str, key: str) -> tuple[KeyUse, int | None] | None:
        with self._database_lock:
            use = self.keys.get((actor_id, key))
            if use is None:
                return None
            index = self._stored_events_index[str(use.case_id)].get(use.case_version)
        return use, None if index is None else index + 1  # notification ids count from 1

    def record_view(
        self,
        actor_id: str,
        role: str,
        case_id: UUID,
        view: str,
        case_version: int | None,
        *,
        outcome: str = "served",
        purpose: str | None = None,
    ) -> None:
        with self._database_lock:
            self.views.append((actor_id, role, case_id, view, case_version, outcome, purpose))

    def a_case_of(self, clinician_id: str) -> str | None:
        with self._database_lock:
            opened = [e for e in self._stored_events if e.topic == "case_opened"]
        for event in opened:
            if clinician_id in msgspec.json.decode(event.state, type=_CareTeam).care_team:
                return str(event.originator_id)
        return None

    def ping(self) -> None:
        """Memory always answers."""


class MemoryFactory(POPOFactory):
    """The library's POPO factory, making a MemoryCaseRecorder for the application's events (the POPO
    factory itself ignores APPLICATION_RECORDER_TOPIC)."""

    def application_recorder(self) -> ApplicationRecorder:
        return MemoryCaseRecorder()


def memory_env() -> dict[str, str]:
    """The library's settings for CaseRecords on in-memory persistence, with production's aggregate cache."""
    return {
        "PERSISTENCE_MODULE": f"{__name__}:{MemoryFactory.__name__}",
        "AGGREGATE_CACHE_MAXSIZE": "1000",
        "AGGREGATE_CACHE_FASTFORWARD": "y",
    }
