"""A person's record written for the page tests through the real HTTP API: goals and a milestone,
reviews over months, a measure, a setback, an escalation, a plan change, a late entry, a correction
and the person's statement about a review; free text includes script and SQL fragments."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx

from tests.api.helpers import DOMAIN, ESCALATION, GOAL, OTHER_DOMAIN, SETBACK
from tests.support.polling import wait_until

HOSTILE = "<script>alert('record')</script>'; DROP TABLE case_records_events; --"
"""Clinical free text that looks like script and SQL: it must show as text, never run."""
ORIGINAL = "Mornings feel easier"
CORRECTED = "Mornings and evenings feel easier"
OPENED = date.today() - timedelta(days=200)


@dataclass(frozen=True)
class WrittenRecord:
    """Ids of what was written."""

    case_id: str
    review_ids: list[str]
    corrected_review: str
    correction_id: str
    late_entry: str
    setback_id: str
    position: int


def _at(days_ago: int) -> str:
    return (datetime.now(UTC) - timedelta(days=days_ago)).isoformat()


def _post(api: httpx.Client, path: str, body: dict[str, Any]) -> dict[str, Any]:
    answer = api.post(path, json=body)
    assert answer.status_code == 201, answer.text
    written: dict[str, Any] = answer.json()
    return written


def write_record(api: httpx.Client, person_ref: str) -> WrittenRecord:
    """Open and fill a case as the API client's clinician (who joins its care team)."""
    opened = _post(
        api,
        "/cases",
        {
            "person_ref": person_ref,
            "service": "north",
            "opened_on": OPENED.isoformat(),
            "care_team": [],
            "domains": [DOMAIN, OTHER_DOMAIN],
            "occurred_at": _at(200),
        },
    )
    case = f"/cases/{opened['case_id']}"
    goal = _post(api, f"{case}/goals", {**GOAL, "occurred_at": _at(190)})
    _post(
        api,
        f"{case}/milestones",
        {"goal_id": goal["entry_id"], "description": "bus with support", "occurred_at": _at(190)},
    )
    reviews = []
    for n, days_ago in enumerate((180, 150, 120, 90, 60, 30)):
        body = {
            "kind": "routine",
            "ratings": {DOMAIN: 3 + n, OTHER_DOMAIN: 5},
            "confidence": 3 + n,
            "autonomy": 4,
            "easier_now": ORIGINAL if n == 0 else HOSTILE,
            "occurred_at": _at(days_ago),
        }
        reviews.append(_post(api, f"{case}/reviews", body)["entry_id"])
    _post(api, f"{case}/measures", {"instrument": "phq9", "items": [2] * 9, "occurred_at": _at(170)})
    _post(api, f"{case}/measures", {"instrument": "phq9", "items": [1] * 9, "occurred_at": _at(40)})
    setback = _post(api, f"{case}/setbacks", {**SETBACK, "occurred_at": _at(100)})
    _post(api, f"{case}/escalations", {**ESCALATION, "occurred_at": _at(80)})
    _post(
        api,
        f"{case}/plan-changes",
        {
            "rationale": "after the setback",
            "because_of": [setback["entry_id"]],
            "strategies_added": ["walking group"],
            "occurred_at": _at(95),
        },
    )
    late = _post(
        api,
        f"{case}/statements",
        {
            "text": "I was not asked about the bus",
            "made_by": "person",
            "about": [reviews[0]],
            "occurred_at": _at(175),
        },
    )
    correction = _post(
        api,
        f"{case}/corrections",
        {"corrects": reviews[0], "reason": "wrong words noted", "changes": {"easier_now": CORRECTED}},
    )
    return WrittenRecord(
        opened["case_id"],
        reviews,
        reviews[0],
        correction["entry_id"],
        late["entry_id"],
        setback["entry_id"],
        correction["position"],
    )


def wait_projected(api: httpx.Client, case_id: str, position: int) -> None:
    """Read-your-writes: wait until the projections the pages read include ``position``."""
    for view in ("learning-log", "trajectory"):
        answer = api.get(f"/cases/{case_id}/{view}", params={"min_position": position})
        assert answer.status_code == 200, answer.text


def wait_on_caseload(page_get: Any, person_ref: str, seconds: float = 10) -> None:
    """The care teams projection has the case (it has no read-your-writes wait of its own)."""
    wait_until(
        lambda: person_ref in page_get(), seconds=seconds, failure=f"{person_ref} never reached the caseload"
    )
