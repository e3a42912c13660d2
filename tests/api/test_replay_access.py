"""Replayed reads as every read: their own ETags, the access log with the version shown, refusals
logged, problems naming the parameter, paging, and refusal when the read cannot be logged."""

from __future__ import annotations

import uuid
from datetime import timedelta

import psycopg
import pytest
from psycopg.rows import dict_row

from service.database import DatabaseAddress
from tests.api.helpers import Client, assert_problem
from tests.support.replay_story import CLINICIAN, NOW, Story, ago, entry_ids, get, stamp
from tests.support.tokens import TokenFactory


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
