"""The commissioner report in Chromium: made for a service and period, each count equal to the API's,
a count of 3 people shown as "<5", a story whose consent was withdrawn absent; downloaded as CSV, and
printed to PDF (the print stylesheet) whose pages pdftoppm renders."""

from __future__ import annotations

import csv
import io
import secrets
import shutil
import subprocess
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.pages.test_record import sign_in
from tests.support.oidc_provider import LocalOpenIDProvider
from tests.support.pages import ConsoleErrors, Served, assert_accessible
from tests.support.tokens import TokenFactory

CLINICIAN = f"c-report-{secrets.token_hex(4)}"
GOVERNANCE = f"g-report-{secrets.token_hex(4)}"
SERVICE = f"svc-report-{secrets.token_hex(4)}"
KEPT = "I take the bus to my sister's on Sundays now."
WITHDRAWN = "I started at the allotment in April."
LAST, FIRST = date.today(), date.today() - timedelta(days=90)
PERIOD = f"from={FIRST.isoformat()}&to={LAST.isoformat()}&service={SERVICE}"

pytestmark = pytest.mark.slow  # drives Chromium and prints a PDF: seconds a test


def _post(api: httpx.Client, path: str, body: dict[str, Any]) -> dict[str, Any]:
    answer = api.post(path, json=body)
    assert answer.status_code == 201, answer.text
    written: dict[str, Any] = answer.json()
    return written


def _phq9(total: int) -> list[int]:
    return [min(3, max(0, total - 3 * i)) for i in range(9)]


@pytest.fixture(scope="module")
def report_data(served: Served, auth: TokenFactory) -> None:
    """Nine people in a service of their own: three reliably improved on PHQ-9, six unchanged; one
    story kept and one whose consent was withdrawn."""
    with served.api(auth("clinician", CLINICIAN)) as api:
        cases = []
        for first, latest in [(20, 12)] * 3 + [(12, 13)] * 6:
            body = {
                "person_ref": f"P-{secrets.token_hex(3)}",
                "service": SERVICE,
                "care_team": [],
                "opened_on": (LAST - timedelta(days=200)).isoformat(),
                "domains": ["stability_self_management"],
            }
            case = _post(api, "/cases", body)["case_id"]
            for total, days in ((first, 60), (latest, 10)):
                at = (datetime.now(UTC) - timedelta(days=days)).isoformat()
                _post(
                    api,
                    f"/cases/{case}/measures",
                    {"instrument": "phq9", "items": _phq9(total), "occurred_at": at},
                )
            cases.append(case)
        story = {"consent_given_by": "person", "de_identified": True}
        _post(api, f"/cases/{cases[0]}/stories", {**story, "story": KEPT})
        withdrawn = _post(api, f"/cases/{cases[1]}/stories", {**story, "story": WITHDRAWN})["entry_id"]
        _post(api, f"/cases/{cases[1]}/stories/{withdrawn}/consent-withdrawal", {"withdrawn_by": "person"})


def _api_report(served: Served, auth: TokenFactory) -> Any:
    start, end = datetime.combine(FIRST, time(), UTC), datetime.combine(LAST + timedelta(days=1), time(), UTC)
    with served.api(auth("governance", GOVERNANCE)) as api:
        answer = api.get(
            "/service/report", params={"from": start.isoformat(), "to": end.isoformat(), "service": SERVICE}
        )
    assert answer.status_code == 200, answer.text
    return answer.json()


OUTCOME_COLUMNS = (
    "people",
    "recovered",
    "reliably_improved",
    "no_reliable_change",
    "reliably_deteriorated",
    "too_few_readings",
)


def test_the_report_shows_the_api_s_figures_with_small_counts_suppressed_and_no_withdrawn_story(
    *,
    page: Page,
    oidc_provider: LocalOpenIDProvider,
    served: Served,
    auth: TokenFactory,
    report_data: None,
    tmp_path: Path,
) -> None:
    sign_in(page, oidc_provider, GOVERNANCE, role="governance")
    page.goto(f"/app/report?{PERIOD}")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Outcomes report")
    api = _api_report(served, auth)
    (expected,) = api["outcomes_by_instrument"]
    assert expected["reliably_improved"] == "<5"  # three people
    cells = page.locator("#outcomes-by-instrument tbody tr").first.locator("td").all_inner_texts()
    assert cells[: len(OUTCOME_COLUMNS)] == [str(expected[c]) for c in OUTCOME_COLUMNS]
    expect(page.locator("main")).to_contain_text(KEPT)
    expect(page.locator("main")).not_to_contain_text(WITHDRAWN)
    assert_accessible(page)

    rows = list(csv.DictReader(io.StringIO(_download(page, "Outcomes by instrument (CSV)"))))
    assert [{c: r[c] for c in OUTCOME_COLUMNS} for r in rows] == [
        {c: str(expected[c]) for c in OUTCOME_COLUMNS}
    ]
    stories = _download(page, "Stories (CSV)")
    assert KEPT in stories
    assert WITHDRAWN not in stories

    _print_to_pdf(page, tmp_path)


def _download(page: Page, link: str) -> str:
    """What a download link on the page gives, fetched with the page's session (headless Chromium
    cancels downloads to disk here)."""
    href = page.get_by_role("link", name=link).get_attribute("href")
    assert href is not None
    answer = page.request.get(href)
    assert answer.status == 200
    assert answer.headers["content-type"].startswith("text/csv")
    assert answer.headers["content-disposition"].startswith("attachment;")
    return answer.text()


def _print_to_pdf(page: Page, folder: Path) -> None:
    """The browser's print is the PDF: every page renders to a PNG with something drawn on it, and the
    text holds the suppressed count and never the withdrawn story."""
    pdftoppm, pdftotext = shutil.which("pdftoppm"), shutil.which("pdftotext")
    assert pdftoppm, "poppler-utils is not installed (.ci/run installs it)"
    assert pdftotext
    pdf = folder / "report.pdf"
    page.emulate_media(media="print")
    page.pdf(path=str(pdf), format="A4", print_background=True)
    subprocess.run([pdftoppm, "-png", "-r", "40", str(pdf), str(folder / "page")], check=True)
    pngs = sorted(folder.glob("page-*.png"))
    assert pngs
    for png in pngs:
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    subprocess.run([pdftoppm, "-gray", "-r", "20", str(pdf), str(folder / "grey")], check=True)
    greys = sorted(folder.glob("grey-*.pgm"))
    assert len(greys) == len(pngs)
    for grey in greys:
        pixels = grey.read_bytes().split(b"\n", 3)[3]
        assert min(pixels) < 128, f"{grey.name} is blank"
    text = subprocess.run([pdftotext, str(pdf), "-"], check=True, capture_output=True, text=True).stdout
    assert "<5" in text
    assert KEPT[:20] in text
    assert WITHDRAWN[:20] not in text
    assert "Make the report" not in text  # the form is not printed


def test_the_report_is_for_governance_only(
    page: Page, oidc_provider: LocalOpenIDProvider, console_errors: ConsoleErrors
) -> None:
    console_errors.allow_status(403)
    sign_in(page, oidc_provider, CLINICIAN)
    answer = page.goto(f"/app/report?{PERIOD}")
    assert answer is not None
    assert answer.status == 403
