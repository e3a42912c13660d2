"""Page test fixtures: the local OpenID provider, Waymark served by uvicorn in this process on a free
port (the real app: pages, API and projector, on the test database), and Debian's Chromium driven by
Playwright, with every console error failing the test that caused it."""

from __future__ import annotations

import dataclasses
import secrets
import shutil
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
import uvicorn
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, ConsoleMessage, Page, ViewportSize, sync_playwright

from service.bootstrap import Runtime, app_extensions
from service.http.app import create_app
from service.settings import Settings
from service.tools.processes import free_port
from tests.conftest import TokenFactory
from tests.support.oidc_provider import LocalOpenIDProvider

CHROMIUM_ARGS = [
    "--no-sandbox",  # root in CI
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-gpu",
]
DESKTOP: ViewportSize = {"width": 1280, "height": 900}
PHONE: ViewportSize = {"width": 375, "height": 740}


@pytest.fixture(scope="session")
def oidc_provider() -> Iterator[LocalOpenIDProvider]:
    """The fake identity provider, for the whole session."""
    provider = LocalOpenIDProvider().start()
    yield provider
    provider.stop()


@dataclass(frozen=True)
class Served:
    """Waymark listening on a loopback port, and the settings it runs with."""

    url: str
    settings: Settings
    runtime: Runtime

    def api(self, headers: dict[str, str]) -> httpx.Client:
        """An API client for writing test data through the real HTTP write path."""
        return httpx.Client(base_url=self.url, headers=headers, timeout=30)


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
    deadline = time.monotonic() + 60
    while not server.started:
        assert thread.is_alive(), "the page server stopped while starting"
        assert time.monotonic() < deadline, "the page server did not start in time"
        time.sleep(0.05)
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


class ConsoleErrors:
    """Errors the browser reported; a test that expects an error page allows its status."""

    def __init__(self) -> None:
        self.seen: list[str] = []
        self.allowed: list[str] = []

    def allow_status(self, status: int) -> None:
        """The test expects a page answering ``status`` (the browser logs it as an error)."""
        self.allowed.append(f"the server responded with a status of {status} ")

    def unexpected(self) -> list[str]:
        """Errors the test did not expect."""
        return [e for e in self.seen if not any(allowed in e for allowed in self.allowed)]


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


def assert_accessible(page: Page) -> None:
    """axe-core finds no serious or critical violation on the page as it stands."""
    results = Axe().run(page)
    bad = [v for v in results.response["violations"] if v["impact"] in ("serious", "critical")]
    assert not bad, results.generate_report()


@pytest.fixture
def clinician_api(served: Served, auth: TokenFactory) -> Iterator[tuple[str, httpx.Client]]:
    """A clinician of their own (a fresh user id) and an API client acting as them."""
    user = f"c-{secrets.token_hex(5)}"
    with served.api(auth("clinician", user)) as client:
        yield user, client
