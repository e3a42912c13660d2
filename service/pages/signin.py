"""Signing in and out: OpenID Connect against the organisation's provider, or, with the embedded demo
database only, a page listing the demo users to pick from."""

from __future__ import annotations

import logging
from typing import Annotated, Any

import msgspec
from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromQuery, QueryParameter
from litestar.response import Redirect, Template

from events.values import Actor, Role
from service.pages.oidc import SignInRefused, discover, identity, redirect_to_provider, role_of
from service.pages.session import PageSession, signed_in
from service.pages.web import Pages, check_form, render, replace_session, session_of

__all__ = ["SIGN_IN_ROUTES", "demo_users"]

log = logging.getLogger("waymark.pages")


def demo_users() -> tuple[tuple[str, str, str], ...]:
    """The demo users offered on the embedded demo database's sign-in page."""
    # Imported here: serving imports no tool code unless it serves the demo (the demo generator's ids).
    from service.tools.demo import DEMO_CLINICIAN  # noqa: PLC0415

    return (
        (DEMO_CLINICIAN, Role.CLINICIAN.value, "Clinician on the care team of twelve demo cases"),
        ("clinician-12", Role.CLINICIAN.value, "Clinician on the care team of one other demo case"),
        ("demo-governance", Role.GOVERNANCE.value, "Governance lead: reads every case"),
    )


def _next(value: str | None) -> str:
    """Where to go after signing in: a page of ours, never another site."""
    if value and value.startswith("/app") and not value.startswith("//"):
        return value
    return "/app/"


def _callback(request: Request[Any, Any, Any], pages: Pages) -> str:
    base = pages.settings.public_url or str(request.base_url)
    return base.rstrip("/") + "/app/sign-in/callback"


@get("/sign-in", name="sign-in")
async def sign_in_page(
    request: Request[Any, Any, Any], pages: NamedDependency[Pages], next: FromQuery[str | None] = None
) -> Template:
    """The sign-in page: the organisation's account, or the demo users."""
    return render(
        request,
        pages,
        "sign_in.jinja",
        next_page=_next(next),
        oidc=pages.oidc,
        demo_users=pages.demo_users,
        signed_out=request.query_params.get("signed-out") == "1",
    )


@get("/sign-in/start")
async def start_sign_in(
    request: Request[Any, Any, Any], pages: NamedDependency[Pages], next: FromQuery[str | None] = None
) -> Response[Any]:
    """Send the browser to the OpenID provider, remembering state, nonce and PKCE verifier."""
    settings = pages.settings
    if not (pages.oidc and settings.oidc_issuer and settings.oidc_client_id):
        return Redirect("/app/sign-in", status_code=303)
    try:
        if pages.provider is None:
            pages.provider = await discover(settings.oidc_issuer)
    except (OSError, ValueError, KeyError, SignInRefused):
        log.warning("the OpenID provider's discovery document could not be read")
        return _refused(request, pages, "The identity provider could not be reached. Try again shortly.")
    url, under_way = redirect_to_provider(
        pages.provider, settings.oidc_client_id, _callback(request, pages), _next(next)
    )
    session = session_of(request, pages)
    replace_session(request, msgspec.structs.replace(session, sign_in=under_way))
    return Redirect(url, status_code=303)


@get("/sign-in/callback")
async def finish_sign_in(
    request: Request[Any, Any, Any],
    pages: NamedDependency[Pages],
    code: FromQuery[str | None] = None,
    returned_state: Annotated[str | None, QueryParameter(name="state")] = None,
) -> Response[Any]:
    """The provider sent the browser back: check the state, exchange the code, verify the ID token."""
    settings = pages.settings
    under_way = session_of(request, pages).sign_in
    if pages.provider is None or under_way is None or not code or returned_state != under_way.state:
        return _refused(request, pages, "This sign-in was not started here or has expired: sign in again.")
    try:
        claims = await identity(
            pages.provider,
            client_id=str(settings.oidc_client_id),
            client_secret=settings.oidc_client_secret,
            code=code,
            redirect_uri=_callback(request, pages),
            sign_in=under_way,
        )
        actor = msgspec.convert(
            {"id": claims["sub"], "role": role_of(claims, settings.oidc_role_claim)}, Actor
        )
    except SignInRefused as refused:
        return _refused(request, pages, str(refused))
    except (OSError, ValueError, msgspec.ValidationError):
        return _refused(request, pages, "The identity provider's answer could not be used: sign in again.")
    name = str(claims.get("name") or claims.get("preferred_username") or actor.id)
    replace_session(request, signed_in(session_of(request, pages), actor, name))
    return Redirect(under_way.next, status_code=303)


@post("/sign-in/demo", status_code=303)
async def demo_sign_in(request: Request[Any, Any, Any], pages: NamedDependency[Pages]) -> Response[Any]:
    """Sign in as one of the demo users (only offered with the embedded demo database)."""
    form = await check_form(request, pages)
    chosen = {user: role for user, role, _ in pages.demo_users}
    user = form.get("user", "")
    if user not in chosen:
        return _refused(request, pages, "Choose one of the demo users listed.")
    actor = Actor(id=user, role=Role(chosen[user]))
    replace_session(request, signed_in(session_of(request, pages), actor, user))
    return Redirect(_next(form.get("next")), status_code=303)


@post("/sign-out", status_code=303)
async def sign_out(request: Request[Any, Any, Any], pages: NamedDependency[Pages]) -> Response[Any]:
    """End the session: the cookie is replaced by a signed-out one."""
    await check_form(request, pages)
    replace_session(request, PageSession())
    return Redirect("/app/sign-in?signed-out=1", status_code=303)


def _refused(request: Request[Any, Any, Any], pages: Pages, reason: str) -> Template:
    return render(request, pages, "error.jinja", status=403, title="You are not signed in", detail=reason)


SIGN_IN_ROUTES = [sign_in_page, start_sign_in, finish_sign_in, demo_sign_in, sign_out]
