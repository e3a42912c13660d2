"""The replay rules the page and the API share, on hand-made entries: the version recorded by the end
of a day, what was learned later about the time before, and the review days to jump to."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

from events.entries import Entry, EntryCorrected, ReviewRecorded, StatementAdded
from events.replay import learned_since, prefix_recorded_by
from events.values import Actor, OutcomeDomain, ReviewKind, Role
from service.pages.replay import end_of, replay_of, review_marks

CASE = uuid.uuid4()
ACTOR = Actor(id="c-1", role=Role.CLINICIAN)
DAY = datetime(2026, 3, 1, 10, tzinfo=UTC)


def _review(recorded: int, occurred: int) -> ReviewRecorded:
    return ReviewRecorded(
        entry_id=uuid.uuid4(),
        case_id=CASE,
        actor=ACTOR,
        recorded_at=DAY + timedelta(days=recorded),
        occurred_at=DAY + timedelta(days=occurred),
        kind=ReviewKind.ROUTINE,
        ratings={OutcomeDomain.STABILITY_SELF_MANAGEMENT: 5},
        confidence=5,
        autonomy=5,
    )


def _entries() -> list[tuple[int, Entry]]:
    first, second = _review(0, 0), _review(10, 10)
    correction = EntryCorrected(
        entry_id=uuid.uuid4(),
        case_id=CASE,
        actor=ACTOR,
        recorded_at=DAY + timedelta(days=12),
        occurred_at=DAY + timedelta(days=12),
        corrects=first.entry_id,
        reason="typo",
        changes={"confidence": 6},
    )
    late = StatementAdded(
        entry_id=uuid.uuid4(),
        case_id=CASE,
        actor=ACTOR,
        recorded_at=DAY + timedelta(days=15),
        occurred_at=DAY + timedelta(days=2),
        text="about the first week",
    )
    on_time = _review(16, 16)
    return [(2, first), (3, second), (4, correction), (5, late), (6, on_time)]


def _shown_on(entries: list[tuple[int, Entry]], day: date) -> int | None:
    """The version shown for a day (the case here starts at version 2)."""
    count = prefix_recorded_by([e.recorded_at for _, e in entries], end_of(day))
    return entries[count - 1][0] if count else None


def test_the_version_shown_for_a_day_is_the_last_recorded_by_its_end() -> None:
    entries = _entries()
    assert _shown_on(entries, date(2026, 2, 28)) is None
    assert _shown_on(entries, date(2026, 3, 1)) == 2
    assert _shown_on(entries, date(2026, 3, 12)) == 3  # the correction came at 10:00 the next day
    assert _shown_on(entries, date(2026, 3, 13)) == 4


def test_a_version_stamped_early_after_a_later_one_waits_for_the_later_one() -> None:
    # Two writers racing: version 3 stamped at 10:00:02 committed before version 4 stamped at 10:00:01.
    stamps = [DAY, DAY + timedelta(seconds=2), DAY + timedelta(seconds=1)]
    assert prefix_recorded_by(stamps, DAY + timedelta(seconds=1)) == 1
    assert prefix_recorded_by(stamps, DAY + timedelta(seconds=2)) == 3


def test_learned_since_lists_late_entries_and_corrections_of_what_was_known() -> None:
    entries = _entries()
    boundary = datetime(2026, 3, 12, tzinfo=UTC)
    learned = [(item.version, item.kind) for item in learned_since(entries, boundary)]
    # not the review of 17 March: it happened after the boundary
    assert learned == [(4, "correction"), (5, "late_entry")]
    assert learned_since(entries, boundary)[0].about == DAY  # what the correction is about


def test_review_days_are_offered_once_each_newest_first_and_the_current_version_is_no_replay() -> None:
    entries = _entries()
    assert [m.recorded_on for m in review_marks(entries)] == [
        date(2026, 3, 17),
        date(2026, 3, 11),
        date(2026, 3, 1),
    ]
    assert not replay_of(entries, version=6, day=None).active
    assert not replay_of(entries, version=None, day=None).active
    replay = replay_of(entries, version=3, day=date(2026, 3, 11))
    assert replay.active
    assert replay.recorded_at == datetime(2026, 3, 12, tzinfo=UTC)
    assert [item.version for item in replay.learned] == [4, 5]
    assert replay_of(entries, version=None, day=None, problem="Enter a real date").problem
