"""What operators get: one JSON log line per request (who, route, status, duration, request id) and
Prometheus metrics at /metrics (latency by route, entries by kind, rule refusals, projection positions
and lag, pool use), optionally behind a token of their own."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import replace

import pytest
from litestar.testing import AsyncTestClient
from prometheus_client.parser import text_string_to_metric_families

from service.bootstrap import Runtime
from service.http.app import create_app
from service.settings import Settings
from tests.api.helpers import GOAL, REVIEW, Client, assert_problem, open_case, prepare, user
from tests.support.logs import captured_logs
from tests.support.tokens import TokenFactory

pytestmark = pytest.mark.usefixtures("projector")  # its tests read projections

REVIEWS_ROUTE = "/cases/{case_id}/reviews"
Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


async def scrape(client: Client, headers: dict[str, str] | None = None) -> Samples:
    response = await client.get("/metrics", headers=headers or {})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


async def test_a_write_is_counted_by_kind_and_timed_by_route_template(
    client: Client, auth: TokenFactory
) -> None:
    clinician = auth("clinician", user())
    case_id = await open_case(client, clinician)
    before = await scrape(client)
    written = await client.post(f"/cases/{case_id}/reviews", json=REVIEW, headers=clinician)
    assert written.status_code == 201, written.text
    after = await scrape(client)

    kind = {"kind": "review_recorded"}
    assert (
        value(after, "waymark_entries_written_total", **kind)
        == value(before, "waymark_entries_written_total", **kind) + 1
    )
    timed = {"route": REVIEWS_ROUTE, "method": "POST", "status": "201"}
    assert (
        value(after, "waymark_http_request_duration_seconds_count", **timed)
        == value(before, "waymark_http_request_duration_seconds_count", **timed) + 1
    )
    assert not any(case_id in str(labels) for _, labels in after), "no label names a case"


async def test_a_rule_refusal_is_counted_by_rule_and_a_404_as_unmatched(
    client: Client, auth: TokenFactory
) -> None:
    write = await prepare(client, auth, "goals")
    await write.entry("closure", {"reason": "transferred"})
    before = await scrape(client)
    assert_problem(await write.send(), 409, "/problems/case-closed")
    missing = await client.get(f"/no-such-place/{uuid.uuid4()}", headers=write.clinician)
    assert missing.status_code == 404
    after = await scrape(client)

    assert (
        value(after, "waymark_rule_refusals_total", rule="case-closed")
        == value(before, "waymark_rule_refusals_total", rule="case-closed") + 1
    )
    refused = {"type": "case-closed", "status": "409"}
    assert (
        value(after, "waymark_problems_total", **refused)
        == value(before, "waymark_problems_total", **refused) + 1
    )
    unmatched = {"route": "unmatched", "method": "GET", "status": "404"}
    assert value(after, "waymark_http_request_duration_seconds_count", **unmatched) >= 1


async def test_projection_positions_lag_and_pools_are_read_at_each_scrape(
    client: Client, auth: TokenFactory
) -> None:
    clinician = auth("clinician", user())
    case_id = await open_case(client, clinician)
    position = (await client.post(f"/cases/{case_id}/goals", json=GOAL, headers=clinician)).json()["position"]
    # Read-your-writes: once the learning log has this position, the watcher has seen it too.
    read = await client.get(f"/cases/{case_id}/learning-log?min_position={position}", headers=clinician)
    assert read.status_code == 200
    samples = await scrape(client)

    head = value(samples, "waymark_log_position")
    assert head >= position
    projections = {
        dict(labels)["projection"] for name, labels in samples if name == "waymark_projection_position"
    }
    assert {"care", "trajectory", "audit"} <= projections
    for name in projections:
        applied = value(samples, "waymark_projection_position", projection=name)
        assert value(samples, "waymark_projection_lag_events", projection=name) == max(head - applied, 0)
    assert value(samples, "waymark_projection_position", projection="care") >= position
    for pool in ("person_reads", "service_reads", "writes"):
        assert (value(samples, "waymark_pool_connections", pool=pool, state="idle")) >= 0
        assert ("waymark_pool_connections", frozenset({"pool": pool, "state": "in_use"}.items())) in samples


@pytest.fixture
async def guarded(settings: Settings, runtime: Runtime) -> AsyncIterator[tuple[Client, str]]:
    """The app with a metrics token set."""
    token = uuid.uuid4().hex
    app = create_app(
        Runtime(replace(settings, metrics_token=token), runtime.address, runtime.records), run_projector=False
    )
    async with AsyncTestClient(app=app) as test_client:
        yield test_client, token


async def test_with_a_metrics_token_only_a_scraper_sending_it_reads_the_metrics(
    guarded: tuple[Client, str], auth: TokenFactory
) -> None:
    client, token = guarded
    assert_problem(await client.get("/metrics"), 401)
    assert_problem(await client.get("/metrics", headers={"Authorization": f"Bearer {token}x"}), 401)
    assert_problem(await client.get("/metrics", headers=auth("governance", "g-metrics")), 401)
    samples = await scrape(client, {"Authorization": f"Bearer {token}"})
    assert value(samples, "waymark_log_position") >= 0


async def test_each_request_ends_with_one_json_line_saying_who_what_and_how_long(
    client: Client, auth: TokenFactory
) -> None:
    clinician_id = user()
    clinician = auth("clinician", clinician_id)
    with captured_logs() as logs:
        case_id = await open_case(client, clinician)
        answers = [
            await client.post(f"/cases/{case_id}/reviews", json=REVIEW, headers=clinician),
            await client.get(f"/cases/{case_id}", headers=clinician),
            await client.get(f"/cases/{case_id}"),
        ]
    lines = logs.requests()
    assert len(lines) == 4
    opened, reviewed, read, anonymous = lines
    assert (opened["route"], opened["method"], opened["status"]) == ("/cases", "POST", 201)
    assert (reviewed["route"], reviewed["status"]) == (REVIEWS_ROUTE, 201)
    assert (read["route"], read["status"]) == ("/cases/{case_id}", 200)
    for line in (opened, reviewed, read):
        assert (line["actor"], line["role"]) == (clinician_id, "clinician")
        assert line["duration_ms"] > 0
        assert line["level"] == "info"
        assert line["time"].endswith("Z")
    assert (anonymous["status"], anonymous["actor"], anonymous["role"]) == (401, None, None)
    ids = [line["request_id"] for line in lines]
    assert len(set(ids)) == 4
    assert [answer.headers["X-Request-ID"] for answer in answers] == ids[1:]
