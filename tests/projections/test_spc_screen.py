"""Over HTTP: SPC charts screen large moving ranges unless ?screen=false, and say which they did."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from tests.api.helpers import Client
from tests.support.tokens import TokenFactory

pytestmark = pytest.mark.usefixtures("projector")  # its tests read projections

ESCALATIONS_PER_MONTH = [1, 2, 1, 2, 10, 1, 2, 1, 2, 1, 2, 1, 2, 1]
"""Fourteen months of escalations, one month with a spike (the NHSRplotthedots vignette's shape)."""


def _months(count: int) -> list[datetime]:
    """The starts of the ``count`` months before this one, and of this one."""
    month = datetime.now(UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    starts = [month]
    for _ in range(count):
        starts.insert(0, (starts[0] - timedelta(days=1)).replace(day=1))
    return starts


async def test_spc_screens_by_default_and_unscreened_on_request(
    client: Client,
    auth: TokenFactory,
) -> None:
    headers, service = auth("clinician", "spc-1"), f"svc-{uuid.uuid4().hex[:8]}"
    months = _months(len(ESCALATIONS_PER_MONTH))
    body = {
        "person_ref": "P-spc",
        "service": service,
        "opened_on": months[0].date().isoformat(),
        "care_team": [],
        "domains": ["stability_self_management"],
    }
    opened = await client.post("/cases", json=body, headers=headers)
    assert opened.status_code == 201, opened.text
    case_id = opened.json()["case_id"]
    for month, count in zip(months, ESCALATIONS_PER_MONTH, strict=False):
        for i in range(count):
            escalation = {
                "severity": 2,
                "trigger": "t",
                "response": "r",
                "escalation_plan_used_early": True,
                "occurred_at": (month + timedelta(days=10, hours=i)).isoformat(),
            }
            written = await client.post(f"/cases/{case_id}/escalations", json=escalation, headers=headers)
            assert written.status_code == 201, written.text
    query = {"from": months[0].isoformat(), "to": months[-1].isoformat(), "service": service}
    query["min_position"] = str(written.json()["position"])
    path = "/service/spc/escalations-per-1000-open-days?" + "&".join(f"{k}={v}" for k, v in query.items())
    reporting = auth("reporting", "spc-r")
    screened = await client.get(path.replace("+", "%2B"), headers=reporting)
    unscreened = await client.get(path.replace("+", "%2B") + "&screen=false", headers=reporting)
    assert screened.status_code == unscreened.status_code == 200, (screened.text, unscreened.text)
    assert (screened.json()["screened"], unscreened.json()["screened"]) == (True, False)
    points, wide = screened.json()["points"], unscreened.json()["points"]
    assert len(points) == len(ESCALATIONS_PER_MONTH)
    # The moving ranges into and out of the spike month (the 5th) are left out of the limits.
    assert [p["moving_range_screened_out"] for p in points] == [i in (4, 5) for i in range(len(points))]
    assert not any(p["moving_range_screened_out"] for p in wide)
    assert points[0]["upper"] - points[0]["mean"] < (wide[0]["upper"] - wide[0]["mean"]) / 1.4
    assert points[4]["outside_limits"] is True
