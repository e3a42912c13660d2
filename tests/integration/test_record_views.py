"""Every read of a person's record is logged with who read it, in what role, and which view; a refused
read is not a read and logs nothing."""

from __future__ import annotations

from service.database import DatabaseAddress
from tests.api.helpers import REVIEW, Client, open_case
from tests.support.databases import query
from tests.support.tokens import TokenFactory


def _views(database: DatabaseAddress, case_id: str) -> list[tuple[str, str, str, str, int]]:
    rows = query(
        database,
        "SELECT actor_id, role, case_id, view, case_version FROM case_record_views"
        " WHERE case_id = %s ORDER BY viewed_at",
        [case_id],
    )
    return [(r["actor_id"], r["role"], str(r["case_id"]), r["view"], r["case_version"]) for r in rows]


async def test_reading_a_case_and_its_history_each_log_one_view(
    client: Client,
    auth: TokenFactory,
    database: DatabaseAddress,
) -> None:
    headers = auth("clinician", "view-1")
    case_id = await open_case(client, headers)
    assert (await client.post(f"/cases/{case_id}/reviews", json=REVIEW, headers=headers)).status_code == 201
    assert _views(database, case_id) == []  # writing is not reading

    assert (await client.get(f"/cases/{case_id}", headers=headers)).status_code == 200
    assert _views(database, case_id) == [("view-1", "clinician", case_id, "case", 2)]

    assert (await client.get(f"/cases/{case_id}/history", headers=headers)).status_code == 200
    governance = auth("governance", "gov-1")
    assert (await client.get(f"/cases/{case_id}?version=1", headers=governance)).status_code == 200
    assert _views(database, case_id) == [
        ("view-1", "clinician", case_id, "case", 2),
        ("view-1", "clinician", case_id, "history", 2),
        ("gov-1", "governance", case_id, "case", 1),
    ]


async def test_a_refused_read_logs_no_view(
    client: Client,
    auth: TokenFactory,
    database: DatabaseAddress,
) -> None:
    case_id = await open_case(client, auth("clinician", "view-2"))
    outsider = auth("clinician", "view-3")  # a clinician, but not on this case's care team

    for path in (f"/cases/{case_id}", f"/cases/{case_id}/history"):
        response = await client.get(path, headers=outsider)
        assert response.status_code == 403, response.text
    assert (await client.get(f"/cases/{case_id}", headers=auth("reporting", "rep-1"))).status_code == 403
    assert _views(database, case_id) == []

    assert (await client.get(f"/cases/{case_id}", headers=auth("clinician", "view-2"))).status_code == 200
    assert _views(database, case_id) == [("view-2", "clinician", case_id, "case", 1)]
