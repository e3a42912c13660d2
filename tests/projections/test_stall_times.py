"""Time from flag to action for stalled or worsening domains (/service/time-to-action): each domain
the person chose is judged at each of its readings as the action list judges the latest; an item is
actioned by a decision naming the review of the latest reading, and ends without action when the
domain is no longer judged stalled before one does."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import pytest

from tests.api.helpers import DOMAIN, OTHER_DOMAIN, Client
from tests.projections.test_review_drilldown import NOW, Story, ago
from tests.support.tokens import TokenFactory

pytestmark = pytest.mark.usefixtures("projector")  # its tests read projections

STALLED = "stalled or worsening"
ENDED = "ended"


async def _reviewed(
    story: Story, readings: Sequence[tuple[int, int]], other: int | None = None
) -> dict[int, str]:
    """Reviews (days ago, rating of the chosen domain); ``other`` rates a domain the person did not
    choose, worsening by 3 a review from it."""
    ids = {}
    for i, (days, rating) in enumerate(readings):
        ratings = {DOMAIN: rating} | ({OTHER_DOMAIN: other - 3 * i} if other is not None else {})
        body = {
            "kind": "routine",
            "ratings": ratings,
            "confidence": 5,
            "autonomy": 5,
            "occurred_at": ago(days),
        }
        ids[days] = await story.post(story.lead, "reviews", body)
    return ids


async def _decide(story: Story, review: str, days: int) -> None:
    body = {
        "rationale": "no change, because it was discussed",
        "because_of": [review],
        "occurred_at": ago(days),
    }
    await story.post(story.lead, "plan-confirmations", body)


async def test_time_from_a_stalled_domain_to_a_decision_naming_its_latest_review(
    client: Client, auth: TokenFactory
) -> None:
    story = Story(client, auth)
    # Worsening 8, 7, 5: a reliable deterioration at the third reading (100 days ago), decided 10
    # days later; still worse at the next reading (50 days ago): flagged again, decided 40 days later.
    # A domain the plan took in later (not one the person chose at the opening, as the action list
    # scopes them) falls 10, 7, 4, 1 and is never flagged.
    await story.open()
    added = {"rationale": "a new area", "domains_added": [OTHER_DOMAIN], "occurred_at": ago(210)}
    await story.post(story.lead, "plan-changes", added)
    worsening = await _reviewed(story, [(200, 8), (150, 7), (100, 5), (50, 5)], other=10)
    await _decide(story, worsening[100], 90)
    await _decide(story, worsening[50], 10)
    # Worsening the same way, then a recovery (8) at the next reading before any decision: the item
    # ends without action; a later decision naming the worse review does not action it.
    await story.open()
    recovered = await _reviewed(story, [(200, 8), (150, 7), (100, 5), (50, 8)])
    await _decide(story, recovered[100], 40)
    # Flat at 5 over 160 days: no reliable change and a flat trend, flagged at the third reading;
    # nothing has named it.
    await story.open()
    await _reviewed(story, [(200, 5), (120, 5), (40, 5)])
    got = await _time_to_action(story, auth)
    _assert_stall_figures(got, [(100, 90), (50, 10), (100, ENDED), (40, None)])
    # A period ending 95 days ago holds the flags of 100 days ago alone, each ending as it did after.
    _assert_stall_figures(await _time_to_action(story, auth, until=95), [(100, 90), (100, ENDED)])


async def test_a_decision_on_an_earlier_review_after_a_later_reading_does_not_action_it(
    client: Client, auth: TokenFactory
) -> None:
    story = Story(client, auth)
    await story.open()
    # Flagged at 100 days ago; still worse at 50; the decision 40 days ago names the review of 100
    # days ago, no longer the latest reading: the list still shows the item, so it is still open.
    ids = await _reviewed(story, [(200, 8), (150, 7), (100, 5), (50, 5)])
    await _decide(story, ids[100], 40)
    assert _stall_items(await _actions(story)) == [(DOMAIN, NOW - timedelta(days=50))]
    got = await _time_to_action(story, auth)
    _assert_stall_figures(got, [(100, None)])
    # Naming the latest review clears the list and actions the item, 95 days after its flag.
    await _decide(story, ids[50], 5)
    assert _stall_items(await _actions(story)) == []
    _assert_stall_figures(await _time_to_action(story, auth), [(100, 5)])


async def _actions(story: Story) -> list[dict[str, Any]]:
    response = await story.client.get(
        f"/cases/{story.case_id}/actions?min_position={story.position}", headers=story.headers[story.lead]
    )
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()
    return items


def _stall_items(items: list[dict[str, Any]]) -> list[tuple[str, datetime]]:
    return [
        (i["detail"]["domain"], datetime.fromisoformat(i["flagged_at"]))
        for i in items
        if i["kind"] == STALLED
    ]


async def _time_to_action(story: Story, auth: TokenFactory, until: int = -1) -> dict[str, dict[str, Any]]:
    period = f"from={ago(400)}&to={ago(until)}&service={story.service}".replace("+", "%2B")
    response = await story.client.get(
        f"/service/time-to-action?{period}&min_position={story.position}", headers=auth("governance", "st-g")
    )
    assert response.status_code == 200, response.text
    return {f["month"]: f for f in response.json() if f["kind"] == STALLED}


def _assert_stall_figures(
    got: dict[str, dict[str, Any]], flags: Sequence[tuple[int, int | str | None]]
) -> None:
    """``flags``: (flagged days ago, actioned days ago, ``ENDED`` or None while still open)."""
    expected: dict[str, list[int | str | None]] = {}
    for flagged, actioned in flags:
        month = (NOW - timedelta(days=flagged)).date().replace(day=1).isoformat()
        wait = flagged - actioned if isinstance(actioned, int) else actioned
        expected.setdefault(month, []).append(wait)
    assert set(got) == set(expected)
    for month, waits in expected.items():
        done = [w for w in waits if isinstance(w, int)]
        ended = waits.count(ENDED)
        figures = got[month]
        assert (
            figures["flagged"],
            figures["actioned"],
            figures["still_open"],
            figures["ended_without_action"],
        ) == (
            len(waits),
            len(done),
            len(waits) - len(done) - ended,
            ended,
        ), month
        assert figures["median_days_to_action"] == (statistics.median(done) if done else None)
        within = sum(1 for w in done if w <= 28)
        assert (figures["actioned_within_28_days"], figures["share_within_28_days"]) == (
            within,
            round(within / len(waits), 4),
        )


async def test_the_openapi_document_describes_the_new_figure_and_kind(client: Client) -> None:
    document = (await client.get("/schema/openapi.json")).json()
    schema = document["components"]["schemas"]["TimeToAction"]
    assert schema["properties"]["ended_without_action"]["type"] == "integer"
    kind = schema["properties"]["kind"]
    kinds = document["components"]["schemas"][kind["$ref"].rsplit("/", 1)[-1]] if "$ref" in kind else kind
    assert STALLED in kinds["enum"]
