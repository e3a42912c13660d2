"""The action loop (GET /cases/{id}/actions, /caseload/actions, /service/actions): each item appears
when its condition holds and clears only when the action is recorded; the time from flag to action
is reported by service and month (/service/time-to-action)."""

from __future__ import annotations

import statistics
import uuid
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

import pytest

from tests.api.helpers import DOMAIN, ESCALATION, Client
from tests.projections.test_review_drilldown import NOW, Story, ago
from tests.support.tokens import TokenFactory

pytestmark = pytest.mark.usefixtures("projector")  # its tests read projections


async def _actions(story: Story, headers: dict[str, str]) -> list[tuple[str, str | None]]:
    response = await story.client.get(
        f"/cases/{story.case_id}/actions?min_position={story.position}", headers=headers
    )
    assert response.status_code == 200, response.text
    return [(item["kind"], item.get("entry_id")) for item in response.json()]


def _review(days: float, rating: int = 5) -> dict[str, Any]:
    return {
        "kind": "routine",
        "ratings": {DOMAIN: rating},
        "confidence": 5,
        "autonomy": 5,
        "occurred_at": ago(days),
    }


async def test_an_overdue_review_clears_only_when_a_review_is_recorded(
    client: Client, auth: TokenFactory
) -> None:
    story = Story(client, auth)
    await story.open()  # opened 300 days ago, never reviewed: due 216 days ago
    lead = story.headers[story.lead]
    assert await _actions(story, lead) == [("review overdue", None)]
    reviewed = await story.post(story.lead, "reviews", _review(40))
    # Next due in 44 days; no decision named it in 28 days.
    assert await _actions(story, lead) == [("no decision after 28 days", reviewed)]
    # The plan now says every 4 weeks (deciding on that review): it is overdue again.
    change = {"rationale": "closer review", "review_interval_weeks": 4, "occurred_at": ago(39)}
    await story.post(story.lead, "plan-changes", change | {"because_of": [reviewed]})
    assert await _actions(story, lead) == [("review overdue", None)]
    await story.post(story.lead, "reviews", _review(0))
    assert await _actions(story, lead) == []


async def test_decisions_and_corrections_clear_what_they_name(client: Client, auth: TokenFactory) -> None:
    story = Story(client, auth)
    await story.open()
    lead = story.headers[story.lead]
    story.ids["r"] = await story.post(story.lead, "reviews", _review(60))
    change = {"rationale": "more support", "support_hours_per_week": 4, "occurred_at": ago(55)}
    story.ids["change"] = await story.post(story.lead, "plan-changes", change)
    for days in (30, 10):
        story.ids[f"e{days}"] = await story.post(
            story.lead, "escalations", ESCALATION | {"occurred_at": ago(days)}
        )
    await story.post(story.lead, "reviews", _review(1))
    assert sorted(await _actions(story, lead)) == sorted(
        [
            ("no decision after 28 days", story.ids["r"]),
            ("plan change names no cause", story.ids["change"]),
            ("escalations rising", story.ids["e10"]),
        ]
    )
    confirm = {"rationale": "no change, because it helps", "because_of": [story.ids["r"], story.ids["e10"]]}
    await story.post(story.lead, "plan-confirmations", confirm)
    assert await _actions(story, lead) == [("plan change names no cause", story.ids["change"])]
    correction = {
        "corrects": story.ids["change"],
        "reason": "named the review",
        "changes": {"because_of": [story.ids["r"]]},
    }
    await story.post(story.lead, "corrections", correction)
    assert await _actions(story, lead) == []


async def test_a_worsening_domain_is_listed_until_a_decision_names_its_latest_review(
    client: Client, auth: TokenFactory
) -> None:
    story = Story(client, auth)
    await story.open()
    for days, rating in ((180, 8), (120, 7), (60, 4)):
        story.ids[f"r{days}"] = await story.post(story.lead, "reviews", _review(days, rating))
        if days > 60:  # the earlier reviews were decided on
            confirm = {"rationale": "no change, because it is early", "because_of": [story.ids[f"r{days}"]]}
            await story.post(story.lead, "plan-confirmations", confirm | {"occurred_at": ago(days - 1)})
    latest = await story.post(story.lead, "reviews", _review(0, 4))
    response = await client.get(
        f"/cases/{story.case_id}/actions?min_position={story.position}", headers=story.headers[story.lead]
    )
    stalled = [item for item in response.json() if item["kind"] == "stalled or worsening"]
    assert [(s["detail"]["domain"], s["detail"]["reason"], s["detail"]["n"]) for s in stalled] == [
        (DOMAIN, "reliable deterioration", 4)
    ]
    change = {"rationale": "more support", "support_hours_per_week": 6, "because_of": [latest]}
    await story.post(story.lead, "plan-changes", change)
    assert "stalled or worsening" not in [
        kind for kind, _ in await _actions(story, story.headers[story.lead])
    ]


