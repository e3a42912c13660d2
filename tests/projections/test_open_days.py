"""Open days: a case is open from the start of its opened_on date (not from when the opening was
typed in) until its closure's date; closures and reopenings count from when they happened."""

from __future__ import annotations

import itertools
import uuid
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import asyncpg
import pytest

from events.entries import CaseOpened, EntryCorrected
from projections.models import MODELS
from projections.rebuild import rebuild
from service.database import DatabaseAddress
from service.write.application import CaseRecords
from tests.api.helpers import Client
from tests.support.projections import catch_up, meta, open_case
from tests.support.tokens import TokenFactory

pytestmark = pytest.mark.usefixtures("projector")  # its tests read projections

NOW = datetime.now(UTC).replace(microsecond=0)
TODAY = NOW.date()
ESCALATED_DAYS_AGO = (350, 300, 250, 200, 160, 150, 120, 40, 10)
"""Escalations across a year: 160, 150 and 120 days ago fall in the 90 days before the last 90;
40 and 10 in the last 90."""


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def _ago(days: float) -> str:
    return (NOW - timedelta(days=days)).isoformat()


def _query(start: datetime, end: datetime, **more: Any) -> str:
    pairs = {"from": start.isoformat(), "to": end.isoformat(), **more}
    return "&".join(f"{k}={v}" for k, v in pairs.items()).replace("+", "%2B")


async def _case_opened_a_year_ago(
    client: Client,
    headers: dict[str, str],
    service: str,
    *,
    closed_between: tuple[float, float] | None = None,
) -> tuple[str, int]:
    """A case opened the way the README opens one (no occurred_at: the opening is typed in now) with
    opened_on 365 days back, then escalations across the year; returns its id and last position."""
    body = {
        "person_ref": "P-year",
        "service": service,
        "opened_on": (TODAY - timedelta(days=365)).isoformat(),
        "care_team": [],
        "domains": ["stability_self_management"],
    }
    response = await client.post("/cases", json=body, headers=headers)
    assert response.status_code == 201, response.text
    case_id = response.json()["case_id"]
    posts: list[tuple[str, dict[str, object]]] = []
    if closed_between:
        posts += [
            ("closure", {"reason": "transferred", "occurred_at": _ago(closed_between[0])}),
            ("reopening", {"reason": "re-referral", "occurred_at": _ago(closed_between[1])}),
        ]
    for days in ESCALATED_DAYS_AGO:
        escalation = {"severity": 2, "trigger": "t", "response": "r", "escalation_plan_used_early": True}
        posts.append(("escalations", escalation | {"occurred_at": _ago(days)}))
    for path, entry in posts:
        written = await client.post(f"/cases/{case_id}/{path}", json=entry, headers=headers)
        assert written.status_code == 201, written.text
    return case_id, int(written.json()["position"])


async def test_escalation_rates_count_open_days_from_opened_on(
    client: Client,
    auth: TokenFactory,
) -> None:
    headers = auth("clinician", "od-1")
    case_id, position = await _case_opened_a_year_ago(client, headers, f"svc-{uuid.uuid4().hex[:8]}")
    response = await client.get(f"/cases/{case_id}/trajectory?min_position={position}", headers=headers)
    assert response.status_code == 200, response.text
    escalations = response.json()["escalations"]
    assert escalations["last_90_days"] == {"escalations": 2, "open_days": 90.0, "per_90_open_days": 2.0}
    assert escalations["previous_90_days"] == {"escalations": 3, "open_days": 90.0, "per_90_open_days": 3.0}
    assert escalations["rate_ratio"] == 0.667


async def test_closure_and_reopening_count_from_when_they_happened(
    client: Client,
    auth: TokenFactory,
) -> None:
    headers = auth("clinician", "od-2")
    service = f"svc-{uuid.uuid4().hex[:8]}"
    case_id, position = await _case_opened_a_year_ago(client, headers, service, closed_between=(175, 165))
    response = await client.get(f"/cases/{case_id}/trajectory?min_position={position}", headers=headers)
    assert response.status_code == 200, response.text
    escalations = response.json()["escalations"]
    # Closed from 175 to 165 days ago: 80 of the earlier 90 days were open; 3 x 90 / 80 = 3.375.
    assert escalations["previous_90_days"] == {
        "escalations": 3,
        "open_days": 80.0,
        "per_90_open_days": 3.375,
    }
    assert escalations["rate_ratio"] == round((2 / 90) / (3 / 80), 3)


