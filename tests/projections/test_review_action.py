"""Reviews leading to action (a plan change or a "no change, because ..." confirmation naming the
review within 28 days) and leading to change (plan changes only, within 28 days): in review impact,
as SPC metrics and in the reporting views, the same live, after a correction and after a rebuild."""

from __future__ import annotations

import itertools
import statistics
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest

from events.entries import EntryCorrected, PlanChanged, PlanConfirmed, ReviewRecorded
from events.values import OutcomeDomain, ReviewKind
from projections.models import MODELS
from projections.rebuild import rebuild
from service.database import DatabaseAddress
from service.write.application import CaseRecords
from tests.api.helpers import Client
from tests.support.projections import catch_up, meta, open_case
from tests.support.tokens import TokenFactory

pytestmark = pytest.mark.usefixtures("projector")  # its tests read projections

NOW = datetime.now(UTC).replace(microsecond=0)
DOMAIN = "stability_self_management"
CHANGE = {"rationale": "more support"}
CONFIRM = {"rationale": "no change, because the plan works"}
# Reviews (days ago) and the decisions naming them (kind, days ago), with what each led to.
REVIEWS: dict[str, tuple[int, list[tuple[str, int]], bool, bool, str]] = {
    # name: (days ago, decisions, led to change, led to action, outcome)
    "changed": (100, [("plan-changes", 95)], True, True, "plan changed"),
    "confirmed": (90, [("plan-confirmations", 87)], False, True, "plan confirmed"),
    "changed late": (80, [("plan-changes", 40)], False, False, "decided after 28 days"),
    "confirmed, changed late": (
        70,
        [("plan-confirmations", 65), ("plan-changes", 30)],
        False,
        True,
        "plan confirmed",
    ),
    "changed on day 28": (60, [("plan-changes", 32)], True, True, "plan changed"),
    "no decision": (50, [], False, False, "no decision after 28 days"),
}


def _ago(days: float) -> str:
    return (NOW - timedelta(days=days)).isoformat()


def _month(days: float) -> str:
    return (NOW - timedelta(days=days)).date().replace(day=1).isoformat()


async def _write(client: Client, headers: dict[str, str], service: str) -> tuple[dict[str, str], int]:
    body = {
        "person_ref": "P-act",
        "service": service,
        "opened_on": (NOW.date() - timedelta(days=200)).isoformat(),
        "care_team": [],
        "domains": [DOMAIN],
    }
    opened = await client.post("/cases", json=body, headers=headers)
    assert opened.status_code == 201, opened.text
    case_id, ids, position = opened.json()["case_id"], {}, 0

    async def post(path: str, entry: dict[str, Any]) -> str:
        nonlocal position
        response = await client.post(f"/cases/{case_id}/{path}", json=entry, headers=headers)
        assert response.status_code == 201, response.text
        position = response.json()["position"]
        return str(response.json()["entry_id"])

    hours = itertools.count(1)
    review = {"kind": "routine", "ratings": {DOMAIN: 5}, "confidence": 5, "autonomy": 5}
    for name, (days, decisions, *_) in REVIEWS.items():
        ids[name] = await post("reviews", review | {"occurred_at": _ago(days)})
        for path, decided in decisions:
            # Each plan change must change something: one more support hour each time.
            decision = CHANGE | {"support_hours_per_week": next(hours)} if path == "plan-changes" else CONFIRM
            await post(path, decision | {"because_of": [ids[name]], "occurred_at": _ago(decided)})
    return ids, position


def _query(service: str, position: int) -> str:
    return f"from={_ago(150)}&to={_ago(-1)}&service={service}&min_position={position}".replace("+", "%2B")


async def test_review_impact_reports_change_and_action_within_28_days(
    client: Client,
    auth: TokenFactory,
) -> None:
    service = f"svc-{uuid.uuid4().hex[:8]}"
    ids, position = await _write(client, auth("clinician", "ra-1"), service)
    response = await client.get(
        f"/governance/review-impact?{_query(service, position)}&purpose=audit",
        headers=auth("governance", "ra-g"),
    )
    assert response.status_code == 200, response.text
    impact = response.json()
    outcomes = {r["entry_id"]: r["outcome"] for r in impact["reviews"]}
    assert {name: outcomes[ids[name]] for name in REVIEWS} == {n: r[4] for n, r in REVIEWS.items()}
    months: dict[str, list[tuple[bool, bool]]] = {}
    for days, _, changed, actioned, _ in REVIEWS.values():
        months.setdefault(_month(days), []).append((changed, actioned))
    shares = [
        {
            "month": m["month"],
            "reviews": m["reviews"],
            "led_to_change": m["led_to_change"],
            "led_to_action": m["led_to_action"],
            "share_led_to_change": m["share_led_to_change"],
            "share_led_to_action": m["share_led_to_action"],
        }
        for m in impact["by_service_month"]
    ]
    assert shares == [
        {
            "month": month,
            "reviews": len(flags),
            "led_to_change": sum(c for c, _ in flags),
            "led_to_action": sum(a for _, a in flags),
            "share_led_to_change": round(sum(c for c, _ in flags) / len(flags), 4),
            "share_led_to_action": round(sum(a for _, a in flags) / len(flags), 4),
        }
        for month, flags in sorted(months.items())
    ]
    assert sum(m["led_to_decision"] for m in impact["by_service_month"]) == 5


