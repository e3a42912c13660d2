"""The clinician's pages: server-rendered HTML in the NHS design system, signed in through OpenID
Connect (or, on the embedded demo database, as a demo user). Everything the pages need lives in this
package; the app registers them with one ``on_app_init`` hook (``pages_plugin``)."""

from __future__ import annotations

from collections.abc import Callable

from litestar import Router, get
from litestar.config.app import AppConfig
from litestar.datastructures import CacheControlHeader
from litestar.di import Provide
from litestar.middleware import DefineMiddleware
from litestar.response import Redirect
from litestar.static_files import create_static_files_router

from service.http.auth import AccessDenied
from service.pages.break_glass import BREAK_GLASS_ROUTES, refused_record
from service.pages.caseload import CASELOAD_ROUTES
from service.pages.governance import GOVERNANCE_ROUTES
from service.pages.learning import LEARNING_ROUTES
from service.pages.record import RECORD_ROUTES
from service.pages.report import REPORT_ROUTES
from service.pages.reviews import REVIEW_ROUTES
from service.pages.session import SessionSigner
from service.pages.signin import SIGN_IN_ROUTES, demo_users
from service.pages.templating import STATIC, template_config
from service.pages.web import Pages, page_exception_handlers, pages_middleware
from service.settings import Settings

__all__ = ["pages_plugin"]

A_YEAR = 365 * 86400


SIGNED_IN_BY_SESSION = {"exclude_from_auth": True}
"""The pages sign in with their own session cookie, not the API's bearer token (nor need one for
their static files)."""


@get("/", include_in_schema=False, opt=SIGNED_IN_BY_SESSION)
async def front_door() -> Redirect:
    """The service's address in a browser leads to the caseload (or to sign in)."""
    return Redirect("/app/", status_code=303)


def pages_plugin(settings: Settings, *, demo_sign_in: bool = False) -> Callable[[AppConfig], AppConfig]:
    """An ``on_app_init`` hook adding the pages, their templates and their static files to the app.

    ``demo_sign_in`` offers the demo users on the sign-in page: only for the embedded demo database.
    """
    key = settings.session_key()
    signer = (
        SessionSigner(key, idle_seconds=settings.session_idle_minutes * 60, public_url=settings.public_url)
        if key
        else None
    )
    pages = Pages(settings=settings, signer=signer, demo_users=demo_users() if demo_sign_in else ())

    def provide_pages() -> Pages:
        return pages

    def install(app_config: AppConfig) -> AppConfig:
        router = Router(
            "/app",
            route_handlers=[
                *SIGN_IN_ROUTES,
                *CASELOAD_ROUTES,
                *RECORD_ROUTES,
                *REVIEW_ROUTES,
                *LEARNING_ROUTES,
                *BREAK_GLASS_ROUTES,
                *GOVERNANCE_ROUTES,
                *REPORT_ROUTES,
            ],
            dependencies={"pages": Provide(provide_pages, sync_to_thread=False)},
            middleware=[DefineMiddleware(pages_middleware, pages=pages)],
            # A refused record offers a clinician break-glass (service.pages.break_glass).
            exception_handlers={**page_exception_handlers(), AccessDenied: refused_record},
            include_in_schema=False,
            opt=SIGNED_IN_BY_SESSION,
        )
        static = create_static_files_router(
            "/static",
            directories=[STATIC],
            cache_control=CacheControlHeader(max_age=A_YEAR, public=True),
            include_in_schema=False,
            opt=SIGNED_IN_BY_SESSION,
        )
        app_config.route_handlers.extend([router, static, front_door])
        app_config.template_config = template_config()
        app_config.state["pages"] = pages
        return app_config

    return install
