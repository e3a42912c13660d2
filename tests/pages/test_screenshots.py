"""Every page at a desktop width and a narrow phone width: axe finds no serious or critical violation
at either, the record prints without navigation, and each is photographed. With WAYMARK_SCREENSHOTS
set to a folder (``docs/screenshots`` for the README) the photographs are kept there:

    WAYMARK_SCREENSHOTS=docs/screenshots .venv/bin/pytest tests/pages/test_screenshots.py
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, ViewportSize, expect

from tests.pages.records import WrittenRecord, wait_projected, write_record
from tests.pages.test_record import sign_in
from tests.support.oidc_provider import LocalOpenIDProvider
from tests.support.pages import DESKTOP, PHONE, Served, assert_accessible
from tests.support.tokens import TokenFactory

pytestmark = pytest.mark.slow  # every page in Chromium at two viewports with axe: about 30 s

CLINICIAN = "c-screenshots"
PERSON = "P-004217"


@pytest.fixture(scope="module")
def shown(served: Served, auth: TokenFactory) -> WrittenRecord:
    """The record the photographs show."""
    with served.api(auth("clinician", CLINICIAN)) as api:
        record = write_record(api, PERSON)
        wait_projected(api, record.case_id, record.position)
    return record


def _steps(record: WrittenRecord) -> list[tuple[str, Callable[[Page], None]]]:
    case = f"/app/cases/{record.case_id}"

    def decision(page: Page) -> None:
        page.goto(f"{case}/reviews/{record.review_ids[-1]}/decision")

    return [
        ("caseload", lambda page: page.goto("/app/")),
        ("record", lambda page: page.goto(case)),
        ("record-charts", lambda page: page.goto(f"{case}#chart-stability_self_management-title")),
        ("record-timeline", lambda page: page.goto(f"{case}#timeline")),
        ("replay", lambda page: page.goto(f"{case}?version=12")),
        ("review-form", lambda page: page.goto(f"{case}/reviews/new")),
        ("decision-form", decision),
        ("learning-log", lambda page: page.goto(f"{case}/learning-log")),
    ]


@pytest.mark.parametrize(("width", "viewport"), [("desktop", DESKTOP), ("phone", PHONE)])
def test_every_page_is_accessible_and_photographed(
    *,
    browser: Browser,
    served: Served,
    oidc_provider: LocalOpenIDProvider,
    shown: WrittenRecord,
    tmp_path: Path,
    width: str,
    viewport: ViewportSize,
) -> None:
    keep = os.environ.get("WAYMARK_SCREENSHOTS")
    context = browser.new_context(base_url=served.url, viewport=viewport)
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.goto("/app/sign-in")
    shots = [("sign-in", tmp_path / f"sign-in-{width}.png")]
    page.screenshot(path=shots[0][1])
    assert_accessible(page)
    sign_in(page, oidc_provider, CLINICIAN)
    for name, go in _steps(shown):
        go(page)
        expect(page.locator("main h1")).to_be_visible()
        assert_accessible(page)
        shots.append((name, tmp_path / f"{name}-{width}.png"))
        page.screenshot(path=shots[-1][1])
    context.close()
    assert errors == []
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        for name, shot in shots:
            shutil.copy(shot, Path(keep) / f"{name}-{width}.png")


def test_the_record_prints_without_navigation_or_forms(
    page: Page, oidc_provider: LocalOpenIDProvider, shown: WrittenRecord
) -> None:
    sign_in(page, oidc_provider, CLINICIAN)
    page.goto(f"/app/cases/{shown.case_id}")
    page.emulate_media(media="print")
    expect(page.locator("header.nhsuk-header")).to_be_hidden()
    expect(page.get_by_role("button", name="Filter")).to_be_hidden()
    expect(page.locator("ol.waymark-timeline")).to_be_visible()
    expect(page.locator("figure.waymark-chart").first).to_be_visible()
    pdf = page.pdf()
    assert re.match(rb"%PDF-", pdf)
