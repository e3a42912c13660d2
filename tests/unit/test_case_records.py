"""The write application's own logic (idempotent replays, If-Match versions, retries when another writer
appended first, reading a case back at a version) on the eventsourcing library's in-memory persistence.
The same behaviour over PostgreSQL and HTTP is in tests/integration and tests/api."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any
from uuid import UUID

import pytest
from eventsourcing.persistence import ApplicationRecorder

from events.case import Case
from events.entries import EntryCorrected, ReviewRecorded
from events.values import ReviewKind
from service.write.application import (
    CaseNotFound,
    CaseRecords,
    IdempotencyKeyReused,
    VersionMismatch,
    WriteContention,
    WriteRequest,
)
from service.write.memory import MemoryCaseRecorder, memory_env
from service.write.persistence import IdempotencyKey
from tests.unit.builders import CASE_ID, STABILITY, make, opened


def review(confidence: int = 5) -> ReviewRecorded:
    """A routine review of the test case (a new entry id each time)."""
    return make(
        ReviewRecorded, kind=ReviewKind.ROUTINE, ratings={STABILITY: 5}, confidence=confidence, autonomy=5
    )


def key(name: str = "key-1", body: bytes = b'{"confidence": 5}', actor: str = "clin-1") -> IdempotencyKey:
    """An Idempotency-Key sent by ``actor`` with a request whose body is ``body``."""
    return IdempotencyKey(actor, name, IdempotencyKey.fingerprint("POST", "/cases/x/reviews", body))


def stored(records: CaseRecords) -> int:
    """How many events the store holds."""
    return records.recorder.max_notification_id() or 0


@pytest.fixture
def records() -> Iterator[CaseRecords]:
    """CaseRecords on in-memory persistence, with the test case opened (version 1)."""
    app = CaseRecords(memory_env())
    app.open_case(opened())
    yield app
    app.close()


def another_writer(records: CaseRecords) -> CaseRecords:
    """A second CaseRecords on the same store, as a second server process is on the same database:
    its own aggregate cache and locks, the same events."""

    class SameStore(CaseRecords):
        name = CaseRecords.name

        def construct_recorder(self) -> ApplicationRecorder:
            return records.recorder

    return SameStore(memory_env())


def racing(writes: Callable[[int], object]) -> Callable[[Case], None]:
    """An ``authorise`` hook that runs ``writes(attempt)`` after the case is read and before it is saved:
    the moment another writer's append makes this one's save collide."""
    attempts = 0

    def authorise(case: Case) -> None:
        nonlocal attempts
        attempts += 1
        writes(attempts)

    return authorise


def test_the_store_is_the_library_s_in_memory_one_with_waymark_s_idempotency_keys(
    records: CaseRecords,
) -> None:
    assert isinstance(records.recorder, MemoryCaseRecorder)
    assert records.a_case_of("clin-1") == str(CASE_ID)
    assert records.a_case_of("clin-elsewhere") is None


def test_a_write_sent_twice_with_one_key_answers_the_first_receipt_and_stores_once(
    records: CaseRecords,
) -> None:
    first = records.record(CASE_ID, review(), WriteRequest(idempotency=key()))
    again = records.record(CASE_ID, review(), WriteRequest(idempotency=key()))

    assert not first.replayed
    assert again.replayed
    assert (again.entry_id, again.version, again.position) == (first.entry_id, first.version, first.position)
    assert stored(records) == 2  # the opening and one review
    assert records.get_case(CASE_ID).version == 2


def test_opening_a_case_twice_with_one_key_opens_it_once(records: CaseRecords) -> None:
    other = UUID("00000000-0000-4000-8000-000000000002")
    first = records.open_case(opened(case_id=other), WriteRequest(idempotency=key("open")))
    again = records.open_case(opened(case_id=other), WriteRequest(idempotency=key("open")))

    assert again.replayed
    assert (again.case_id, again.entry_id, again.version) == (first.case_id, first.entry_id, 1)
    assert stored(records) == 2


def test_a_key_sent_again_with_a_different_body_is_refused_and_stores_nothing(records: CaseRecords) -> None:
    records.record(CASE_ID, review(), WriteRequest(idempotency=key(body=b'{"confidence": 5}')))

    with pytest.raises(IdempotencyKeyReused):
        records.record(CASE_ID, review(3), WriteRequest(idempotency=key(body=b'{"confidence": 3}')))
    assert stored(records) == 2


def test_a_key_belongs_to_the_user_who_sent_it(records: CaseRecords) -> None:
    mine = records.record(CASE_ID, review(), WriteRequest(idempotency=key(actor="clin-1")))
    theirs = records.record(CASE_ID, review(), WriteRequest(idempotency=key(actor="clin-2")))

    assert not theirs.replayed
    assert (mine.version, theirs.version) == (2, 3)


def test_a_write_naming_the_current_version_is_saved_and_one_naming_an_older_version_is_refused(
    records: CaseRecords,
) -> None:
    assert records.record(CASE_ID, review(), WriteRequest(expected_version=1)).version == 2

    with pytest.raises(VersionMismatch) as refused:
        records.record(CASE_ID, review(), WriteRequest(expected_version=1))
    assert refused.value.current == 2
    assert stored(records) == 2


def test_a_write_that_loses_a_race_is_retried_on_the_new_version(records: CaseRecords) -> None:
    other = another_writer(records)
    theirs: list[UUID] = []

    def append_first(attempt: int) -> None:
        if attempt == 1:
            theirs.append(other.record(CASE_ID, review()).entry_id)

    mine = records.record(CASE_ID, review(), WriteRequest(authorise=racing(append_first)))

    assert mine.version == 3
    assert [entry.entry_id for _, entry in records.entries(CASE_ID, after=1, limit=10)] == [
        theirs[0],
        mine.entry_id,
    ]
    other.close()


def test_a_write_that_loses_a_race_after_naming_a_version_is_refused_not_retried(
    records: CaseRecords,
) -> None:
    other = another_writer(records)

    def append_first(attempt: int) -> None:
        if attempt == 1:
            other.record(CASE_ID, review())

    with pytest.raises(VersionMismatch) as refused:
        records.record(CASE_ID, review(), WriteRequest(authorise=racing(append_first), expected_version=1))
    assert refused.value.current == 2
    assert stored(records) == 2
    other.close()


def test_a_write_racing_its_own_retry_answers_the_receipt_of_whichever_was_saved(
    records: CaseRecords,
) -> None:
    other = another_writer(records)
    theirs: list[Any] = []

    def same_request_first(attempt: int) -> None:
        if attempt == 1:  # the client's retry, on another server, is saved first
            theirs.append(other.record(CASE_ID, review(), WriteRequest(idempotency=key())))

    mine = records.record(
        CASE_ID, review(), WriteRequest(authorise=racing(same_request_first), idempotency=key())
    )

    assert mine.replayed
    assert (mine.entry_id, mine.version) == (theirs[0].entry_id, theirs[0].version)
    assert stored(records) == 2
    other.close()


def test_a_writer_that_loses_every_race_gives_up_with_contention(records: CaseRecords) -> None:
    other = another_writer(records)
    records.max_attempts = 3

    with pytest.raises(WriteContention):
        records.record(
            CASE_ID, review(), WriteRequest(authorise=racing(lambda _: other.record(CASE_ID, review())))
        )
    assert stored(records) == 4  # the opening and the other writer's three
    other.close()


def test_a_case_reads_back_as_it_stood_at_each_version(records: CaseRecords) -> None:
    written = [records.record(CASE_ID, review(confidence)) for confidence in (2, 4, 6)]

    assert records.get_case(CASE_ID, 1).state.last_review is None
    for receipt in written:
        then = records.get_case(CASE_ID, receipt.version)
        assert then.version == receipt.version
        assert then.state.last_review is not None
        assert then.state.last_review.entry_id == receipt.entry_id
        assert records.entry_at(CASE_ID, receipt.version).entry_id == receipt.entry_id
    assert [version for version, _ in records.entries(CASE_ID, after=2, limit=1)] == [3]
    with pytest.raises(CaseNotFound):
        records.get_case(UUID("00000000-0000-4000-8000-00000000dead"))


def test_a_correction_reads_back_with_its_corrected_values(records: CaseRecords) -> None:
    original = records.record(CASE_ID, review(2))
    correction = make(
        EntryCorrected, corrects=original.entry_id, reason="misheard", changes={"confidence": 7}
    )
    records.correct(CASE_ID, correction)

    current = records.current_entry(records.get_case(CASE_ID), original.entry_id)
    assert isinstance(current, ReviewRecorded)
    assert current.confidence == 7
