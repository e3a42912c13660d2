"""Service learning's reliable improvement counts each person's first against latest reading in the
period from links the trajectory model keeps between a person's readings: held here to the readings
themselves, worked out in the test, over periods whose edges fall between, on and beside readings,
after a reading recorded late and a correction that moved one out of the period."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from urllib.parse import urlencode

import asyncpg
import pytest

from projections.models.trajectory import EARLIER_KEPT
from projections.statistics import ChangeCategory, change_category
from service.database import DatabaseAddress
from tests.api.helpers import Body, Client, open_case, post
from tests.support.tokens import TokenFactory

pytestmark = pytest.mark.usefixtures("projector")

NOW = datetime.now(UTC).replace(microsecond=0)
DOMAIN = "stability_self_management"
RELIABLE_CHANGE, CUTOFF = 6, 10  # PHQ-9's published reliable change and clinical cut-off
FIELDS = {
    ChangeCategory.RECOVERED: "recovered",
    ChangeCategory.RELIABLY_IMPROVED: "reliably_improved",
    ChangeCategory.NO_RELIABLE_CHANGE: "no_reliable_change",
    ChangeCategory.RELIABLY_DETERIORATED: "reliably_deteriorated",
}


def _items(total: int) -> list[int]:
    return [min(3, max(0, total - 3 * i)) for i in range(9)]


class Person:
    """A case whose PHQ-9 readings the test keeps as (when, entry id, total)."""

    def __init__(self, client: Client, headers: dict[str, str], service: str) -> None:
        self.client, self.headers, self.service, self.id = client, headers, service, ""
        self.readings: dict[str, tuple[datetime, int]] = {}
        self.position = 0

    async def open(self) -> Person:
        opened_on = (date.today() - timedelta(days=400)).isoformat()
        self.id = await open_case(
            self.client, self.headers, service=self.service, opened_on=opened_on, domains=[DOMAIN]
        )
        return self

    async def phq9(self, total: int, days_ago: float) -> str:
        when = NOW - timedelta(days=days_ago)
        body = {
            "instrument": "phq9",
            "items": _items(total),
            "domain": DOMAIN,
            "occurred_at": when.isoformat(),
        }
        entry_id = str((await self._post(f"/cases/{self.id}/measures", body))["entry_id"])
        self.readings[entry_id] = (when, total)
        return entry_id

    async def move(self, entry_id: str, days_ago: float) -> None:
        when = NOW - timedelta(days=days_ago)
        body = {"corrects": entry_id, "reason": "wrong date", "changes": {"occurred_at": when.isoformat()}}
        await self._post(f"/cases/{self.id}/corrections", body)
        self.readings[entry_id] = (when, self.readings[entry_id][1])

    def change(self, start: datetime, end: datetime) -> ChangeCategory | None:
        """First against latest reading in [start, end): of two at one moment, the lower id first."""
        inside = sorted(
            (when, uuid.UUID(entry_id), total)
            for entry_id, (when, total) in self.readings.items()
            if start <= when < end
        )
        if len(inside) < 2:
            return None
        first, latest = inside[0][2], inside[-1][2]
        return change_category(
            first,
            latest,
            threshold=RELIABLE_CHANGE,
            higher_is_better=False,
            clinical_at_baseline=first >= CUTOFF,
            clinical_at_latest=latest >= CUTOFF,
        )

    async def _post(self, path: str, body: Body) -> Body:
        receipt = await post(self.client, self.headers, path, body)
        self.position = max(self.position, receipt["position"])
        return receipt


async def _people(client: Client, auth: TokenFactory, service: str) -> list[Person]:
    clinician = auth("clinician", "oc-1")
    people = [await Person(client, clinician, service).open() for _ in range(6)]
    a, b, c, d, e, f = people
    for total, days_ago in ((22, 100), (9, 50), (14, 20), (4, 5)):
        await a.phq9(total, days_ago)
    for total, days_ago in ((21, 30), (9, 30), (14, 10)):  # two readings at one moment
        await b.phq9(total, days_ago)
    await c.phq9(20, 300)
    await c.phq9(11, 35)
    await d.phq9(12, 40)
    await d.phq9(20, 10)
    await d.phq9(21, 60)  # recorded late: it becomes d's first reading
    await e.phq9(20, 40)
    moved = await e.phq9(12, 15)
    await e.move(moved, 120)  # corrected: it happened long before
    await f.phq9(18, 25)
    await f.phq9(18, 25)
    await f.phq9(11, 6)
    return people


async def test_reliable_improvement_pairs_each_person_s_first_and_latest_reading_in_the_period(
    client: Client, auth: TokenFactory
) -> None:
    service = f"svc-{uuid.uuid4().hex[:8]}"
    people = await _people(client, auth, service)
    governance = auth("governance", "oc-g")
    # Edges between readings, on them (50 and 20 days ago: a's) and beside them.
    periods = [
        (90, -1),
        (45, 12),
        (35, 0),
        (400, -1),
        (30, 10),
        (25, 6),
        (60, 40),
        (10, 9),
        (50, 20),
        (50, 0),
    ]
    seen = set()
    for start_ago, end_ago in periods:
        start, end = NOW - timedelta(days=start_ago), NOW - timedelta(days=end_ago)
        position = max(person.position for person in people)
        query = urlencode(
            {"service": service, "from": start.isoformat(), "to": end.isoformat(), "min_position": position}
        )
        response = await client.get(f"/service/learning?{query}", headers=governance)
        assert response.status_code == 200, response.text
        expected = dict.fromkeys(FIELDS.values(), 0)
        for person in people:
            if (category := person.change(start, end)) is not None:
                expected[FIELDS[category]] += 1
        seen |= {field for field, count in expected.items() if count}
        shares = response.json()["reliable_improvement"]
        if not any(expected.values()):
            assert shares == [], (start_ago, end_ago)
            continue
        (phq9,) = shares
        assert {field: phq9[field] for field in FIELDS.values()} == expected, (start_ago, end_ago)
        assert phq9["people"] == sum(expected.values())
    assert seen == set(FIELDS.values())  # every category was met by some period


async def test_a_later_reading_moves_the_earlier_one_s_link_but_logs_no_change_to_it(
    client: Client, auth: TokenFactory, database: DatabaseAddress
) -> None:
    """Reporting readers see a change only in what the view shows: the links are not in it."""
    service = f"svc-{uuid.uuid4().hex[:8]}"
    person = await Person(client, auth("clinician", "oc-2"), service).open()
    earlier = uuid.UUID(await person.phq9(15, 20))
    for days_ago in (20, 10):
        if days_ago == 10:
            await person.phq9(9, days_ago)
        period = {"from": (NOW - timedelta(days=30)).isoformat(), "to": NOW.isoformat()}
        query = urlencode({"service": service, "min_position": person.position, **period})
        response = await client.get(f"/service/learning?{query}", headers=auth("governance", "oc-g"))
        assert response.status_code == 200, response.text  # projected up to the reading
    conn = await asyncpg.connect(database.url)
    try:
        logged = await conn.fetch(
            "SELECT position FROM read.trajectory_changes WHERE view = 'outcome_measures' AND entry_id = $1",
            earlier,
        )
        next_at = await conn.fetchval("SELECT next_at FROM read.measures WHERE entry_id = $1", earlier)
    finally:
        await conn.close()
    assert next_at == NOW - timedelta(days=10)
    assert len(logged) == 1  # its own recording only


async def test_a_first_reading_older_than_those_a_reading_keeps_is_looked_up(
    client: Client, auth: TokenFactory
) -> None:
    """A reading keeps only its latest EARLIER_KEPT earlier ones (the index carrying them takes rows
    of at most 2,704 bytes): a period holding more of the person's readings than that finds its
    first reading all the same. Five severe readings, then mild ones, a day apart."""
    service = f"svc-{uuid.uuid4().hex[:8]}"
    person = await Person(client, auth("clinician", "oc-3"), service).open()
    count = EARLIER_KEPT + 6
    for i in range(count):
        await person.phq9(22 if i < 5 else 4, count + 1 - i)
    governance = auth("governance", "oc-g")
    for start_ago in (count + 5, count - 1.5, count - 20.5):  # all, from the third, from the 22nd
        start = NOW - timedelta(days=start_ago)
        query = urlencode(
            {
                "service": service,
                "from": start.isoformat(),
                "to": NOW.isoformat(),
                "min_position": person.position,
            }
        )
        response = await client.get(f"/service/learning?{query}", headers=governance)
        assert response.status_code == 200, response.text
        (phq9,) = response.json()["reliable_improvement"]
        category = person.change(start, NOW)
        assert category is not None
        assert phq9[FIELDS[category]] == phq9["people"] == 1, (start_ago, phq9)
