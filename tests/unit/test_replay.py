"""The replay rules on hand-made entries: which entries each time axis keeps, how corrections count on
each, the state folded from what is kept, and what was learned later; and that a replay's fold
leaves out only rows neither the trajectory nor the learning log reads."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec

from events.entries import Entry, EntryCorrected, ReviewRecorded
from events.replay import as_known, case_of, happened_by, learned_since, prefix_recorded_by, unbroken
from events.values import ReviewKind
from projections.models.base import ReadModel
from projections.models.care import CareDelivery
from projections.queries.replayed import READ_TABLES, SKIPPED
from service.write.application import CaseRecords
from service.write.memory import memory_env
from tests.unit.builders import CASE_ID, STABILITY, make, opened

DAY = datetime(2026, 3, 1, tzinfo=UTC)


def at(entry: Any, recorded: int, occurred: int) -> Any:
    """The entry recorded and happened on the given days after DAY."""
    return msgspec.structs.replace(
        entry, recorded_at=DAY + timedelta(days=recorded), occurred_at=DAY + timedelta(days=occurred)
    )


def review(recorded: int, occurred: int, rating: int = 5) -> ReviewRecorded:
    made = make(
        ReviewRecorded, kind=ReviewKind.ROUTINE, ratings={STABILITY: rating}, confidence=5, autonomy=5
    )
    return at(made, recorded, occurred)  # type: ignore[no-any-return]


def correction(of: Entry, recorded: int, **changes: Any) -> EntryCorrected:
    corrected = msgspec.structs.replace(of, **changes)
    made = make(EntryCorrected, corrects=of.entry_id, reason="misheard", changes=changes, corrected=corrected)
    return at(made, recorded, recorded)  # type: ignore[no-any-return]


def story() -> tuple[list[tuple[int, Entry]], ReviewRecorded, ReviewRecorded, EntryCorrected]:
    """Opened on day 0; a review on day 2; another on day 10, moved by a correction on day 12 to have
    happened on day 4; a late review recorded on day 15 about day 3."""
    first, second = review(2, 2, 4), review(10, 10, 6)
    moved = correction(second, 12, occurred_at=DAY + timedelta(days=4), ratings={STABILITY: 7})
    late = review(15, 3, 3)
    start = at(opened(opened_on=DAY.date()), 0, 0)
    return [(1, start), (2, first), (3, second), (4, moved), (5, late)], first, second, moved


def test_a_replay_keeps_the_prefix_recorded_by_then() -> None:
    entries, *_ = story()
    stamps = [e.recorded_at for _, e in entries]
    assert prefix_recorded_by(stamps, DAY - timedelta(seconds=1)) == 0
    assert prefix_recorded_by(stamps, DAY + timedelta(days=11)) == 3
    assert prefix_recorded_by(stamps, DAY + timedelta(days=12)) == 4  # a stamp equal to T is kept


def test_occurred_until_counts_an_entry_by_when_it_happened_as_corrected() -> None:
    entries, *_ = story()
    kept = [version for version, _ in happened_by(entries, DAY + timedelta(days=5))]
    assert kept == [1, 2, 3, 4, 5]  # the second review was moved to day 4, its correction comes with it
    before_the_move = entries[:3]
    assert [v for v, _ in happened_by(before_the_move, DAY + timedelta(days=5))] == [1, 2]
    assert [v for v, _ in happened_by(entries, DAY + timedelta(days=2))] == [1, 2]


def test_the_state_folded_from_what_is_kept_applies_the_corrections_kept() -> None:
    entries, _, second, _ = story()
    case = case_of(happened_by(entries, DAY + timedelta(days=5)), version=5)
    assert case is not None
    assert case.state.last_review is not None
    assert case.state.corrections_of(second.entry_id) != []
    current, corrected = as_known(entries)
    assert corrected == {second.entry_id}
    assert current[second.entry_id].occurred_at == DAY + timedelta(days=4)
    assert case_of(happened_by(entries, DAY - timedelta(days=1)), version=5) is None


def test_learned_since_counts_corrections_moving_an_entry_into_the_time_and_late_entries() -> None:
    entries, *_ = story()
    learned = learned_since(entries, DAY + timedelta(days=11))
    assert [(item.version, item.kind) for item in learned] == [(4, "correction"), (5, "late_entry")]
    assert learned[0].about == DAY + timedelta(days=4)  # moved into the time before day 11
    assert learned[0].reason == "misheard"
    assert learned[1].about == DAY + timedelta(days=3)
    # Moved to day 4 by the correction: about the time before day 4, not before day 3.
    assert [i.version for i in learned_since(entries, DAY + timedelta(days=4))] == [4, 5]
    assert [i.version for i in learned_since(entries, DAY + timedelta(days=3))] == [5]
    assert learned_since(entries, DAY + timedelta(days=2, hours=12)) == []  # all recorded since is later


def test_the_rows_a_replay_skips_are_in_no_table_it_reads() -> None:
    samples: dict[type[Entry], Entry] = {ReviewRecorded: review(1, 1)}
    models: dict[type[ReadModel], ReadModel] = {CareDelivery: CareDelivery()}
    for (model, kind), why in SKIPPED.items():
        tables = {table for table, _ in models[model].rows(samples[kind], None)}
        assert tables, why
        assert not tables & READ_TABLES, why


def test_folding_on_from_the_unbroken_start_gives_the_same_state_as_folding_it_all() -> None:
    entries, *_ = story()
    for days in (2, 3, 5, 20):
        kept = happened_by(entries, DAY + timedelta(days=days))
        whole = case_of(kept, version=5)
        start = case_of(kept[: unbroken(kept)], version=unbroken(kept))
        assert whole is not None
        assert start is not None
        on = case_of(kept, version=5, start=start)
        assert on is not None
        assert msgspec.json.encode(on.state) == msgspec.json.encode(whole.state), days
        assert on.modified_on == whole.modified_on
    assert unbroken(happened_by(entries, DAY + timedelta(days=3))) == 2  # then the review of day 10


def test_the_recorded_times_turn_a_moment_into_the_version_recorded_by_then() -> None:
    records = CaseRecords(memory_env())
    try:
        entries, *_ = story()
        records.open_case(entries[0][1])  # type: ignore[arg-type]
        for _, entry in entries[1:]:
            if isinstance(entry, EntryCorrected):
                records.correct(CASE_ID, msgspec.structs.replace(entry, corrected=None))
            else:
                records.record(CASE_ID, entry)
        assert records.versions_recorded_by(CASE_ID, DAY + timedelta(days=11), 5) == 3
        assert records.versions_recorded_by(CASE_ID, DAY - timedelta(days=1), 5) == 0
        assert records.versions_recorded_by(CASE_ID, DAY + timedelta(days=30), 5) == 5
        assert records.versions_recorded_by(CASE_ID, DAY + timedelta(days=12), 4) == 4  # only 4 asked
    finally:
        records.close()