async def test_both_review_metrics_are_spc_charts(
    client: Client,
    auth: TokenFactory,
) -> None:
    service = f"svc-{uuid.uuid4().hex[:8]}"
    _, position = await _write(client, auth("clinician", "ra-2"), service)
    months: dict[str, list[tuple[bool, bool]]] = {}
    for days, _, changed, actioned, _ in REVIEWS.values():
        months.setdefault(_month(days), []).append((changed, actioned))
    for metric, which in (("reviews-leading-to-change", 0), ("reviews-leading-to-action", 1)):
        response = await client.get(
            f"/service/spc/{metric}?{_query(service, position)}", headers=auth("reporting", "ra-r")
        )
        assert response.status_code == 200, response.text
        points = [(p["label"], p["value"]) for p in response.json()["points"]]
        assert points == [
            (month, sum(f[which] for f in flags) / len(flags)) for month, flags in sorted(months.items())
        ], metric


def _review(case_id: uuid.UUID, days_ago: float) -> ReviewRecorded:
    return ReviewRecorded(
        **meta(case_id, days_ago=days_ago),
        kind=ReviewKind.ROUTINE,
        ratings={OutcomeDomain.STABILITY_SELF_MANAGEMENT: 5},
        confidence=5,
        autonomy=5,
    )


async def _led_to(dsn: str) -> dict[uuid.UUID, tuple[bool, bool, bool, bool]]:
    """Per review: led to change and to action, as read.reviews and as reporting.reviews hold them."""
    conn = await asyncpg.connect(dsn)
    try:
        # Joined on the reporting view's pseudonym of each review id (an HMAC under the stored key).
        rows = await conn.fetch(
            "SELECT r.entry_id, r.changed, r.actioned, p.led_to_change, p.led_to_action"
            " FROM read.reviews r CROSS JOIN read_meta.pseudonym_key k JOIN reporting.reviews p"
            " ON p.review_key = encode(sha256(k.outer_pad || sha256(k.inner_pad || uuid_send(r.entry_id))),"
            " 'hex')"
        )
    finally:
        await conn.close()
    return {
        r["entry_id"]: (r["changed"], r["actioned"], r["led_to_change"], r["led_to_action"]) for r in rows
    }


@pytest.mark.slow  # rebuilds every read model: about 2 s
async def test_led_to_change_and_action_follow_corrections_and_rebuilds(
    records: CaseRecords, fresh_database: DatabaseAddress
) -> None:
    case_id = open_case(records, days_ago=400)
    changed, confirmed = _review(case_id, 100), _review(case_id, 90)
    for review in (changed, confirmed):
        records.record(case_id, review)
    change = PlanChanged(
        **meta(case_id, days_ago=95),
        rationale="more support",
        because_of=(changed.entry_id,),
        support_hours_per_week=6,
    )
    confirmation = PlanConfirmed(
        **meta(case_id, days_ago=60),
        rationale="no change, because it works",
        because_of=(confirmed.entry_id,),
    )
    records.record(case_id, change)
    records.record(case_id, confirmation)
    await catch_up(fresh_database.url)
    expected = {changed.entry_id: (True, True) * 2, confirmed.entry_id: (False, False) * 2}
    assert await _led_to(fresh_database.url) == expected  # the confirmation came 30 days on
    # The plan change really happened 40 days after its review; the confirmation 20 days after its.
    for decision, days_ago in ((change, 60), (confirmation, 70)):
        records.correct(
            case_id,
            EntryCorrected(
                **meta(case_id),
                corrects=decision.entry_id,
                reason="date misread",
                changes={"occurred_at": _date_ago(days_ago)},
            ),
        )
    await catch_up(fresh_database.url)
    expected = {changed.entry_id: (False, False) * 2, confirmed.entry_id: (False, True) * 2}
    assert await _led_to(fresh_database.url) == expected
    await rebuild(fresh_database.url, MODELS["care"]())
    assert await _led_to(fresh_database.url) == expected


