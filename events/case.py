"""The Case aggregate: a person's case record, with the envelope the eventsourcing library stores."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import TypeVar
from uuid import UUID

import msgspec

from events.corrections import corrected_entry
from events.entries import CaseOpened, Entry, EntryCorrected, TextErased
from events.errors import EntryNotFound
from events.rules import check_corrected, check_entry, check_timing
from events.state import CaseState

__all__ = ["SNAPSHOT_TOPIC", "Case", "CaseEvent", "CaseSnapshot"]

E = TypeVar("E", bound=Entry)


class CaseEvent:
    """One entry appended to a case's stream: the library's event around an Entry."""

    __slots__ = ("entry", "originator_id", "originator_version")

    def __init__(self, originator_id: UUID, originator_version: int, entry: Entry) -> None:
        self.originator_id = originator_id
        self.originator_version = originator_version
        self.entry = entry

    @property
    def timestamp(self) -> datetime:
        """When the entry was recorded, by the server's clock."""
        return self.entry.recorded_at

    def mutate(self, case: Case | None) -> Case:
        """Apply this entry to the case (or open it, for the first entry)."""
        if case is None:
            if not isinstance(self.entry, CaseOpened):
                raise TypeError(f"A case stream must start with case_opened, not {type(self.entry).__name__}")
            return Case(CaseState.opened(self.entry), version=1, created_on=self.timestamp)
        if self.originator_version != case.version + 1:
            raise ValueError(
                f"Entry version {self.originator_version} does not follow case version {case.version}"
            )
        case.state.evolve(self.entry, version=self.originator_version)
        if isinstance(self.entry, TextErased):
            # Text folded in before this entry was opened before its keys were destroyed.
            case.erased_since_load = True
        case.version = self.originator_version
        case.modified_on = self.timestamp
        return case


class CaseSnapshot(msgspec.Struct, frozen=True, kw_only=True):
    """The state of a case at one version, so long cases load without replaying every entry."""

    originator_id: UUID
    originator_version: int
    timestamp: datetime
    created_on: datetime
    modified_on: datetime
    state: CaseState

    @classmethod
    def take(cls, case: Case) -> CaseSnapshot:
        """Snapshot a case as it stands."""
        return cls(
            originator_id=case.id,
            originator_version=case.version,
            timestamp=datetime.now(UTC),
            created_on=case.created_on,
            modified_on=case.modified_on,
            state=case.state,
        )

    def mutate(self, _: None) -> Case:
        """Rebuild the case from this snapshot."""
        case = Case(self.state, version=self.originator_version, created_on=self.created_on)
        case.modified_on = self.modified_on
        return case


# A snapshot written under a different state layout is stale: the topic carries a fingerprint of the
# layout so stale snapshots can be found and dropped, and the case replayed from its entries instead.
_LAYOUT = hashlib.sha256(msgspec.json.encode(msgspec.json.schema(CaseState))).hexdigest()[:12]
SNAPSHOT_TOPIC = f"case_snapshot:{_LAYOUT}"
# JSON, not msgpack: msgpack stores a time as UTC, which loses its offset and overflows for a time
# near year 1 with a positive offset (such an entry, appended past the rules, made its case
# unreadable). Both round trips cost the same (about 0.38 ms for a case of 300 reviews).
_STATE_ENCODER = msgspec.json.Encoder()
_STATE_DECODER = msgspec.json.Decoder(CaseState)


class Case:
    """A person's case record. Entries are only ever appended; each is checked against the rules first."""

    Snapshot = CaseSnapshot

    def __init__(self, state: CaseState, *, version: int, created_on: datetime) -> None:
        self.state = state
        self.version = version
        self.created_on = created_on
        self.modified_on = created_on
        self._pending: list[CaseEvent] = []
        self.erased_since_load = False
        """Whether an erasure was applied to this case after it was folded: its text may be stale
        (a cached case fast-forwarded past it), so it is loaded again (``CaseRecords.get_case``)."""

    @property
    def id(self) -> UUID:
        """The case id, which is also the id of its event stream."""
        return self.state.case_id

    @classmethod
    def open(cls, entry: CaseOpened) -> Case:
        """Open a new case record."""
        check_timing(None, entry)
        event = CaseEvent(entry.case_id, 1, entry)
        case = event.mutate(None)
        case._pending.append(event)
        return case

    def record(self, entry: E) -> E:
        """Append an entry after checking it against the case's rules."""
        if isinstance(entry, EntryCorrected):
            raise TypeError("Corrections need the original entry: use Case.correct")
        if entry.case_id != self.id:
            raise ValueError(f"Entry {entry.entry_id} belongs to another case")
        check_entry(self.state, entry)
        self._append(entry)
        return entry

    def correct(self, correction: EntryCorrected, current: Entry) -> EntryCorrected:
        """Append a correction of an entry as it currently reads (``current``); the original stays."""
        check_entry(self.state, correction)
        if current.entry_id != correction.corrects or self.state.ref(correction.corrects) is None:
            raise EntryNotFound(correction.corrects, field="corrects")
        corrected, changes = corrected_entry(current, correction)
        check_corrected(self.state, current, corrected, now=correction.recorded_at)
        entry = msgspec.structs.replace(correction, changes=changes, corrected=corrected)
        self._append(entry)
        return entry

    def entry_version(self, entry_id: UUID, *, field: str) -> int:
        """The case version at which an entry was recorded."""
        ref = self.state.ref(entry_id)
        if ref is None:
            raise EntryNotFound(entry_id, field=field)
        return ref.version

    def __deepcopy__(self, memo: dict[int, object]) -> Case:
        # The library copies cached aggregates before each command; a msgspec round trip of the
        # state is over ten times faster than copy.deepcopy walking every UUID and Struct.
        copied = Case(
            _STATE_DECODER.decode(_STATE_ENCODER.encode(self.state)),
            version=self.version,
            created_on=self.created_on,
        )
        copied.modified_on = self.modified_on
        copied._pending = list(self._pending)
        copied.erased_since_load = self.erased_since_load
        return copied

    def collect_events(self) -> list[CaseEvent]:
        """Hand over the entries not yet saved."""
        pending, self._pending = self._pending, []
        return pending

    def _append(self, entry: Entry) -> None:
        event = CaseEvent(self.id, self.version + 1, entry)
        event.mutate(self)
        self._pending.append(event)
