"""The commissioner report through the real app: each figure it shows equals the same figure from the
service-level API routes, counts of 1 to 4 people show as "<5", and a story whose consent was withdrawn
is absent from a report asked for straight after the withdrawal."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import pytest

from tests.api.helpers import Client
from tests.support.tokens import TokenFactory

pytestmark = pytest.mark.usefixtures("projector")  # its tests read projections

DOMAIN = "stability_self_management"
NOW = datetime.now(UTC).replace(microsecond=0)
PHQ9 = {"improved": (20, 12), "no_change": (12, 13), "deteriorated": (12, 20)}
"""PHQ-9 totals (first, latest): reliable change is 6, the clinical cut-off 10 (stays clinical)."""
PEOPLE = {"improved": 6, "no_change": 5, "deteriorated": 3, "one_reading": 2}


def _items(total: int) -> list[int]:
    return [min(3, max(0, total - 3 * i)) for i in range(9)]


class Person:
    def __init__(self, client: Client, headers: dict[str, str], service: str) -> None:
        self.client, self.headers, self.service, self.id = client, headers, service, ""

    async def open(self) -> Person:
        body = {
            "person_ref": f"P-{uuid.uuid4().hex[:6]}",
            "service": self.service,
            "opened_on": (date.today() - timedelta(days=200)).isoformat(),
            "care_team": [],
            "domains": [DOMAIN],
        }
        response = await self.client.post("/cases", json=body, headers=self.headers)
        assert response.status_code == 201, response.text
        self.id = response.json()["case_id"]
        return self

    async def post(self, path: str, body: dict[str, Any]) -> str:
        response = await self.client.post(f"/cases/{self.id}/{path}", json=body, headers=self.headers)
        assert response.status_code == 201, response.text
        return str(response.json()["entry_id"])

    async def phq9(self, total: int, days_ago: int) -> None:
        when = (NOW - timedelta(days=days_ago)).isoformat()
        await self.post(
            "measures", {"instrument": "phq9", "items": _items(total), "domain": DOMAIN, "occurred_at": when}
        )


async def _service_with_people(client: Client, auth: TokenFactory) -> tuple[str, list[Person]]:
    service, clinician = f"svc-{uuid.uuid4().hex[:8]}", auth("clinician", "rep-1")
    people: list[Person] = []
    for kind, count in PEOPLE.items():
        for _ in range(count):
            person = await Person(client, clinician, service).open()
            first, latest = PHQ9.get(kind, (15, 15))
            await person.phq9(first, 60)
            if kind != "one_reading":
                await person.phq9(latest, 10)
            people.append(person)
    changed = {"rationale": "more support while scores stall", "support_hours_per_week": 4}
    await people[-5].post("plan-changes", changed)  # one of the eight whose outcome stalled
    for person in people[:3]:  # three people reviewed: a count of 3
        await person.post(
            "reviews", {"kind": "routine", "ratings": {DOMAIN: 5}, "confidence": 5, "autonomy": 5}
        )
    return service, people


def _period(service: str) -> str:
    start, end = NOW - timedelta(days=90), NOW + timedelta(days=1)
    return urlencode({"service": service, "from": start.isoformat(), "to": end.isoformat()})


async def _get(client: Client, headers: dict[str, str], path: str) -> Any:
    response = await client.get(path, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


async def test_every_report_figure_equals_the_api_s_and_small_counts_show_as_fewer_than_5(
    client: Client, auth: TokenFactory
) -> None:
    service, people = await _service_with_people(client, auth)
    governance = auth("governance", "rep-g")
    report = await _get(client, governance, f"/service/report?{_period(service)}")
    learning = await _get(client, governance, f"/service/learning?{_period(service)}")

    (phq9,) = learning["reliable_improvement"]
    (row,) = report["outcomes_by_instrument"]
    assert (row["group"], row["people"]) == ("phq9", len(people))
    assert row["recovered"] == phq9["recovered"] == 0
    assert row["reliably_improved"] == phq9["reliably_improved"] == 6
    assert row["no_reliable_change"] == phq9["no_reliable_change"] == 5
    assert phq9["reliably_deteriorated"] == 3
    assert row["reliably_deteriorated"] == "<5"
    assert row["too_few_readings"] == "<5"
    assert row["share_reliably_improved_or_recovered"] is None  # it would give the 3 back
    (by_domain,) = report["outcomes_by_domain"]
    assert {**by_domain, "group": "phq9"} == row

    (escalations, reviews) = report["charts"]
    for chart in ("escalations-per-1000-open-days",):
        api = await _get(client, governance, f"/service/spc/{chart}?{_period(service)}")
        assert escalations["this_period"] == api
        assert escalations["people"] == len(people)
        assert escalations["variation"] == "common cause"
    assert (reviews["people"], reviews["this_period"], reviews["withheld"]) == (
        "<5",
        None,
        "too few people to show (fewer than 5)",
    )

    impact = await _get(client, governance, f"/governance/review-impact?{_period(service)}&purpose=audit")
    (month,) = impact["by_service_month"]
    (delivered,) = report["delivery"]
    assert month["reviews"] == 3
    assert delivered["reviews"] == "<5"
    assert delivered["month"] == month["month"]
    assert delivered["share_led_to_action"] is None
    stalled = report["when_outcomes_stalled"]
    # Five unchanged and three deteriorated; one plan change after the reading that showed it.
    assert (stalled["people"], stalled["plan_changed"], stalled["plan_confirmed_only"]) == (8, "<5", 0)
    assert stalled["no_decision_yet"] == "*"
    assert report["people"] == len(people)
    assert {r["measure"]: r["people"] for r in report["case_mix"]}["time in service"] == len(people)


async def test_a_story_whose_consent_was_withdrawn_is_never_in_a_later_report(
    client: Client, auth: TokenFactory
) -> None:
    service, clinician = f"svc-{uuid.uuid4().hex[:8]}", auth("clinician", "rep-2")
    person = await Person(client, clinician, service).open()
    story = {"consent_given_by": "person", "de_identified": True, "domains": [DOMAIN]}
    await person.post("stories", {**story, "story": "I cook for my family again."})
    withdrawn = await person.post("stories", {**story, "story": "I went back to the choir."})
    governance = auth("governance", "rep-g")
    report = await _get(client, governance, f"/service/report?{_period(service)}")
    assert [s["story"] for s in report["stories"]] == [
        "I cook for my family again.",
        "I went back to the choir.",
    ]

    await person.post(f"stories/{withdrawn}/consent-withdrawal", {"withdrawn_by": "person"})
    # Asked for at once, with no min_position: the report waits for the withdrawal to be applied.
    report = await _get(client, governance, f"/service/report?{_period(service)}")
    assert [s["story"] for s in report["stories"]] == ["I cook for my family again."]
    reporting = await _get(client, auth("reporting", "rep-r"), f"/service/report?{_period(service)}")
    assert reporting["stories"] is None  # free text: never for the reporting role
    admin = await _get(client, auth("admin", "rep-a"), f"/service/report?{_period(service)}")
    assert admin["stories"] is None  # nor for an admin, who reads no clinical content
