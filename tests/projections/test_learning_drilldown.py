"""The setback and escalation drill-downs (GET /service/setbacks, /service/escalations): every one in
a period a page at a time, with what was learned, the decisions naming it and what they changed."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.helpers import DOMAIN, ESCALATION, SETBACK, Client
from tests.projections.test_review_drilldown import Story, ago
from tests.support.tokens import TokenFactory

pytestmark = pytest.mark.usefixtures("projector")  # its tests read projections


async def _write(story: Story) -> None:
    """Reviews 100 and 40 days ago around a setback 80 days ago (a plan change named it 2 days on), a
    later setback no decision named, and two escalations, the more severe confirmed and resolved."""
    await story.open()
    await story.review("r1", story.lead, 100, "routine", {DOMAIN: 5})
    story.ids["s1"] = await story.post(story.lead, "setbacks", SETBACK | {"occurred_at": ago(80)})
    change = {"rationale": "a daily call", "support_hours_per_week": 2, "strategies_added": ["call"]}
    change |= {"because_of": [story.ids["s1"]], "occurred_at": ago(78)}
    story.ids["s1-change"] = await story.post(story.lead, "plan-changes", change)
    story.ids["e3"] = await story.post(
        story.lead, "escalations", ESCALATION | {"severity": 3, "occurred_at": ago(50)}
    )
    resolution = {"resolution": "settled", "occurred_at": ago(49)}
    await story.post(story.lead, f"escalations/{story.ids['e3']}/resolution", resolution)
    confirm = {"rationale": "no change, because the plan was used early", "because_of": [story.ids["e3"]]}
    await story.post(story.lead, "plan-confirmations", confirm | {"occurred_at": ago(45)})
    await story.review("r2", story.lead, 40, "routine", {DOMAIN: 7})
    story.ids["e1"] = await story.post(
        story.lead, "escalations", ESCALATION | {"severity": 1, "occurred_at": ago(20)}
    )
    setback = SETBACK | {"contributing_factors": ["isolation"], "occurred_at": ago(10)}
    story.ids["s2"] = await story.post(story.lead, "setbacks", setback)


async def _walk(
    client: Client, story: Story, what: str, headers: dict[str, str], **filters: Any
) -> list[Any]:
    url, items, after = story.url(**filters).replace("/service/reviews", f"/service/{what}"), [], ""
    while True:
        response = await client.get(url + after, headers=headers)
        assert response.status_code == 200, response.text
        items += response.json()["items"]
        if response.json()["next_after"] is None:
            return items
        after = f"&after={response.json()['next_after']}"


async def test_setbacks_with_what_was_learned_and_the_changes_naming_them(
    client: Client, auth: TokenFactory
) -> None:
    story = Story(client, auth)
    await _write(story)
    governance = auth("governance", "ld-g")
    names = {v: k for k, v in story.ids.items()}

    async def found(**filters: Any) -> list[str]:
        return [names[s["entry_id"]] for s in await _walk(client, story, "setbacks", governance, **filters)]

    setbacks = await _walk(client, story, "setbacks", governance, limit=1)
    assert [names[s["entry_id"]] for s in setbacks] == ["s2", "s1"]
    s1 = setbacks[1]
    assert (s1["kind"], s1["setback"]["learning"], s1["days_to_first_decision"]) == (
        "setback",
        SETBACK["learning"],
        2,
    )
    [change] = s1["decisions"]
    assert (change["entry_id"], change["support_hours_before"], change["support_hours_after"]) == (
        story.ids["s1-change"],
        None,
        2,
    )
    assert change["strategies_added"] == ["call"]
    [moved] = s1["domains"]
    assert (moved["before_mean"], moved["after_mean"], moved["change"]) == (5, 7, 2)
    assert setbacks[0]["decisions"] == []
    assert await found(named_by_change="true") == ["s1"]
    assert await found(named_by_change="false") == ["s2"]
    assert await found(factor="housing") == ["s1"]


async def test_escalations_with_their_resolution_and_decisions(client: Client, auth: TokenFactory) -> None:
    story = Story(client, auth)
    await _write(story)
    governance = auth("governance", "ld-g")
    escalations = await _walk(client, story, "escalations", governance, limit=1)
    names = {v: k for k, v in story.ids.items()}
    assert [names[e["entry_id"]] for e in escalations] == ["e1", "e3"]
    e3 = escalations[1]["escalation"]
    assert (e3["severity"], e3["resolution"], e3["days_to_resolution"]) == (3, "settled", 1)
    [confirmed] = escalations[1]["decisions"]
    assert (confirmed["kind"], confirmed["days_after"]) == ("plan_confirmed", 5)
    severe = await _walk(client, story, "escalations", governance, least_severity=2)
    assert [names[e["entry_id"]] for e in severe] == ["e3"]
    assert await _walk(client, story, "escalations", governance, named_by_change="true") == []
    response = await client.get(
        story.url().replace("reviews", "escalations"), headers=auth("clinician", "ld-c")
    )
    assert response.status_code == 403
