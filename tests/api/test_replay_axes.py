"""Replay on both time axes over HTTP: ``recorded_until`` (the record as it stood), ``occurred_until``
(what we know now about the time up to then), both together, and ``learned-since``; the trajectory
and learning log as of a moment. The case's history is in ``tests/support/replay_story.py``."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.api.helpers import Client
from tests.support.replay_story import CLINICIAN, CORRECTOR, Story, entry_ids, get, rating_of, stamp
from tests.support.tokens import TokenFactory

pytestmark = pytest.mark.usefixtures("projector")  # its tests read projections


async def test_recorded_until_before_a_correction_shows_the_original_and_after_it_the_correction(
    client: Client, auth: TokenFactory, story: Story
) -> None:
    headers = auth("clinician", CLINICIAN)
    path = f"/cases/{story.case_id}"
    before = await get(client, headers, path, recorded_until=stamp(25))
    after = await get(client, headers, path, recorded_until=stamp(15))
    assert before["last_review"]["entry_id"] == str(story.corrected_review)
    assert rating_of(before) == 8
    assert before["last_review"]["corrected_by"] == []
    assert after["last_review"]["entry_id"] == str(story.corrected_review)
    assert rating_of(after) == 3
    assert after["last_review"]["corrected_by"] == [str(story.correction)]
    history = await get(client, headers, f"{path}/history", recorded_until=stamp(15))
    corrected = next(i for i in history["items"] if i["entry_id"] == str(story.corrected_review))
    assert corrected["corrected_by"] == [str(story.correction)]
    assert str(story.late_review) not in entry_ids(history)
    earlier = await get(client, headers, f"{path}/history", recorded_until=stamp(25))
    assert str(story.correction) not in entry_ids(earlier)
    assert (
        next(i for i in earlier["items"] if i["entry_id"] == str(story.corrected_review))["corrected_by"]
        == []
    )


async def test_occurred_until_keeps_a_late_entry_about_earlier_and_leaves_out_what_came_later(
    client: Client, auth: TokenFactory, story: Story
) -> None:
    headers = auth("clinician", CLINICIAN)
    history = await get(client, headers, f"/cases/{story.case_id}/history", occurred_until=stamp(80))
    ids = entry_ids(history)
    assert str(story.late_review) in ids  # recorded 10 days ago, about 90 days ago
    assert str(story.corrected_review) not in ids  # happened 30 days ago
    assert str(story.correction) not in ids  # what it corrects happened after the time
    assert str(story.statement) not in ids
    assert all(item["occurred_at"] <= stamp(80) for item in history["items"])
    case = await get(client, headers, f"/cases/{story.case_id}", occurred_until=stamp(80))
    assert [e["severity"] for e in case["open_escalations"]] == [3]  # not the one of day 40


async def test_occurred_until_applies_every_correction_known_now(
    client: Client, auth: TokenFactory, story: Story
) -> None:
    headers = auth("clinician", CLINICIAN)
    history = await get(client, headers, f"/cases/{story.case_id}/history", occurred_until=stamp(25))
    ids = entry_ids(history)
    assert str(story.correction) in ids  # recorded after the time, but what it corrects happened by then
    corrected = next(i for i in history["items"] if i["entry_id"] == str(story.corrected_review))
    assert corrected["corrected_by"] == [str(story.correction)]


async def test_both_axes_together_are_what_was_known_then_about_the_time_before(
    client: Client, auth: TokenFactory, story: Story
) -> None:
    headers = auth("clinician", CLINICIAN)
    path = f"/cases/{story.case_id}/history"
    both = await get(client, headers, path, recorded_until=stamp(15), occurred_until=stamp(80))
    ids = entry_ids(both)
    assert str(story.late_review) not in ids  # known only since 10 days ago
    assert str(story.corrected_review) not in ids
    now_about_then = await get(client, headers, path, occurred_until=stamp(80))
    assert set(ids) == set(entry_ids(now_about_then)) - {str(story.late_review)}


async def test_the_case_replayed_at_now_on_either_axis_reads_as_it_stands(
    client: Client, auth: TokenFactory, story: Story
) -> None:
    headers = auth("clinician", CLINICIAN)
    path = f"/cases/{story.case_id}"
    current = await get(client, headers, path)
    at_now = datetime.now(UTC).isoformat()
    assert await get(client, headers, path, recorded_until=at_now) == current
    assert await get(client, headers, path, occurred_until=at_now) == current


async def test_learned_since_lists_the_late_entry_and_the_correction_with_both_times_who_and_why(
    client: Client, auth: TokenFactory, story: Story
) -> None:
    headers = auth("governance", "g-axes")
    learned = await get(
        client,
        headers,
        f"/cases/{story.case_id}/learned-since",
        recorded_after=stamp(25),
        purpose="complaint",
    )
    items = learned["items"]
    assert [(i["kind"], i["entry"]["entry_id"]) for i in items] == [
        ("correction", str(story.correction)),
        ("late_entry", str(story.late_review)),
    ]
    correction, late = items
    assert correction["reason"] == "entered on the wrong scale"
    assert correction["entry"]["actor"] == {"id": CORRECTOR, "role": "clinician"}
    assert correction["entry"]["corrects"] == str(story.corrected_review)
    assert correction["about_occurred_at"] == stamp(30)
    assert correction["entry"]["recorded_at"] == stamp(20)
    assert late["entry"]["occurred_at"] == late["about_occurred_at"] == stamp(90)
    assert late["entry"]["recorded_at"] == stamp(10)
    assert late["entry"]["late"] is True
    assert late["reason"] is None
    later = await get(
        client, headers, f"/cases/{story.case_id}/learned-since", recorded_after=stamp(8), purpose="complaint"
    )
    assert later["items"] == []  # the statement of 5 days ago is about 5 days ago


async def test_the_trajectory_as_of_a_moment_has_its_readings_and_windows_and_label(
    client: Client, auth: TokenFactory, story: Story
) -> None:
    headers = auth("clinician", CLINICIAN)
    path = f"/cases/{story.case_id}/trajectory"
    now = await get(client, headers, path, min_position=story.position)
    then = await get(client, headers, path, recorded_until=stamp(99))
    (domain_now,) = now["domains"]
    (domain_then,) = then["domains"]
    assert [p["value"] for p in domain_now["readings"]] == [3, 4, 5, 7, 6, 3]
    assert [p["value"] for p in domain_then["readings"]] == [3, 4, 5]
    assert then["as_of"] == stamp(99)
    assert domain_then["n"] == 3
    assert domain_then["label"] == "reliable improvement"  # 3 to 5 over 80 days
    assert domain_now["label"] == "fluctuating"  # up 2 from day 110 to 90, down 3 from day 70 to 30
    assert domain_then["last_90_days_mean"] == 4.5  # days 150 and 110
    assert domain_then["previous_90_days_mean"] == 3.0  # day 190
    assert then["escalations"]["total"] == 1
    assert then["escalations"]["last_90_days"]["escalations"] == 1  # day 160, within 90 days of day 99
    before_correction = await get(client, headers, path, recorded_until=stamp(25))
    (domain_before,) = before_correction["domains"]
    assert [(p["value"], p["corrected"]) for p in domain_before["readings"]][-1] == (8, False)
    assert [(p["value"], p["corrected"]) for p in domain_now["readings"]][-1] == (3, True)


async def test_replayed_at_now_the_trajectory_and_learning_log_equal_the_projections(
    client: Client, auth: TokenFactory, story: Story
) -> None:
    headers = auth("clinician", CLINICIAN)
    at = datetime.now(UTC).isoformat()
    for route in ("trajectory", "learning-log"):
        path = f"/cases/{story.case_id}/{route}"
        projected = await get(client, headers, path, min_position=story.position)
        replayed = await get(client, headers, path, recorded_until=at)
        projected.pop("as_of", None)
        replayed.pop("as_of", None)
        assert replayed == projected, route


async def test_the_learning_log_as_of_a_moment_leaves_out_what_came_later(
    client: Client, auth: TokenFactory, story: Story
) -> None:
    headers = auth("clinician", CLINICIAN)
    path = f"/cases/{story.case_id}/learning-log"
    log = await get(client, headers, path, occurred_until=stamp(130))
    assert [item["kind"] for item in log["items"]] == ["escalation"]
    log = await get(client, headers, path, recorded_until=stamp(100))
    assert [item["kind"] for item in log["items"]] == ["escalation", "setback"]