async def test_caseload_and_service_lists_and_who_may_read_them(client: Client, auth: TokenFactory) -> None:
    story = Story(client, auth)
    await story.open()
    query = f"min_position={story.position}"
    mine = await client.get(f"/caseload/actions?{query}", headers=story.headers[story.other])
    assert [(i["kind"], i["case_id"]) for i in mine.json()] == [("review overdue", story.case_id)]
    served = await client.get(
        f"/service/actions?service={story.service}&purpose=audit&{query}", headers=auth("governance", "al-g")
    )
    assert [i["case_id"] for i in served.json()["items"]] == [story.case_id]
    assert served.json()["next_after"] is None
    stranger = auth("clinician", f"al-{uuid.uuid4().hex[:6]}")
    assert (await client.get(f"/cases/{story.case_id}/actions", headers=stranger)).status_code == 403
    assert (await client.get(f"/caseload/actions?{query}", headers=stranger)).json() == []
    assert (await client.get("/service/actions", headers=stranger)).status_code == 403


async def test_the_service_list_pages_by_case_with_no_cap(client: Client, auth: TokenFactory) -> None:
    story = Story(client, auth)
    cases = []
    for _ in range(3):  # three cases in one service, each never reviewed: overdue
        await story.open()
        cases.append(story.case_id)
    change = {"rationale": "more support", "support_hours_per_week": 4, "occurred_at": ago(5)}
    await story.post(story.lead, "plan-changes", change)  # the last case's names no cause
    governance = auth("governance", "al-g")
    query = f"service={story.service}&purpose=audit&min_position={story.position}&limit=2"
    first = (await client.get(f"/service/actions?{query}", headers=governance)).json()
    assert first["next_after"] is not None
    second = await client.get(f"/service/actions?{query}&after={first['next_after']}", headers=governance)
    assert second.json()["next_after"] is None
    paged = [(i["case_id"], i["kind"]) for i in first["items"] + second.json()["items"]]
    assert paged == sorted(
        [(case_id, "review overdue") for case_id in cases] + [(story.case_id, "plan change names no cause")],
        key=lambda item: (uuid.UUID(item[0]), item[1] != "review overdue"),
    )
    wrong = await client.get(f"/service/actions?{query}&after=not-a-case", headers=governance)
    assert wrong.status_code == 422
    assert "after" in wrong.text
    assert "not-a-case" not in wrong.text


async def test_time_from_flag_to_action_by_service_month_and_kind(client: Client, auth: TokenFactory) -> None:
    story = Story(client, auth)
    await story.open()  # opened 300 days ago: the first review was due 216 days ago
    r250 = await story.post(story.lead, "reviews", _review(250))  # on time; never decided
    r100 = await story.post(story.lead, "reviews", _review(100))  # due 166 days ago: 66 days late
    await story.post(
        story.lead,
        "plan-confirmations",
        {"rationale": "no change, because", "because_of": [r100], "occurred_at": ago(50)},
    )
    del r250
    # (kind, flagged days ago, actioned days ago or None): r100's next review is due 16 days ago.
    # Each wait is listed as due 14 days before it is overdue (r250 came before the first was).
    flags = [
        ("review due", 180, 100),
        ("review due", 30, None),
        ("review overdue", 166, 100),
        ("review overdue", 16, None),
        ("no decision after 28 days", 222, None),
        ("no decision after 28 days", 72, 50),
    ]
    got = await _time_to_action(story, auth)
    _assert_figures(got, flags)


