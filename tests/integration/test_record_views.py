"""Every read of a person's record is logged with who read it, in what role, and which view; a refused
read is logged too, as refused (who tried to read which record), and never as served."""

from __future__ import annotations

from service.database import DatabaseAddress
from tests.api.helpers import REVIEW, Client, open_case
from tests.support.databases import query
from tests.support.tokens import TokenFactory


def _views(
    database: DatabaseAddress, case_id: str, outcome: str = "served"
) -> list[tuple[str, str, str, str, int | None]]:
    rows = query(
        database,
        "SELECT actor_id, role, case_id, view, case_version FROM case_record_views"
        " WHERE case_id = %s AND outcome = %s ORDER BY viewed_at",
        [case_id, outcome],
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
    assert (
        await client.get(f"/cases/{case_id}?version=1&purpose=audit", headers=governance)
    ).status_code == 200
    assert _views(database, case_id) == [
        ("view-1", "clinician", case_id, "case", 2),
        ("view-1", "clinician", case_id, "history", 2),
        ("gov-1", "governance", case_id, "case", 1),
    ]


async def test_a_refused_read_is_logged_as_refused(
    client: Client,
    auth: TokenFactory,
    database: DatabaseAddress,
) -> None:
    case_id = await open_case(client, auth("clinician", "view-2"))
    outsider = auth("clinician", "view-3")  # a clinician, but not on this case's care team

    for path in (f"/cases/{case_id}", f"/cases/{case_id}/history", f"/cases/{case_id}/trajectory"):
        response = await client.get(path, headers=outsider)
        assert response.status_code == 403, response.text
    for role in ("reporting", "admin"):  # refused for their role, before the record is looked at
        for path in (f"/cases/{case_id}", f"/cases/{case_id}/learning-log"):
            assert (await client.get(path, headers=auth(role, f"{role}-1"))).status_code == 403
    assert _views(database, case_id) == []
    assert _views(database, case_id, "refused") == [
        ("view-3", "clinician", case_id, "case", None),
        ("view-3", "clinician", case_id, "history", None),
        ("view-3", "clinician", case_id, "trajectory", None),
        ("reporting-1", "reporting", case_id, "getCase", None),
        ("reporting-1", "reporting", case_id, "getLearningLog", None),
        ("admin-1", "admin", case_id, "getCase", None),
        ("admin-1", "admin", case_id, "getLearningLog", None),
    ]

    assert (await client.get(f"/cases/{case_id}", headers=auth("clinician", "view-2"))).status_code == 200
    assert _views(database, case_id) == [("view-2", "clinician", case_id, "case", 1)]
