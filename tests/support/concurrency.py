"""Requests sent to the in-process app at the same moment."""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
from litestar.testing.transport import TestClientTransport

from tests.api.helpers import Client

Post = tuple[str, dict[str, Any], dict[str, str]]
"""A POST to send: path, JSON body, headers."""


async def post_concurrently(client: Client, posts: list[Post]) -> list[httpx.Response]:
    """Send POSTs to the in-process app at the same moment, one thread each, and gather the answers.

    Client handles a request synchronously on the calling event loop (its async transport calls
    the blocking one), so ``asyncio.gather`` of its calls sends them one after another. Here each request
    goes from its own thread through the same transport into the app's event loop, so they overlap.
    """
    start = threading.Barrier(len(posts))
    transport = TestClientTransport(client=client)

    def send(post: Post) -> httpx.Response:
        path, body, headers = post
        request = httpx.Request("POST", client.base_url.join(path), json=body, headers=headers)
        start.wait(timeout=60)
        response = transport.handle_request(request)
        response.read()
        return response

    loop = asyncio.get_running_loop()
    with ThreadPoolExecutor(max_workers=len(posts)) as pool:
        return list(await asyncio.gather(*(loop.run_in_executor(pool, send, post) for post in posts)))
