"""Page test fixtures: the local OpenID provider, Waymark served by uvicorn in this process on a free
port (the real app: pages, API and projector, on the test database), and Debian's Chromium driven by
Playwright, with every console error failing the test that caused it. The helpers (viewports, console
errors, the accessibility check) are in tests/support/pages.py."""

from __future__ import annotations

import dataclasses
import secrets
import shutil
import threading
from collections.abc import Iterator

import httpx
import pytest
import uvicorn
from playwright.sync_api import Browser, ConsoleMessage, Page, sync_playwright

from service.bootstrap import Runtime, app_extensions
from service.http.app import create_app
from service.settings import Settings
from service.tools.processes import free_port
from tests.support.oidc_provider import LocalOpenIDProvider
from tests.support.pages import CHROMIUM_ARGS, DESKTOP, ConsoleErrors, Served
from tests.support.polling import wait_until
from tests.support.tokens import TokenFactory


@pytest.fixture(scope="session")
def oidc_provider() -> Iterator[LocalOpenIDProvider]:
    """The fake identity provider, for the whole session."""
    provider = LocalOpenIDProvider().start()
    yield provider
    provider.stop()


@pytest.fixture(scope="session")
def served(settings: Settings, oidc_provider: LocalOpenIDProvider) -> Iterator[Served]:
    """Waymark (pages with OpenID sign-in and demo users, API, projector) served by uvicorn in a thread."""
    page_settings = dataclasses.replace(
        settings,
        oidc_issuer=oidc_provider.issuer,
        oidc_client_id=oidc_provider.client_id,
        oidc_client_secret=oidc_provider.client_secret,
        session_secret=secrets.token_urlsafe(32),
    )
    runtime = Runtime.start(page_settings)
    port = free_port()
    config = uvicorn.Config(
        create_app(runtime, extensions=app_extensions(page_settings, demo=True)),
        host="127.0.0.1",
        port=port,
        log_level="warning",
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"

    def started() -> bool:
        assert thread.is_alive(), "the page server stopped while starting"
        return bool(server.started)

    wait_until(started, seconds=60, failure="the page server did not start in time")
    yield Served(url, page_settings, runtime)
    server.should_exit = True
    thread.join(timeout=30)
    runtime.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Debian's Chromium, headless (never a downloaded browser: ``playwright install`` fails here).

    One per test module: Playwright's synchronous API keeps an event loop running in this thread
    while it is open, and pytest-asyncio cannot start the async fixtures of later modules meanwhile."""
    executable = shutil.which("chromium")
    if executable is None:
        pytest.fail("Chromium is not installed: apt-get install -y chromium (.ci/run does)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def console_errors() -> ConsoleErrors:
    """The console errors of the test's page."""
    return ConsoleErrors()


@pytest.fixture
def page(browser: Browser, served: Served, console_errors: ConsoleErrors) -> Iterator[Page]:
    """A fresh browser context and page; the test fails on any console error or uncaught exception."""
    context = browser.new_context(base_url=served.url, viewport=DESKTOP)
    opened = context.new_page()

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            console_errors.seen.append(message.text)

    opened.on("console", on_console)
    opened.on("pageerror", lambda error: console_errors.seen.append(str(error)))
    yield opened
    context.close()
    assert not console_errors.unexpected(), f"console errors: {console_errors.unexpected()}"


@pytest.fixture
def clinician_api(served: Served, auth: TokenFactory) -> Iterator[tuple[str, httpx.Client]]:
    """A clinician of their own (a fresh user id) and an API client acting as them."""
    user = f"c-{secrets.token_hex(5)}"
    with served.api(auth("clinician", user)) as client:
        yield user, client