async def test_time_from_a_plan_change_naming_no_cause_to_the_correction_naming_one(
    client: Client, auth: TokenFactory
) -> None:
    story = Story(client, auth)
    await story.open()
    review = await story.post(story.lead, "reviews", _review(200))
    changes = {}
    for name, days, causes in (("named later", 100, []), ("never named", 40, []), ("named", 30, [review])):
        body = {"rationale": "more support", "support_hours_per_week": days // 10, "occurred_at": ago(days)}
        changes[name] = await story.post(story.lead, "plan-changes", body | {"because_of": causes})
    for name, fix in (
        ("named later", {"because_of": [review]}),
        ("never named", {"rationale": "more support, as agreed"}),
        ("named", {"rationale": "more support, as agreed"}),
    ):
        correction = {"corrects": changes[name], "reason": "completed", "changes": fix}
        await story.post(story.lead, "corrections", correction)
    got = await _time_to_action(story, auth)
    unexplained = {key: figure for key, figure in got.items() if key[1] == "plan change names no cause"}
    # Corrections happen when recorded (now): the first was actioned 100 days after its flag.
    _assert_figures(
        unexplained, [("plan change names no cause", 100, 0), ("plan change names no cause", 40, None)]
    )


async def _time_to_action(story: Story, auth: TokenFactory) -> dict[tuple[str, str], dict[str, Any]]:
    period = f"from={ago(400)}&to={ago(-1)}&service={story.service}".replace("+", "%2B")
    response = await story.client.get(
        f"/service/time-to-action?{period}&min_position={story.position}", headers=auth("governance", "al-g")
    )
    assert response.status_code == 200, response.text
    return {(f["month"], f["kind"]): f for f in response.json()}


def _assert_figures(
    got: dict[tuple[str, str], dict[str, Any]], flags: Sequence[tuple[str, float, float | None]]
) -> None:
    expected: dict[tuple[str, str], list[float | None]] = {}
    for kind, flagged, actioned in flags:
        month = (NOW - timedelta(days=flagged)).date().replace(day=1).isoformat()
        expected.setdefault((month, kind), []).append(None if actioned is None else flagged - actioned)
    assert set(got) == set(expected)
    for key, waits in expected.items():
        done = [w for w in waits if w is not None]
        within = sum(1 for w in done if w <= 28)
        assert (got[key]["flagged"], got[key]["actioned"], got[key]["still_open"]) == (
            len(waits),
            len(done),
            len(waits) - len(done),
        )
        assert got[key]["median_days_to_action"] == (round(statistics.median(done), 1) if done else None)
        assert got[key]["share_within_28_days"] == round(within / len(waits), 4)


async def _rising(story: Story, escalated_days_ago: list[float]) -> list[dict[str, Any]]:
    for days in escalated_days_ago:
        await story.post(story.lead, "escalations", ESCALATION | {"occurred_at": ago(days)})
    response = await story.client.get(
        f"/cases/{story.case_id}/actions?min_position={story.position}", headers=story.headers[story.lead]
    )
    assert response.status_code == 200, response.text
    return [item for item in response.json() if item["kind"] == "escalations rising"]


async def test_escalations_rising_compares_rates_per_open_day_not_counts(
    client: Client, auth: TokenFactory
) -> None:
    # Opened 100 days ago: open 10 of the earlier window's 90 days. One escalation in those 10 days
    # is 100 per 1,000 open days; two in the last 90 days are 22.2: more escalations, but not rising.
    story = Story(client, auth)
    await story.open(days_ago=100)
    assert await _rising(story, [95, 60, 20]) == []
    # A third and fourth recent escalation still leave the recent rate (44.4) below the earlier one.
    assert await _rising(story, [10, 5]) == []
    # A case open all 180 days with the same counts (1 before, 4 recent) is rising.
    steady = Story(client, auth)
    await steady.open(days_ago=300)
    (item,) = await _rising(steady, [95, 60, 20, 10, 5])
    assert item["detail"] == {
        "last_90_days": 4,
        "90_days_before": 1,
        "open_days_last_90": 90.0,
        "open_days_90_before": 90.0,
        "per_1000_open_days_last_90": round(4 / 90 * 1000, 3),
        "per_1000_open_days_90_before": round(1 / 90 * 1000, 3),
    }


async def test_escalations_rising_counts_only_the_days_the_case_was_open(
    client: Client, auth: TokenFactory
) -> None:
    # Closed 200 days ago and reopened 100 days ago: open 10 days of the earlier window.
    story = Story(client, auth)
    await story.open(days_ago=300)
    await story.post(story.lead, "closure", {"reason": "transferred", "occurred_at": ago(200)})
    await story.post(story.lead, "reopening", {"reason": "re-referral", "occurred_at": ago(100)})
    assert await _rising(story, [95, 60, 20]) == []
    (item,) = await _rising(story, [15, 10, 5, 2, 1, 0.5, 0.2, 0.1])  # 10 recent: 111 against 100
    assert (item["detail"]["open_days_90_before"], item["detail"]["last_90_days"]) == (10.0, 10)


async def test_escalations_are_not_rising_without_an_earlier_window_to_compare(
    client: Client, auth: TokenFactory
) -> None:
    story = Story(client, auth)
    await story.open(days_ago=60)
    assert await _rising(story, [50, 30, 10]) == []


async def test_time_from_escalations_rising_to_a_decision_naming_them(
    client: Client, auth: TokenFactory
) -> None:
    story = Story(client, auth)
    await story.open()  # opened 300 days ago
    # At 150 days ago: one escalation in 90 days against none in the 60 open days before: rising.
    # At 40 and 30 the item is still open; a decision naming the one at 30 clears it 20 days ago.
    # At 10 days ago: 3 in the last 90 days against 1 in the 90 before: rising again, still open.
    ids = {}
    for days in (150, 40, 30):
        ids[days] = await story.post(story.lead, "escalations", ESCALATION | {"occurred_at": ago(days)})
    confirm = {"rationale": "no change, because", "because_of": [ids[30]], "occurred_at": ago(20)}
    await story.post(story.lead, "plan-confirmations", confirm)
    await story.post(story.lead, "escalations", ESCALATION | {"occurred_at": ago(10)})
    got = await _time_to_action(story, auth)
    rising = {key: figures for key, figures in got.items() if key[1] == "escalations rising"}
    _assert_figures(rising, [("escalations rising", 150, 20), ("escalations rising", 10, None)])
