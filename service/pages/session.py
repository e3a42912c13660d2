"""Browser sessions for the pages: a signed cookie holding who signed in, a CSRF token, and when the
session was last used (idle timeout), plus the state of a sign-in under way.

The cookie is HttpOnly, SameSite=Lax, limited to the pages' path, and Secure when the request came over
HTTPS or the public address is https (behind a proxy that ends TLS). It holds no person data: a user id,
a role and a display name. A session idle for longer than the setting, or older than
``LONGEST_SESSION``, is treated as no session.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from typing import Any

import msgspec
from litestar import Request
from litestar.datastructures import Cookie

from events.values import Actor, Role

__all__ = ["COOKIE", "LONGEST_SESSION", "PageSession", "SessionSigner", "SignIn"]

COOKIE = "waymark_session"
PAGES_PATH = "/app"
LONGEST_SESSION = 12 * 3600
"""However active, a session ends 12 hours after sign-in (a working day and a margin)."""
_REFRESH_AFTER = 60
"""Seconds of use after which the cookie is sent again with a new last-used time."""


class SignIn(msgspec.Struct, frozen=True):
    """A sign-in under way with the OpenID provider: what the callback must see again."""

    state: str
    nonce: str
    verifier: str
    next: str


class PageSession(msgspec.Struct, kw_only=True):
    """What the cookie carries. ``user`` is empty until someone signs in."""

    csrf: str = msgspec.field(default_factory=lambda: secrets.token_urlsafe(24))
    user: str = ""
    role: str = ""
    name: str = ""
    started: float = 0.0
    seen: float = 0.0
    sign_in: SignIn | None = None

    @property
    def actor(self) -> Actor | None:
        """The signed-in user, if any."""
        if not self.user:
            return None
        return Actor(id=self.user, role=Role(self.role))


class SessionSigner:
    """Reads and writes the session cookie, signed with HMAC-SHA256 under the session key."""

    def __init__(self, key: bytes, *, idle_seconds: int, public_url: str | None) -> None:
        self._key = hashlib.sha256(b"waymark-session-v1" + key).digest()
        self._idle = idle_seconds
        self._https_public = bool(public_url and public_url.lower().startswith("https://"))

    def _sign(self, payload: bytes) -> str:
        return base64.urlsafe_b64encode(hmac.digest(self._key, payload, "sha256")).decode().rstrip("=")

    def load(self, request: Request[Any, Any, Any]) -> tuple[PageSession, bool]:
        """The request's session and whether it is new; an unsigned, expired or unreadable cookie
        gives a new, signed-out session."""
        now = time.time()
        raw = request.cookies.get(COOKIE, "")
        payload, _, signature = raw.rpartition(".")
        if payload and hmac.compare_digest(self._sign(payload.encode()), signature):
            try:
                session = msgspec.json.decode(base64.urlsafe_b64decode(payload + "=="), type=PageSession)
            except (msgspec.DecodeError, ValueError):
                session = None
            if session is not None and not self._expired(session, now):
                return session, False
        return PageSession(), True

    def _expired(self, session: PageSession, now: float) -> bool:
        if not session.user:
            # A signed-out session only carries a CSRF token and a sign-in under way: keep it an hour.
            return now - session.seen > 3600
        return now - session.seen > self._idle or now - session.started > LONGEST_SESSION

    def needs_refresh(self, session: PageSession) -> bool:
        """Whether the cookie should go out again to move its last-used time on."""
        return time.time() - session.seen > _REFRESH_AFTER

    def cookie(self, session: PageSession, *, https: bool) -> str:
        """The Set-Cookie value carrying a session, stamped as used now."""
        session.seen = time.time()
        payload = base64.urlsafe_b64encode(msgspec.json.encode(session)).decode().rstrip("=")
        cookie = Cookie(
            key=COOKIE,
            value=f"{payload}.{self._sign(payload.encode())}",
            path=PAGES_PATH,
            httponly=True,
            samesite="lax",
            secure=https or self._https_public,
            max_age=LONGEST_SESSION,
        )
        return cookie.to_header(header="")

    def check_csrf(self, session: PageSession, sent: str | None) -> bool:
        """Whether a form's CSRF token is this session's."""
        return bool(sent) and hmac.compare_digest(session.csrf.encode(), str(sent).encode())


def signed_in(session: PageSession, actor: Actor, name: str) -> PageSession:
    """A new session for a user who just signed in (a new CSRF token: nothing carries over)."""
    now = time.time()
    return PageSession(user=actor.id, role=actor.role.value, name=name, started=now, seen=now)
