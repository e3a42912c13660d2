"""A first walk through the API: open a case, record a review, read it back."""

from __future__ import annotations

from tests.api.helpers import Client
from tests.support.tokens import TokenFactory


async def test_open_review_read(client: Client, auth: TokenFactory) -> None:
    clinician = auth("clinician", "smoke-1")
    opened = await client.post(
        "/cases",
        json={
            "person_ref": "P-smoke",
            "service": "north",
            "opened_on": "2026-01-05",
            "care_team": [],
            "domains": ["stability_self_management"],
        },
        headers=clinician,
    )
    assert opened.status_code == 201, opened.text
    case_id = opened.json()["case_id"]
    review = await client.post(
        f"/cases/{case_id}/reviews",
        json={
            "kind": "routine",
            "ratings": {"stability_self_management": 6},
            "confidence": 5,
            "autonomy": 4,
        },
        headers=clinician,
    )
    assert review.status_code == 201, review.text
    assert review.headers["etag"] == '"2"'
    case = await client.get(f"/cases/{case_id}", headers=clinician)
    assert case.json()["last_review"]["ratings"] == {"stability_self_management": 6}
    assert case.json()["care_team"] == ["smoke-1"]
