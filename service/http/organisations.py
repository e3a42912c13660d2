"""Several organisations on one installation: each organisation has a database of its own and a whole
Waymark on it (write side, projector, read pools, caches), and each request goes to the Waymark of the
organisation its bearer token names.

A database each is the strongest separation PostgreSQL offers short of a server each: no query of
one organisation's Waymark can name another's tables, since its connections cannot reach them. The
router reads the organisation claim before the signature is checked (it only chooses where the token
is checked); the chosen Waymark verifies the token and refuses one that names another organisation.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import jwt

from service.bootstrap import Runtime, app_extensions
from service.http.app import create_app
from service.http.auth import PUBLIC_PATHS
from service.settings import Settings

__all__ = ["OrganisationRouter", "organisations_app"]

# Plain ASGI: the router passes messages through and speaks only lifespan and one 401 itself.
Message = dict[str, Any]
Scope = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Any

_PUBLIC = re.compile("|".join(PUBLIC_PATHS))
"""The paths that need no token (the auth's own list): served by the first organisation's Waymark
(none of them names a person)."""


@dataclass
class _Lifespan:
    """One organisation's app's ASGI lifespan, driven by the router's own."""

    app: ASGIApp
    inbox: asyncio.Queue[Message] = field(default_factory=asyncio.Queue)
    outbox: asyncio.Queue[Message] = field(default_factory=asyncio.Queue)
    task: asyncio.Task[None] | None = None

    async def step(self, message: str) -> Message:
        if self.task is None:
            scope = {"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}
            self.task = asyncio.create_task(self.app(scope, self.inbox.get, self._send))
        await self.inbox.put({"type": message})
        return await self.outbox.get()

    async def _send(self, message: Message) -> None:
        await self.outbox.put(message)


class OrganisationRouter:
    """An ASGI app sending each request to its organisation's Waymark."""

    def __init__(self, apps: Mapping[str, ASGIApp], claim: str) -> None:
        self.apps, self.claim = dict(apps), claim
        self._first = next(iter(self.apps.values()))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        app = self._chosen(scope)
        if app is None:
            await _unknown_organisation(scope, send, self.claim)
            return
        await app(scope, receive, send)

    def _chosen(self, scope: Scope) -> ASGIApp | None:
        named = _claimed(scope, self.claim)
        if named is not None:
            return self.apps.get(named)
        return self._first if _PUBLIC.match(scope["path"]) else None

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        lifespans = [_Lifespan(app) for app in self.apps.values()]
        await receive()  # lifespan.startup
        for started, lifespan in enumerate(lifespans):
            answer = await lifespan.step("lifespan.startup")
            if answer["type"] != "lifespan.startup.complete":
                for running in reversed(lifespans[:started]):
                    await running.step("lifespan.shutdown")
                await send(answer)
                return
        await send({"type": "lifespan.startup.complete"})
        await receive()  # lifespan.shutdown
        for lifespan in reversed(lifespans):
            await lifespan.step("lifespan.shutdown")
        await send({"type": "lifespan.shutdown.complete"})


def organisations_app(settings: Settings, *, run_projector: bool) -> OrganisationRouter:
    """A Waymark for each organisation in ``settings.organisations``, on its own database, behind one
    router. Each app owns its runtime and closes it on shutdown."""
    apps: dict[str, ASGIApp] = {}
    for organisation, url in settings.organisations.items():
        own = replace(settings, database_url=url, organisation=organisation, organisations={})
        runtime = Runtime.start(own)
        apps[organisation] = create_app(
            runtime, run_projector=run_projector, owns_runtime=True, extensions=app_extensions(own)
        )
    return OrganisationRouter(apps, settings.organisation_claim)


def _claimed(scope: Scope, claim: str) -> str | None:
    """The organisation a bearer token names, read without checking its signature (the chosen
    Waymark checks it); None when there is no readable token or claim."""
    for name, value in scope.get("headers", ()):
        if name == b"authorization" and value[:7].lower() == b"bearer ":
            try:
                claims = jwt.decode(value[7:].strip(), options={"verify_signature": False})
            except jwt.InvalidTokenError:
                return None
            named = claims.get(claim)
            return named if isinstance(named, str) else None
    return None


async def _unknown_organisation(scope: Scope, send: Send, claim: str) -> None:
    """401 as a problem: the token names no organisation this installation serves."""
    problem = {
        "status": 401,
        "type": "/problems/unknown-organisation",
        "title": "Unknown organisation",
        "detail": f"Send a bearer token whose '{claim}' claim names an organisation served here.",
        "instance": scope["path"],
    }
    body = json.dumps(problem).encode()
    headers = [
        (b"content-type", b"application/problem+json"),
        (b"content-length", str(len(body)).encode()),
        (b"www-authenticate", b"Bearer"),
        (b"cache-control", b"no-store"),
    ]
    await send({"type": "http.response.start", "status": 401, "headers": headers})
    await send({"type": "http.response.body", "body": body})
