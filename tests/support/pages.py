"""Page test helpers: how Chromium is started, the viewports, Waymark as the browser reaches it, the
console errors a page reported, and the accessibility check."""

from __future__ import annotations

from dataclasses import dataclass

import httpx
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, ViewportSize

from service.bootstrap import Runtime
from service.settings import Settings

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


@dataclass(frozen=True)
class Served:
    """Waymark listening on a loopback port, and the settings it runs with."""

    url: str
    settings: Settings
    runtime: Runtime

    def api(self, headers: dict[str, str]) -> httpx.Client:
        """An API client for writing test data through the real HTTP write path."""
        return httpx.Client(base_url=self.url, headers=headers, timeout=30)


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


def assert_accessible(page: Page) -> None:
    """axe-core finds no serious or critical violation on the page as it stands."""
    results = Axe().run(page)
    bad = [v for v in results.response["violations"] if v["impact"] in ("serious", "critical")]
    assert not bad, results.generate_report()
