"""Fail closed: a read of a person's record that cannot be written to the access log is refused (503),
never served unlogged; once the log can be written again, the same read is served and logged."""

from __future__ import annotations

import psycopg

from service.database import DatabaseAddress
from tests.api.helpers import Client, assert_problem, open_case, user
from tests.support.tokens import TokenFactory

_BLOCK = "ALTER TABLE case_record_views ADD CONSTRAINT no_logging CHECK (false) NOT VALID"
_UNBLOCK = "ALTER TABLE case_record_views DROP CONSTRAINT no_logging"


def _run(database: DatabaseAddress, statement: str) -> None:
    with psycopg.connect(**database.connect_kwargs(), autocommit=True) as conn:
        conn.execute(statement)


async def test_a_read_that_cannot_be_logged_is_refused(
    client: Client, auth: TokenFactory, database: DatabaseAddress
) -> None:
    clinician = user()
    headers = auth("clinician", clinician)
    case_id = await open_case(client, headers, care_team=[clinician])
    _run(database, _BLOCK)
    try:
        for path in ("", "/history", "/trajectory", "/learning-log", "/fhir"):
            answer = await client.get(f"/cases/{case_id}{path}", headers=headers)
            assert_problem(answer, 503)
            assert "P-api" not in answer.text, path
    finally:
        _run(database, _UNBLOCK)
    assert (await client.get(f"/cases/{case_id}", headers=headers)).status_code == 200