async def test_service_level_open_days_start_at_opened_on(
    client: Client,
    auth: TokenFactory,
) -> None:
    service = f"svc-{uuid.uuid4().hex[:8]}"
    _, position = await _case_opened_a_year_ago(client, auth("clinician", "od-3"), service)
    opened = _start_of(TODAY - timedelta(days=365))
    first_month = opened.replace(day=1)
    # The month it opened in, from the start of opened_on, and the following five whole months.
    months = [first_month]
    while len(months) < 7:
        months.append((months[-1] + timedelta(days=32)).replace(day=1))
    query = _query(months[0], months[-1], service=service, min_position=position)
    response = await client.get(f"/service/learning?{query}", headers=auth("governance", "od-g"))
    assert response.status_code == 200, response.text
    rates = response.json()["escalations_per_1000_open_days"]
    expected_days = [(months[1] - opened).days] + [(b - a).days for a, b in itertools.pairwise(months[1:])]
    assert [r["open_days"] for r in rates] == expected_days
    escalated = [NOW - timedelta(days=d) for d in ESCALATED_DAYS_AGO]
    counts = [sum(a <= e < b for e in escalated) for a, b in itertools.pairwise(months)]
    assert [r["escalations"] for r in rates] == counts
    assert [r["per_1000_open_days"] for r in rates] == [
        round(n / days * 1000, 3) for n, days in zip(counts, expected_days, strict=True)
    ]


async def _opening_row(dsn: str, case_id: uuid.UUID) -> datetime:
    conn = await asyncpg.connect(dsn)
    try:
        opened: datetime = await conn.fetchval(
            "SELECT occurred_at FROM read.case_status WHERE case_id = $1 AND status = 'open'", case_id
        )
        return opened
    finally:
        await conn.close()


@pytest.mark.slow  # rebuilds the read models: about 1 s
async def test_correcting_opened_on_moves_the_opening_live_and_on_rebuild(
    records: CaseRecords, fresh_database: DatabaseAddress
) -> None:
    case_id = open_case(records, days_ago=100)
    await catch_up(fresh_database.url)
    assert await _opening_row(fresh_database.url, case_id) == _start_of(TODAY - timedelta(days=100))
    stateful = records.get_case(case_id).state.stateful
    opening_id = next(e.entry_id for e in stateful.values() if isinstance(e, CaseOpened))
    earlier = TODAY - timedelta(days=200)
    records.correct(
        case_id,
        EntryCorrected(
            **meta(case_id),
            corrects=opening_id,
            reason="referral date misread",
            changes={"opened_on": earlier.isoformat()},
        ),
    )
    await catch_up(fresh_database.url)
    assert await _opening_row(fresh_database.url, case_id) == _start_of(earlier)
    await rebuild(fresh_database.url, MODELS["care"]())
    assert await _opening_row(fresh_database.url, case_id) == _start_of(earlier)


async def test_a_case_has_no_open_days_before_its_opening_date(
    client: Client,
    auth: TokenFactory,
) -> None:
    """A case opened today (a later opened_on is refused: not in the future) holds no open days in
    the months before."""
    service = f"svc-{uuid.uuid4().hex[:8]}"
    body = {
        "person_ref": "P-later",
        "service": service,
        "opened_on": TODAY.isoformat(),
        "care_team": [],
        "domains": ["stability_self_management"],
    }
    response = await client.post("/cases", json=body, headers=auth("clinician", "od-4"))
    assert response.status_code == 201, response.text
    this_month = TODAY.replace(day=1)
    two_months_before = (this_month - timedelta(days=40)).replace(day=1)
    position = response.json()["position"]
    query = _query(
        _start_of(two_months_before), _start_of(this_month), service=service, min_position=position
    )
    learning = await client.get(f"/service/learning?{query}", headers=auth("governance", "od-g"))
    assert learning.status_code == 200, learning.text
    assert [r["open_days"] for r in learning.json()["escalations_per_1000_open_days"]] == [0, 0]
