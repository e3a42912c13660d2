"""The hostile-input corpus beyond malformed bodies and bad tokens (test_errors, test_auth): huge
strings, unknown fields, and SQL and script fragments in free text.

A clinical note may well say "drop table" or contain "<script>": free text is data. It is stored
exactly as sent, read back exactly as sent, and never executed or rendered; everything around it is
left as it was."""

from __future__ import annotations

import pytest

from tests.api.helpers import REVIEW, SETBACK, Client, assert_problem, prepare
from tests.support.tokens import TokenFactory

FRAGMENTS = [
    "'); DROP TABLE case_records_events; --",
    "1' OR '1'='1",
    "$1; SELECT pg_sleep(10)",
    "<script>alert(document.cookie)</script>",
    '"><img src=x onerror=alert(1)>',
    "{{7*7}} ${7*7} %s %n",
    "../../etc/passwd",
    "\u202egnp.exe",
]


@pytest.mark.parametrize("fragment", FRAGMENTS, ids=range(len(FRAGMENTS)))
async def test_sql_and_script_fragments_in_free_text_are_stored_verbatim_as_data(
    client: Client, auth: TokenFactory, fragment: str
) -> None:
    write = await prepare(client, auth, "setbacks")
    version, entries = await write.state()
    response = await write.send(body={**SETBACK, "what_happened": fragment, "learning": fragment})
    assert response.status_code == 201, response.text
    assert await write.state() == (version + 1, entries + 1)
    history = (
        await client.get(f"/cases/{write.case_id}/history?limit=500&purpose=audit", headers=write.reader)
    ).json()
    data = history["items"][-1]["data"]
    assert (data["what_happened"], data["learning"]) == (fragment, fragment)
    # The events table the first fragment names is still there and still takes writes.
    again = await write.send(body=SETBACK)
    assert again.status_code == 201, again.text


@pytest.mark.parametrize(
    ("field", "length", "limit"),
    [("what_happened", 10_001, 10_000), ("risk_management", 200_000, 10_000)],
)
async def test_a_huge_string_is_422_naming_the_field_and_its_limit_and_writes_nothing(
    client: Client, auth: TokenFactory, field: str, length: int, limit: int
) -> None:
    write = await prepare(client, auth, "setbacks")
    before = await write.state()
    response = await write.send(body={**SETBACK, field: "x" * length})
    problem = assert_problem(response, 422)
    assert any(error["field"] == field and str(limit) in error["message"] for error in problem["errors"])
    assert "x" * 100 not in response.text, "the sent text is not echoed back"
    assert await write.state() == before


async def test_a_huge_list_of_domains_is_a_4xx_and_writes_nothing(client: Client, auth: TokenFactory) -> None:
    write = await prepare(client, auth, "reviews")
    before = await write.state()
    ratings = {f"domain_{i}": 5 for i in range(50_000)}
    response = await write.send(body={**REVIEW, "ratings": ratings})
    assert 400 <= response.status_code < 500, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert await write.state() == before


async def test_free_text_with_a_fragment_is_never_echoed_in_a_problem(
    client: Client, auth: TokenFactory
) -> None:
    write = await prepare(client, auth, "setbacks")
    before = await write.state()
    body = {**SETBACK, "what_happened": FRAGMENTS[3], "severity_guess": FRAGMENTS[0]}
    response = await write.send(body=body)
    assert_problem(response, 422)
    assert "<script>" not in response.text
    assert "DROP TABLE" not in response.text
    assert await write.state() == before