def _date_ago(days: float) -> str:
    return (datetime.now(UTC) - timedelta(days=days)).isoformat()


async def test_monthly_shares_count_the_part_days_at_either_end_of_the_period(
    client: Client, auth: TokenFactory
) -> None:
    # Whole days come from the per-day summary, the part days at the ends from the reviews: a review
    # an hour inside each end counts, one an hour outside does not, and medians span both sources.
    service = f"svc-{uuid.uuid4().hex[:8]}"
    start = (NOW - timedelta(days=40)).replace(hour=12, minute=0, second=0)
    end = (NOW - timedelta(days=5)).replace(hour=12, minute=0, second=0)
    hour = timedelta(hours=1)
    body = {
        "person_ref": "P-edge",
        "service": service,
        "opened_on": (NOW.date() - timedelta(days=60)).isoformat(),
        "care_team": [],
        "domains": [DOMAIN],
    }
    headers = auth("clinician", "ra-edge")
    opened = await client.post("/cases", json=body, headers=headers)
    case_id = opened.json()["case_id"]
    review = {"kind": "routine", "ratings": {DOMAIN: 5}, "confidence": 5, "autonomy": 5}
    # (when, days to a plan confirmation naming it, or None)
    written = [
        (start - hour, 1.0),
        (start + hour, 2.0),
        (start + timedelta(days=10), 3.5),
        (end - hour, 0.5),
        (end + hour, 0.2),
    ]
    position = 0
    for at, decided_after in written:
        posted = await client.post(
            f"/cases/{case_id}/reviews", json=review | {"occurred_at": at.isoformat()}, headers=headers
        )
        assert posted.status_code == 201, posted.text
        confirm = CONFIRM | {"because_of": [posted.json()["entry_id"]]}
        confirm |= {"occurred_at": (at + timedelta(days=decided_after)).isoformat()}
        decided = await client.post(f"/cases/{case_id}/plan-confirmations", json=confirm, headers=headers)
        assert decided.status_code == 201, decided.text
        position = decided.json()["position"]
    query = f"from={start.isoformat()}&to={end.isoformat()}&service={service}&min_position={position}"
    response = await client.get(
        "/governance/review-impact?purpose=audit&" + query.replace("+", "%2B"),
        headers=auth("governance", "ra-g"),
    )
    assert response.status_code == 200, response.text
    inside = [(at, after) for at, after in written if start <= at < end]
    expected: dict[str, list[float]] = {}
    for at, after in inside:
        expected.setdefault(at.date().replace(day=1).isoformat(), []).append(after)
    got = {
        m["month"]: (m["reviews"], m["median_days_to_decision"]) for m in response.json()["by_service_month"]
    }
    assert got == {month: (len(w), round(statistics.median(w), 1)) for month, w in expected.items()}


async def test_a_review_moved_by_a_correction_moves_month_in_the_shares(
    client: Client, auth: TokenFactory
) -> None:
    # The per-day summary follows the correction: the review leaves its first month for the new one.
    service = f"svc-{uuid.uuid4().hex[:8]}"
    headers = auth("clinician", "ra-move")
    body = {
        "person_ref": "P-move",
        "service": service,
        "opened_on": (NOW.date() - timedelta(days=200)).isoformat(),
        "care_team": [],
        "domains": [DOMAIN],
    }
    case_id = (await client.post("/cases", json=body, headers=headers)).json()["case_id"]
    review = {"kind": "routine", "ratings": {DOMAIN: 5}, "confidence": 5, "autonomy": 5}
    posted = await client.post(
        f"/cases/{case_id}/reviews", json=review | {"occurred_at": _ago(120)}, headers=headers
    )
    correction = {
        "corrects": posted.json()["entry_id"],
        "reason": "wrong date",
        "changes": {"occurred_at": _ago(20)},
    }
    corrected = await client.post(f"/cases/{case_id}/corrections", json=correction, headers=headers)
    assert corrected.status_code == 201, corrected.text
    response = await client.get(
        f"/governance/review-impact?{_query(service, corrected.json()['position'])}&purpose=audit",
        headers=auth("governance", "ra-g"),
    )
    assert response.status_code == 200, response.text
    assert [(m["month"], m["reviews"]) for m in response.json()["by_service_month"]] == [(_month(20), 1)]
