"""The projection queries through the real app, on small hand-worked histories."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from tests.api.helpers import Client
from tests.support.tokens import TokenFactory

pytestmark = pytest.mark.usefixtures("projector")  # its tests read projections

DOMAINS = ["stability_self_management", "daily_living_independence", "connection_participation"]
NOW = datetime.now(UTC).replace(microsecond=0)


def ago(days: float) -> str:
    """An occurred_at ``days`` before the start of this test module."""
    return (NOW - timedelta(days=days)).isoformat()


class Case:
    """A case opened through the API, and a helper to post entries to it."""

    def __init__(self, client: Client, headers: dict[str, str], service: str) -> None:
        self.client, self.headers, self.service = client, headers, service
        self.id = ""
        self.position = 0

    async def open(self) -> Case:
        body = {
            "person_ref": "P-q",
            "service": self.service,
            "opened_on": (date.today() - timedelta(days=200)).isoformat(),
            "care_team": [],
            "domains": DOMAINS,
        }
        response = await self.client.post("/cases", json=body, headers=self.headers)
        assert response.status_code == 201, response.text
        self.id = response.json()["case_id"]
        return self

    async def post(self, path: str, body: dict[str, Any]) -> str:
        response = await self.client.post(f"/cases/{self.id}/{path}", json=body, headers=self.headers)
        assert response.status_code == 201, response.text
        self.position = response.json()["position"]
        return str(response.json()["entry_id"])

    async def review(self, days: float, ratings: dict[str, int]) -> str:
        return await self.post(
            "reviews",
            {"kind": "routine", "ratings": ratings, "confidence": 5, "autonomy": 5, "occurred_at": ago(days)},
        )


def _service() -> str:
    return f"svc-{uuid.uuid4().hex[:8]}"


async def test_learning_log_links_setbacks_and_escalations_to_what_followed(
    client: Client,
    auth: TokenFactory,
) -> None:
    case = await Case(client, auth("clinician", "q-1"), _service()).open()
    setback = await case.post(
        "setbacks",
        {
            "domains": [DOMAINS[0]],
            "what_happened": "stopped going out",
            "contributing_factors": ["housing"],
            "risk_management": "daily calls",
            "learning": "early signs",
            "adaptation": "mid-week call",
            "occurred_at": ago(10),
        },
    )
    escalation = await case.post(
        "escalations",
        {
            "severity": 3,
            "trigger": "t",
            "response": "r",
            "escalation_plan_used_early": True,
            "occurred_at": ago(20),
        },
    )
    await case.post(f"escalations/{escalation}/resolution", {"resolution": "settled", "occurred_at": ago(18)})
    change = await case.post(
        "plan-changes",
        {
            "rationale": "more support",
            "because_of": [setback],
            "support_hours_per_week": 6,
            "occurred_at": ago(7),
        },
    )
    await case.post(
        "plan-confirmations",
        {
            "rationale": "no change, because the plan worked",
            "because_of": [escalation],
            "occurred_at": ago(15.5),
        },
    )
    response = await client.get(
        f"/cases/{case.id}/learning-log?min_position={case.position}", headers=case.headers
    )
    assert response.status_code == 200, response.text
    items = {item["entry_id"]: item for item in response.json()["items"]}
    assert [item["kind"] for item in response.json()["items"]] == ["escalation", "setback"]  # oldest first
    assert items[setback]["setback"]["learning"] == "early signs"
    assert items[setback]["decisions"][0]["entry_id"] == change
    assert items[setback]["decisions"][0]["days_after"] == 3.0
    assert items[escalation]["escalation"]["days_to_resolution"] == 2.0
    assert items[escalation]["decisions"][0]["kind"] == "plan_confirmed"
    assert items[escalation]["decisions"][0]["days_after"] == 4.5


async def test_review_impact_answers_the_governance_questions(
    client: Client,
    auth: TokenFactory,
) -> None:
    service = _service()
    case = await Case(client, auth("clinician", "q-2"), service).open()
    acted = await case.review(40, {DOMAINS[0]: 5})
    ignored = await case.review(35, {DOMAINS[0]: 5})
    recent = await case.review(3, {DOMAINS[0]: 6})
    await case.post(
        "plan-changes",
        {"rationale": "r", "because_of": [acted], "support_hours_per_week": 4, "occurred_at": ago(35)},
    )
    unexplained = await case.post(
        "plan-changes", {"rationale": "r", "support_hours_per_week": 5, "occurred_at": ago(2)}
    )
    query = f"from={ago(60)}&to={ago(-1)}&service={service}&min_position={case.position}".replace("+", "%2B")
    response = await client.get(
        f"/governance/review-impact?{query}&purpose=audit", headers=auth("governance", "gov-q")
    )
    assert response.status_code == 200, response.text
    impact = response.json()
    reviews = {r["entry_id"]: r for r in impact["reviews"]}
    assert reviews[acted]["days_to_first_decision"] == 5.0
    assert reviews[acted]["outcome"] == "plan changed"
    assert reviews[ignored]["outcome"] == "no decision after 28 days"
    assert reviews[recent]["outcome"] == "awaiting decision"
    assert [r["entry_id"] for r in impact["no_decision_after_28_days"]] == [ignored]
    assert [c["entry_id"] for c in impact["changes_without_cause"]] == [unexplained]
    assert sum(m["reviews"] for m in impact["by_service_month"]) == 3
    assert sum(m["led_to_change"] for m in impact["by_service_month"]) == 1


async def test_trajectory_labels_each_domain(client: Client, auth: TokenFactory) -> None:
    case = await Case(client, auth("clinician", "q-3"), _service()).open()
    # stability 3 -> 5 -> 6 over 70 days: +3 >= 2 and no reliable fall -> reliable improvement.
    # daily living 3 -> 6 -> 3: a reliable rise and a reliable fall -> fluctuating.
    # connection: two readings only -> insufficient data.
    for days, s, d, c in ((100, 3, 3, 4), (70, 5, 6, None), (30, 6, 3, 5)):
        ratings = {DOMAINS[0]: s, DOMAINS[1]: d} | ({DOMAINS[2]: c} if c else {})
        await case.review(days, ratings)
    response = await client.get(
        f"/cases/{case.id}/trajectory?min_position={case.position}", headers=case.headers
    )
    assert response.status_code == 200, response.text
    labels = {s["name"]: s for s in response.json()["domains"]}
    assert labels[DOMAINS[0]]["label"] == "reliable improvement"
    assert labels[DOMAINS[0]]["change_since_baseline"] == 3.0
    assert labels[DOMAINS[0]]["n"] == 3
    assert labels[DOMAINS[0]]["span_days"] == 70.0
    assert labels[DOMAINS[1]]["label"] == "fluctuating"
    assert labels[DOMAINS[2]]["label"] == "insufficient data"
    assert labels[DOMAINS[2]]["n"] == 2


async def test_service_learning_ranks_factors_and_hides_free_text_from_reporting(
    client: Client,
    auth: TokenFactory,
) -> None:
    service = _service()
    case = await Case(client, auth("clinician", "q-4"), service).open()
    for factors in (["housing", "finances"], ["housing"]):
        await case.post(
            "setbacks",
            {
                "domains": [DOMAINS[0]],
                "what_happened": "x",
                "contributing_factors": factors,
                "risk_management": "r",
                "learning": "l",
                "adaptation": "a",
                "occurred_at": ago(5),
            },
        )
    query = f"from={ago(30)}&to={ago(-1)}&service={service}&min_position={case.position}".replace("+", "%2B")
    governance = await client.get(f"/service/learning?{query}", headers=auth("governance", "gov-q"))
    reporting = await client.get(f"/service/learning?{query}", headers=auth("reporting", "bi-q"))
    assert governance.status_code == reporting.status_code == 200
    assert governance.json()["contributing_factors"] == [
        {"factor": "housing", "setbacks": 2},
        {"factor": "finances", "setbacks": 1},
    ]
    assert governance.json()["strategies"] == []
    assert reporting.json()["strategies"] is None
    chart = await client.get(
        f"/service/spc/escalations-per-1000-open-days?{query}", headers=auth("reporting", "bi-q")
    )
    assert chart.status_code == 200
    assert chart.json()["warning"].startswith("only")


async def test_reporting_reads_no_case_record(
    client: Client,
    auth: TokenFactory,
) -> None:
    case = await Case(client, auth("clinician", "q-5"), _service()).open()
    reporting = auth("reporting", "bi-q")
    for path in (
        f"/cases/{case.id}/trajectory",
        f"/cases/{case.id}/learning-log",
        "/audit/entries",
        f"/cases/{case.id}",
    ):
        assert (await client.get(path, headers=reporting)).status_code == 403, path


async def test_strategies_show_how_domain_ratings_moved_in_the_90_days_around_them(
    client: Client,
    auth: TokenFactory,
) -> None:
    service = _service()
    case = await Case(client, auth("clinician", "q-6"), service).open()
    # Before the change (within 90 days): ratings 4 and 6, then 5 -> mean of 4, 6, 5 = 5.
    await case.review(150, {DOMAINS[0]: 2})  # more than 90 days before: not counted
    await case.review(80, {DOMAINS[0]: 4, DOMAINS[1]: 6})
    await case.review(50, {DOMAINS[0]: 5})
    await case.post(
        "plan-changes",
        {
            "rationale": "try peer support",
            "strategies_added": ["Walking group ", "peer support"],
            "occurred_at": ago(40),
        },
    )
    # After: 7 and 8 -> mean 7.5, a change of +2.5. A review recorded late still counts.
    await case.review(30, {DOMAINS[0]: 7})
    await case.review(35, {DOMAINS[0]: 8})
    # A second introduction of the walking group in another case, with no ratings before it.
    other = await Case(client, case.headers, service).open()
    await other.post(
        "plan-changes", {"rationale": "r", "strategies_added": ["walking group"], "occurred_at": ago(10)}
    )
    await other.review(5, {DOMAINS[0]: 6})
    query = f"from={ago(60)}&to={ago(-1)}&service={service}&min_position={other.position}".replace("+", "%2B")
    response = await client.get(f"/service/learning?{query}", headers=auth("governance", "gov-q"))
    assert response.status_code == 200, response.text
    assert response.json()["strategies"] == [
        {"strategy": "walking group", "introductions": 2, "with_ratings": 1, "mean_rating_change": 2.5},
        {"strategy": "peer support", "introductions": 1, "with_ratings": 1, "mean_rating_change": 2.5},
    ]
