"""What every page shares: the signed-in user from the session cookie, the CSRF check on forms,
rendering with the layout's context, the security headers, and error pages instead of problems."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import asyncpg
from litestar import Request, Response
from litestar.datastructures import MutableScopeHeaders
from litestar.enums import MediaType
from litestar.exceptions import HTTPException, NotFoundException
from litestar.response import Redirect, Template
from litestar.types import ASGIApp, ExceptionHandlersMap, Message, Receive, Scope, Send

from events.values import Actor
from service.http.auth import AccessDenied
from service.http.positions import ProjectionBehind
from service.http.problems import log_behind
from service.http.reading import QueryTooLong
from service.pages.oidc import Provider
from service.pages.session import PageSession, SessionSigner
from service.settings import Settings
from service.write.application import CaseNotFound, VersionNotFound

__all__ = [
    "CsrfRefused",
    "Pages",
    "SignInRequired",
    "actor_of",
    "check_form",
    "page_exception_handlers",
    "pages_middleware",
    "render",
    "replace_session",
    "session_of",
]

log = logging.getLogger("waymark.pages")

SECURITY_HEADERS = {
    "cache-control": "no-store",
    "content-security-policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "font-src 'self'; connect-src 'self'; manifest-src 'self'; form-action 'self'; "
        "base-uri 'none'; frame-ancestors 'none'"
    ),
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
    "x-frame-options": "DENY",
}
"""Sent with every page: nothing cached (person data), no inline script, never framed."""


@dataclass
class Pages:
    """The pages' settings and parts, shared by their handlers (the ``pages`` dependency)."""

    settings: Settings
    signer: SessionSigner | None
    demo_users: tuple[tuple[str, str, str], ...] = ()
    """(user id, role, description) of the demo users offered on the sign-in page, if any."""
    provider: Provider | None = field(default=None)

    @property
    def oidc(self) -> bool:
        """Whether an OpenID provider is configured."""
        return bool(self.settings.oidc_issuer and self.settings.oidc_client_id)


class SignInRequired(Exception):
    """The page needs a signed-in user; the browser is sent to sign in and brought back."""

    def __init__(self, next_page: str) -> None:
        super().__init__("sign in required")
        self.next_page = next_page


class CsrfRefused(Exception):
    """A form came without this session's CSRF token (or from another site)."""


def session_of(request: Request[Any, Any, Any], pages: Pages) -> PageSession:
    """The request's page session (loaded once per request)."""
    existing = request.state.get("page_session")
    if isinstance(existing, PageSession):
        return existing
    session, new = pages.signer.load(request) if pages.signer else (PageSession(), True)
    request.state["page_session"] = session
    request.state["page_session_dirty"] = new or (
        pages.signer is not None and pages.signer.needs_refresh(session)
    )
    return session


def replace_session(request: Request[Any, Any, Any], session: PageSession) -> None:
    """Put a new session in place (signing in or out); it goes out with the response."""
    request.state["page_session"] = session
    request.state["page_session_dirty"] = True


def actor_of(request: Request[Any, Any, Any], pages: Pages) -> Actor:
    """The signed-in user, or a redirect to sign in that comes back here."""
    actor = session_of(request, pages).actor
    if actor is None:
        raise SignInRequired(str(request.url.path) + (f"?{request.url.query}" if request.url.query else ""))
    return actor


async def check_form(request: Request[Any, Any, Any], pages: Pages) -> dict[str, str]:
    """The posted form's fields (one value each), once its CSRF token is this session's."""
    form = await request.form()
    session = session_of(request, pages)
    if pages.signer is None or not pages.signer.check_csrf(session, form.get("csrf_token")):
        raise CsrfRefused
    return {key: str(value) for key, value in form.items() if key != "csrf_token"}


def render(
    request: Request[Any, Any, Any], pages: Pages, template: str, *, status: int = 200, **context: Any
) -> Template:
    """A page from its template, with who is signed in and the CSRF token for its forms."""
    session = session_of(request, pages)
    return Template(
        template_name=template,
        context={"user": session.actor, "user_name": session.name, "csrf": session.csrf, **context},
        status_code=status,
        media_type=MediaType.HTML,
    )


def pages_middleware(app: ASGIApp, pages: Pages) -> ASGIApp:
    """ASGI middleware for every page's answer: the security headers, and the session cookie when it
    changed or its last-used time needs moving on."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableScopeHeaders.from_message(message)
                for name, value in SECURITY_HEADERS.items():
                    headers[name] = value
                state = scope.get("state", {})
                session = state.get("page_session")
                if pages.signer and isinstance(session, PageSession) and state.get("page_session_dirty"):
                    headers.add(
                        "set-cookie", pages.signer.cookie(session, https=scope.get("scheme") == "https")
                    )
            await send(message)

        await app(scope, receive, send_with_headers)

    return middleware


def _error_page(
    status: int, title: str, detail: str
) -> Callable[[Request[Any, Any, Any], Exception], Response[Any]]:
    def handle(request: Request[Any, Any, Any], _: Exception) -> Response[Any]:
        pages: Pages = request.app.state["pages"]
        return render(request, pages, "error.jinja", status=status, title=title, detail=detail)

    return handle


def _sign_in(request: Request[Any, Any, Any], exc: SignInRequired) -> Response[Any]:
    return Redirect(f"/app/sign-in?next={quote(exc.next_page, safe='/')}", status_code=303)


def _unexpected(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    log.error("unexpected %s on %s %s", type(exc).__name__, request.method, request.url.path)
    handle = _error_page(500, "Something went wrong", "Nothing half-written was kept. Try again shortly.")
    return handle(request, exc)


def _upgrading(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    log_behind(exc)
    detail = "Waymark was just upgraded and is rebuilding what this page reads: try again in a few minutes."
    return _error_page(503, "Being brought up to date", detail)(request, exc)


def _http(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    if exc.status_code >= 500:
        return _unexpected(request, exc)
    handle = _error_page(exc.status_code, "That did not work", "Check the address, or go back and try again.")
    return handle(request, exc)


def page_exception_handlers() -> ExceptionHandlersMap:
    """Error pages for what a page can run into (never a problem document, never a stack trace)."""
    not_found = _error_page(404, "Page not found", "There is no such case record: check the address.")
    return {
        SignInRequired: _sign_in,
        CsrfRefused: _error_page(
            403, "This form has expired", "Go back, reload the page and send the form again."
        ),
        AccessDenied: _error_page(
            403,
            "You cannot open this record",
            "Only the person's care team (and governance) may read this record.",
        ),
        CaseNotFound: not_found,
        QueryTooLong: _error_page(
            503, "That took too long", "The record could not be read in time. Try again."
        ),
        **dict.fromkeys((asyncpg.UndefinedColumnError, asyncpg.UndefinedTableError), _upgrading),
        ProjectionBehind: _error_page(
            503, "Not yet up to date", "What was just written is still being brought in. Reload the page."
        ),
        VersionNotFound: _error_page(
            404, "No such point in the record", "The record has no entry that late."
        ),
        NotFoundException: not_found,
        HTTPException: _http,
        Exception: _unexpected,
    }
