"""The ``pages`` suite: the record page of a case of 1,000 entries over HTTP, beside the JSON history
of the same case (all of it, in two pages of 500) from the same server."""

from __future__ import annotations

import asyncio
import secrets
import time
import uuid

import httpx

from events.values import Actor
from service.pages.session import PageSession, SessionSigner, signed_in
from service.tools.bench.client import HttpConnection, Timed
from service.tools.bench.commands import BENCH_CLINICIAN

__all__ = ["page_reads_over_http", "session_cookie", "wait_projected"]


def session_cookie(secret: str, actor: Actor = BENCH_CLINICIAN) -> str:
    """A signed-in page session for ``actor``, as the server with ``secret`` signs them."""
    signer = SessionSigner(secret.encode(), idle_seconds=3600, public_url=None)
    header = signer.cookie(signed_in(PageSession(), actor, actor.id), https=False)
    return header.split(";", 1)[0]


def wait_projected(port: int, token: str, case_id: uuid.UUID, head: int, seconds: float = 600) -> None:
    """Wait until the projections the page's charts read have reached ``head`` (read-your-writes)."""
    deadline = time.monotonic() + seconds
    url = f"http://127.0.0.1:{port}/cases/{case_id}/trajectory?min_position={head}"
    while time.monotonic() < deadline:
        if httpx.get(url, headers={"Authorization": f"Bearer {token}"}, timeout=30).status_code == 200:
            return
    raise TimeoutError("the projections did not catch up with the benchmark case")


async def page_reads_over_http(
    port: int, *, token: str, cookie: str, case_id: uuid.UUID, requests: int
) -> dict[str, Timed]:
    """GET the record page ``requests`` times, and the case's whole JSON history and its trajectory
    (the projection read of the API, beside the page) as often."""
    timed = {"page": Timed(), "history": Timed(), "trajectory": Timed()}
    async with HttpConnection("127.0.0.1", port, f"Bearer {token}", cookie=cookie) as http:
        for _ in range(requests):
            await http.request("GET", f"/app/cases/{case_id}", timed=timed["page"])
            started = time.perf_counter()
            first, second = Timed(), Timed()
            await http.request("GET", f"/cases/{case_id}/history?limit=500", timed=first)
            await http.request("GET", f"/cases/{case_id}/history?after=500&limit=500", timed=second)
            timed["history"].latencies_ms.append((time.perf_counter() - started) * 1000)
            timed["history"].statuses.extend(first.statuses + second.statuses)
            await http.request("GET", f"/cases/{case_id}/trajectory", timed=timed["trajectory"])
    return timed


def run_page_reads(
    port: int, *, token: str, secret: str, case_id: uuid.UUID, requests: int
) -> dict[str, Timed]:
    """One run of the page reads (blocking)."""
    cookie = session_cookie(secret)
    return asyncio.run(
        page_reads_over_http(port, token=token, cookie=cookie, case_id=case_id, requests=requests)
    )


def new_secret() -> str:
    """A session secret for the server under test."""
    return secrets.token_urlsafe(32)
