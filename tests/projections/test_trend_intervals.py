"""Every trend a trajectory reports (domain ratings, self-ratings, escalation severity and the gaps
between escalations) has the interval scipy.stats.theilslopes(y, x, alpha=0.95) gives, per 90 days,
including readings on the same day and tied values."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np
import pytest
from scipy import stats  # type: ignore[import-untyped]  # scipy ships no type hints

from tests.api.helpers import Client
from tests.support.tokens import TokenFactory

pytestmark = pytest.mark.usefixtures("projector")  # its tests read projections

NOW = datetime.now(UTC).replace(microsecond=0)
DOMAIN = "stability_self_management"
# Reviews (days ago, domain rating, confidence, autonomy): two pairs recorded for the same moment.
REVIEWS = ((150, 4, 5, 3), (150, 4, 5, 4), (120, 6, 5, 4), (120, 6, 6, 4), (90, 7, 6, 5), (60, 7, 7, 5))
ESCALATIONS = ((170, 3), (150, 3), (120, 2), (100, 3), (60, 2), (30, 2), (10, 1))
"""Days ago and severity."""


def _per_90(x: list[float], y: list[float]) -> dict[str, Any]:
    found = stats.theilslopes(np.array(y), np.array(x), alpha=0.95)
    return {
        "slope_per_90_days": round(float(found.slope) * 90, 3),
        "lower_per_90_days": round(float(found.low_slope) * 90, 3),
        "upper_per_90_days": round(float(found.high_slope) * 90, 3),
        "n": len(x),
    }


def _trend(view: dict[str, Any]) -> dict[str, Any]:
    return {key: view[key] for key in ("slope_per_90_days", "lower_per_90_days", "upper_per_90_days", "n")}


async def test_trajectory_trends_equal_scipy(client: Client, auth: TokenFactory) -> None:
    headers = auth("clinician", "ts-1")
    body = {
        "person_ref": "P-ts",
        "service": "north",
        "opened_on": (date.today() - timedelta(days=200)).isoformat(),
        "care_team": [],
        "domains": [DOMAIN],
    }
    response = await client.post("/cases", json=body, headers=headers)
    assert response.status_code == 201, response.text
    case_id = response.json()["case_id"]
    posts: list[tuple[str, dict[str, Any]]] = [
        ("reviews", {"kind": "routine", "ratings": {DOMAIN: r}, "confidence": c, "autonomy": a, "days": d})
        for d, r, c, a in REVIEWS
    ]
    posts += [
        (
            "escalations",
            {"severity": s, "trigger": "t", "response": "r", "escalation_plan_used_early": True, "days": d},
        )
        for d, s in ESCALATIONS
    ]
    for path, entry in posts:
        entry["occurred_at"] = (NOW - timedelta(days=entry.pop("days"))).isoformat()
        written = await client.post(f"/cases/{case_id}/{path}", json=entry, headers=headers)
        assert written.status_code == 201, written.text
    position = written.json()["position"]
    found = await client.get(f"/cases/{case_id}/trajectory?min_position={position}", headers=headers)
    assert found.status_code == 200, found.text
    trajectory = found.json()
    days = [-float(d) for d, *_ in REVIEWS]
    series = {s["name"]: s for s in (*trajectory["domains"], *trajectory["self_ratings"])}
    for column, name in enumerate((DOMAIN, "confidence", "autonomy"), start=1):
        expected = _per_90(days, [float(review[column]) for review in REVIEWS])
        assert _trend(series[name]["trend"]) == expected, name
    # Ratings 4, 4, 6, 6, 7, 7 on tied days: the tie-corrected interval excludes 0.
    assert series[DOMAIN]["trend"]["direction"] == "improving"
    escalated = [-float(d) for d, _ in ESCALATIONS]
    escalations = trajectory["escalations"]
    assert _trend(escalations["severity_trend"]) == _per_90(escalated, [float(s) for _, s in ESCALATIONS])
    gaps = [b - a for a, b in itertools.pairwise(escalated)]
    assert _trend(escalations["gap_trend"]) == _per_90(escalated[1:], gaps)
