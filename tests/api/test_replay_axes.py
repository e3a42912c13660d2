"""Replay on both time axes over HTTP: ``recorded_until`` (the record as it stood), ``occurred_until``
(what we know now about the time up to then), both together, and ``learned-since``; the trajectory
and learning log as of a moment; ETags, the access log and problems on replayed reads.

The history is written through the application with recorded times in the past (the API always
records "now"), as ``waymark demo`` writes its cases. Days below are days ago.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest
from psycopg.rows import dict_row

from events.entries import (
    CaseOpened,
    EntryCorrected,
    EscalationRaised,
    ReviewRecorded,
    SetbackRecorded,
    StatementAdded,
)
from events.values import Actor, ContributingFactor, OutcomeDomain, ReviewKind, Role
from service.bootstrap import Runtime
from service.database import DatabaseAddress
from tests.api.helpers import Client, assert_problem
from tests.support.tokens import TokenFactory

NOW = datetime.now(UTC)
DOMAIN = OutcomeDomain.STABILITY_SELF_MANAGEMENT
CLINICIAN, CORRECTOR = f"c-axes-{uuid.uuid4().hex[:8]}", f"c-fix-{uuid.uuid4().hex[:8]}"


def ago(days: float) -> datetime:
    return NOW - timedelta(days=days)


def stamp(days: float) -> str:
    return ago(days).isoformat().replace("+00:00", "Z")


@dataclass(frozen=True)
class Story:
    case_id: uuid.UUID
    corrected_review: uuid.UUID
    late_review: uuid.UUID
    correction: uuid.UUID
    statement: uuid.UUID
    position: int


@pytest.fixture(scope="module")
def story(runtime: Runtime) -> Story:
    """Opened 200 days ago; reviews rating 3, 4, 5, 6, 8 on days 190, 150, 110, 70, 30 (each recorded
    that day); escalations on days 160 and 40, a setback on day 120. On day 20 the review of day 30
    is corrected from 8 to 3 by another clinician; on day 10 a late review (7) about day 90 is
    recorded; on day 5 a statement about that day."""
    records = runtime.records
    case_id = uuid.uuid4()

    def meta(recorded: float, occurred: float, who: str = CLINICIAN) -> dict[str, Any]:
        return {
            "entry_id": uuid.uuid4(),
            "case_id": case_id,
            "actor": Actor(id=who, role=Role.CLINICIAN),
            "recorded_at": ago(recorded),
            "occurred_at": ago(occurred),
        }

    def review(recorded: float, occurred: float, rating: int) -> ReviewRecorded:
        return ReviewRecorded(
            **meta(recorded, occurred),
            kind=ReviewKind.ROUTINE,
            ratings={DOMAIN: rating},
            confidence=5,
            autonomy=5,
        )

    records.open_case(
        CaseOpened(
            **meta(200, 200),
            person_ref="P-axes",
            service="north",
            opened_on=ago(200).date(),
            care_team=(CLINICIAN, CORRECTOR),
            domains=(DOMAIN,),
        )
    )
    reviews = {}
    for day, rating in ((190, 3), (160, None), (150, 4), (120, None), (110, 5), (70, 6), (40, None), (30, 8)):
        if day in (160, 40):
            escalation = EscalationRaised(
                **meta(day, day),
                severity=3 if day == 160 else 2,
                trigger="anniversary",
                response="same-day visit",
                escalation_plan_used_early=True,
            )
            records.record(case_id, escalation)
        elif day == 120:
            setback = SetbackRecorded(
                **meta(day, day),
                domains=(DOMAIN,),
                what_happened="stopped going out",
                contributing_factors=(ContributingFactor.HOUSING,),
                risk_management="daily calls",
                learning="early signs show in sleep",
                adaptation="mid-week call",
            )
            records.record(case_id, setback)
        else:
            assert rating is not None
            reviews[day] = records.record(case_id, review(day, day, rating)).entry_id
    correction = records.correct(
        case_id,
        EntryCorrected(
            **meta(20, 20, CORRECTOR),
            corrects=reviews[30],
            reason="entered on the wrong scale",
            changes={"ratings": {DOMAIN.value: 3}},
        ),
    )
    late = records.record(case_id, review(10, 90, 7))
    statement = records.record(case_id, StatementAdded(**meta(5, 5), text="better now"))
    assert statement.position is not None
    return Story(
        case_id, reviews[30], late.entry_id, correction.entry_id, statement.entry_id, statement.position
    )


def rating_of(case: dict[str, Any]) -> int:
    rating: int = case["last_review"]["ratings"][DOMAIN.value]
    return rating


async def get(client: Client, headers: dict[str, str], path: str, **params: Any) -> dict[str, Any]:
    response = await client.get(path, params=params, headers=headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def entry_ids(history: dict[str, Any]) -> list[str]:
    return [item["entry_id"] for item in history["items"]]


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


async def test_a_replayed_read_has_its_own_etag_and_answers_304_to_it(
    client: Client, auth: TokenFactory, story: Story
) -> None:
    headers = auth("clinician", CLINICIAN)
    path = f"/cases/{story.case_id}"
    params = {"recorded_until": stamp(25)}
    first = await client.get(path, params=params, headers=headers)
    current = await client.get(path, headers=headers)
    tag = first.headers["etag"]
    assert tag != current.headers["etag"]
    again = await client.get(path, params=params, headers={**headers, "If-None-Match": tag})
    assert again.status_code == 304
    assert again.headers["etag"] == tag
    other = await client.get(
        path, params={"recorded_until": stamp(15)}, headers={**headers, "If-None-Match": tag}
    )
    assert other.status_code == 200


async def test_every_replayed_read_is_in_the_access_log_with_the_version_shown(
    client: Client, auth: TokenFactory, story: Story, database: DatabaseAddress
) -> None:
    reader = f"c-reader-{uuid.uuid4().hex[:8]}"
    headers = auth("governance", reader)
    at = stamp(25)
    why = "incident_review"
    await get(client, headers, f"/cases/{story.case_id}", recorded_until=at, purpose=why)
    await get(client, headers, f"/cases/{story.case_id}/history", occurred_until=at, purpose=why)
    await get(client, headers, f"/cases/{story.case_id}/trajectory", recorded_until=at, purpose=why)
    await get(client, headers, f"/cases/{story.case_id}/learned-since", recorded_after=at, purpose=why)
    with psycopg.connect(**database.connect_kwargs(), row_factory=dict_row) as conn:
        rows = conn.execute(
            "SELECT role, view, case_version, purpose FROM case_record_views"
            " WHERE actor_id = %s ORDER BY viewed_at",
            (reader,),
        ).fetchall()
    at_25 = ago(25).isoformat().replace(":", "%3A").replace("+", "%2B")
    shown_then, current = 9, 12  # the review of day 30 was the ninth entry; the statement the twelfth
    assert rows == [
        {
            "role": "governance",
            "view": f"case?recorded_until={at_25}",
            "case_version": shown_then,
            "purpose": why,
        },
        {
            "role": "governance",
            "view": f"history?occurred_until={at_25}",
            "case_version": current,
            "purpose": why,
        },
        {
            "role": "governance",
            "view": f"trajectory?recorded_until={at_25}",
            "case_version": shown_then,
            "purpose": why,
        },
        {
            "role": "governance",
            "view": f"learned-since?recorded_after={at_25}",
            "case_version": current,
            "purpose": why,
        },
    ]


async def test_outsiders_cannot_replay_a_record_and_the_refusal_is_logged(
    client: Client, auth: TokenFactory, story: Story, database: DatabaseAddress
) -> None:
    outsider = f"c-outsider-{uuid.uuid4().hex[:8]}"
    headers = auth("clinician", outsider)
    for route, params in (
        ("", {"recorded_until": stamp(25)}),
        ("/history", {"occurred_until": stamp(25)}),
        ("/learned-since", {"recorded_after": stamp(25)}),
        ("/trajectory", {"recorded_until": stamp(25)}),
    ):
        response = await client.get(f"/cases/{story.case_id}{route}", params=params, headers=headers)
        assert_problem(response, 403)
        assert "P-axes" not in response.text
    with psycopg.connect(**database.connect_kwargs(), row_factory=dict_row) as conn:
        rows = conn.execute(
            "SELECT view, outcome, case_version FROM case_record_views WHERE actor_id = %s ORDER BY view_id",
            (outsider,),
        ).fetchall()
    at_25 = ago(25).isoformat().replace(":", "%3A").replace("+", "%2B")
    assert rows == [
        {"view": f"case?recorded_until={at_25}", "outcome": "refused", "case_version": None},
        {"view": f"history?occurred_until={at_25}", "outcome": "refused", "case_version": None},
        {"view": f"learned-since?recorded_after={at_25}", "outcome": "refused", "case_version": None},
        {"view": f"trajectory?recorded_until={at_25}", "outcome": "refused", "case_version": None},
    ]


BAD_TIMES = {
    "no-offset": "2025-03-03T10:00:00",
    "malformed": "yesterday",
    "before-1900": "1899-12-31T23:59:59Z",
    "tomorrow": (NOW + timedelta(days=1)).isoformat(),
}


@pytest.mark.parametrize("value", BAD_TIMES.values(), ids=BAD_TIMES.keys())
@pytest.mark.parametrize(
    ("route", "name"),
    [
        ("", "recorded_until"),
        ("", "occurred_until"),
        ("/history", "recorded_until"),
        ("/trajectory", "occurred_until"),
        ("/learning-log", "recorded_until"),
        ("/learned-since", "recorded_after"),
    ],
)
async def test_a_bad_replay_time_is_a_problem_naming_the_parameter(
    *, client: Client, auth: TokenFactory, story: Story, route: str, name: str, value: str
) -> None:
    response = await client.get(
        f"/cases/{story.case_id}{route}", params={name: value}, headers=auth("clinician", CLINICIAN)
    )
    problem = assert_problem(response, 422)
    assert [error["field"] for error in problem["errors"]] == [name]
    assert value not in response.text


async def test_replay_problems_name_what_to_send(client: Client, auth: TokenFactory, story: Story) -> None:
    headers = auth("clinician", CLINICIAN)
    path = f"/cases/{story.case_id}"
    cases: list[tuple[str, dict[str, str], str]] = [
        (f"{path}/learned-since", {}, "recorded_after"),
        (path, {"recorded_until": stamp(300)}, "recorded_until"),
        (path, {"occurred_until": stamp(300)}, "occurred_until"),
        (path, {"recorded_until": stamp(25), "version": "3"}, "version"),
    ]
    for route, params, name in cases:
        problem = assert_problem(await client.get(route, params=params, headers=headers), 422)
        assert [error["field"] for error in problem["errors"]] == [name], params


async def test_a_replayed_history_pages_with_its_cursor(
    client: Client, auth: TokenFactory, story: Story
) -> None:
    headers = auth("clinician", CLINICIAN)
    path = f"/cases/{story.case_id}/history"
    whole = entry_ids(await get(client, headers, path, occurred_until=stamp(80)))
    paged: list[str] = []
    after = 0
    while True:
        page = await get(client, headers, path, occurred_until=stamp(80), limit=2, after=after)
        paged += entry_ids(page)
        if page["next_after"] is None:
            break
        after = page["next_after"]
    assert paged == whole
    assert len(whole) > 2


async def test_a_replayed_read_that_cannot_be_logged_is_refused(
    client: Client, auth: TokenFactory, story: Story, database: DatabaseAddress
) -> None:
    headers = auth("clinician", CLINICIAN)
    block = "ALTER TABLE case_record_views ADD CONSTRAINT no_replay_logging CHECK (false) NOT VALID"
    with psycopg.connect(**database.connect_kwargs(), autocommit=True) as conn:
        conn.execute(block)
    try:
        for route, params in (
            ("", {"recorded_until": stamp(25)}),
            ("/history", {"occurred_until": stamp(25)}),
            ("/trajectory", {"recorded_until": stamp(25)}),
            ("/learning-log", {"occurred_until": stamp(25)}),
            ("/learned-since", {"recorded_after": stamp(25)}),
        ):
            answer = await client.get(f"/cases/{story.case_id}{route}", params=params, headers=headers)
            assert_problem(answer, 503)
            assert "P-axes" not in answer.text, route
    finally:
        with psycopg.connect(**database.connect_kwargs(), autocommit=True) as conn:
            conn.execute("ALTER TABLE case_record_views DROP CONSTRAINT no_replay_logging")
    assert (
        await client.get(f"/cases/{story.case_id}", params={"recorded_until": stamp(25)}, headers=headers)
    ).status_code == 200
