"""The real server stopped (SIGTERM) or killed (SIGKILL) while writes are in flight, then started again
on the same database: every acknowledged write is in the history, once, at the version it was given."""

from __future__ import annotations

import asyncio
import signal
from typing import Any

import httpx
import pytest

from tests.api.helpers import REVIEW, open_case
from tests.support.processes import Server, ServerFactory
from tests.support.tokens import TokenFactory

pytestmark = pytest.mark.slow  # servers stopped and killed under write load: about 10 s

WRITERS = 6


async def _write_until_gone(
    http: httpx.AsyncClient, case_id: str, headers: dict[str, str], acknowledged: list[dict[str, Any]]
) -> int:
    """POST reviews until the server stops answering; return how many attempts got no answer (0 or 1)."""
    for _ in range(2000):
        try:
            response = await http.post(f"/cases/{case_id}/reviews", json=REVIEW, headers=headers)
        except httpx.TransportError:
            return 1
        if response.status_code != 201:
            return 1  # a write refused while shutting down counts as unanswered
        acknowledged.append(response.json())
    return 0


async def _load_then_stop(
    server: Server, headers: dict[str, str], sig: signal.Signals
) -> tuple[list[str], list[dict[str, Any]], int, int]:
    """Open cases, write a few entries one by one, then write concurrently and stop the server mid-load."""
    acknowledged: list[dict[str, Any]] = []
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
        cases = [await open_case(http, headers) for _ in range(3)]
        for case_id in cases:
            response = await http.post(f"/cases/{case_id}/reviews", json=REVIEW, headers=headers)
            assert response.status_code == 201
            acknowledged.append(response.json())
        writers = [
            asyncio.create_task(_write_until_gone(http, cases[i % len(cases)], headers, acknowledged))
            for i in range(WRITERS)
        ]
        while len(acknowledged) < 60:
            assert not any(w.done() for w in writers), "a writer stopped before the server did"
            await asyncio.sleep(0.01)
        returncode = await asyncio.to_thread(server.stop, sig)
        unanswered = sum(await asyncio.gather(*writers))
    return cases, acknowledged, returncode, unanswered


async def _history(server: Server, headers: dict[str, str], cases: list[str]) -> dict[str, list[Any]]:
    histories = {}
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
        for case_id in cases:
            response = await http.get(f"/cases/{case_id}/history?limit=500", headers=headers)
            assert response.status_code == 200, response.text
            page = response.json()
            assert page["next_after"] is None
            histories[case_id] = page["items"]
    return histories


def _check_every_acknowledged_write(
    histories: dict[str, list[Any]], acknowledged: list[dict[str, Any]]
) -> list[str]:
    """Each acknowledged entry is in its case's history exactly once at its version; return unacknowledged."""
    for items in histories.values():
        assert [item["version"] for item in items] == list(range(1, len(items) + 1))
    recorded = {item["entry_id"]: (case_id, item) for case_id, items in histories.items() for item in items}
    assert len(recorded) == sum(len(items) for items in histories.values())
    for receipt in acknowledged:
        case_id, item = recorded[receipt["entry_id"]]
        assert (case_id, item["version"]) == (receipt["case_id"], receipt["version"])
    acked = {r["entry_id"] for r in acknowledged}
    return [
        entry_id
        for entry_id, (_, item) in recorded.items()
        if item["type"] != "case_opened" and entry_id not in acked
    ]


async def _writes_continue(server: Server, headers: dict[str, str], case_id: str, last: int) -> None:
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
        response = await http.post(f"/cases/{case_id}/reviews", json=REVIEW, headers=headers)
    assert response.status_code == 201, response.text
    assert response.json()["version"] == last + 1


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGKILL], ids=["sigterm", "sigkill"])
async def test_a_stop_mid_load_then_restart_keeps_every_acknowledged_write(
    serve: ServerFactory, auth: TokenFactory, stop: signal.Signals
) -> None:
    headers = auth("clinician", f"restart-{stop.name.lower()}")
    first = await asyncio.to_thread(serve)
    cases, acknowledged, returncode, unanswered = await _load_then_stop(first, headers, stop)
    # uvicorn drains in-flight requests on SIGTERM, then re-raises it: either way the process ends by
    # the signal it was sent.
    assert returncode == -stop

    second = await asyncio.to_thread(serve)
    histories = await _history(second, headers, cases)
    unacknowledged = _check_every_acknowledged_write(histories, acknowledged)
    if stop is signal.SIGTERM:
        # A graceful stop finishes every request it began: nothing was written without an answer.
        assert unacknowledged == []
    else:
        # Only a request in flight at the kill may have committed without its answer: one per writer.
        assert len(unacknowledged) <= unanswered <= WRITERS
    assert len(acknowledged) >= 60
    await _writes_continue(second, headers, cases[0], len(histories[cases[0]]))
