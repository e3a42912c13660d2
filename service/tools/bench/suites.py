"""The benchmark suites of ``waymark bench``: each adds figures (medians of runs, beside a baseline
from the same run) to the report."""

from __future__ import annotations

import asyncio
import secrets
import statistics
import uuid
from collections.abc import Callable
from typing import TypeVar

import asyncpg
from rich.console import Console

from events.values import Role
from service.bootstrap import Runtime
from service.http.auth import issue_token
from service.settings import Settings
from service.tools.bench.commands import (
    BENCH_CLINICIAN,
    http_closed_loop,
    http_open_loop,
    in_process,
    open_cases,
    raw_insert,
)
from service.tools.bench.pages import new_secret, run_page_reads, wait_projected
from service.tools.bench.reads import (
    long_case,
    queries_in_process,
    queries_over_http,
    reads_in_process,
    reads_over_http,
)
from service.tools.bench.rebuild import project_all
from service.tools.bench.replays import REPLAYS, moments, replays_in_process, replays_over_http
from service.tools.bench.report import Figure, Report
from service.tools.bench.serving import peak_rss_mb, projector, server
from service.tools.processes import Process

__all__ = ["Bench", "largest_service", "or_stop", "p"]


def p(values: list[float], q: int) -> float:
    """The q-th percentile (inclusive method)."""
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] if len(values) > 1 else values[0]


T = TypeVar("T")


class Bench:
    """Runs suites against one runtime (the benchmark database) and a served Waymark."""

    def __init__(
        self,
        runtime: Runtime,
        report: Report,
        console: Console,
        *,
        runs: int,
        seconds: float,
        requests: int = 200,
    ) -> None:
        self.runtime, self.report, self.console = runtime, report, console
        self.runs, self.seconds, self.requests = runs, seconds, requests
        # The servers under test get a secret made for this run, so tokens can be signed here.
        self.settings = Settings(database_url=runtime.address.url, jwt_secret=secrets.token_urlsafe(32))
        self.env = {"DATABASE_URL": runtime.address.url, "WAYMARK_JWT_SECRET": self.settings.jwt_secret or ""}
        self.peaks: dict[str, float] = {}

    def token(self, role: Role, sub: str = BENCH_CLINICIAN.id) -> str:
        return issue_token(self.settings, sub=sub, role=role, ttl_seconds=3600)

    def repeat(self, label: str, measure: Callable[[], T]) -> list[T]:
        """``measure`` once per run, saying which run is under way."""
        values = []
        for run in range(self.runs):
            self.console.print(f"{label}: run {run + 1}/{self.runs}")
            values.append(measure())
        return values

    def serve(self, kind: str) -> Process:
        self.console.print(f"starting Waymark on {kind}")
        return server(kind, self.env)

    def note_peak(self, name: str, process: Process) -> None:
        self.peaks[name] = max(self.peaks.get(name, 0.0), peak_rss_mb(process.popen.pid))

    def commands(self, kind: str) -> None:
        """One-event commands at 8 concurrent clients over HTTP, in process, and as raw inserts."""
        cases = open_cases(self.runtime.records, 64)
        process = self.serve(kind)
        try:
            token = self.token(Role.CLINICIAN)
            port = process.port or 0
            results = self.repeat(
                f"HTTP commands ({kind})",
                lambda: asyncio.run(http_closed_loop(port, token, cases, clients=8, seconds=self.seconds)),
            )
            steady = self.repeat(
                f"HTTP commands at 100/s ({kind})",
                lambda: asyncio.run(http_open_loop(port, token, cases, rate=100, seconds=self.seconds)),
            )
            self.note_peak("service", process)
        finally:
            process.stop()
        inside = self.repeat(
            "in-process commands",
            lambda: in_process(self.runtime.records, cases, threads=8, seconds=self.seconds),
        )
        raw = self.repeat(
            "raw inserts", lambda: raw_insert(self.runtime.address, threads=8, seconds=self.seconds)
        )
        rates = [rate for rate, _ in results]
        add = self.report.add
        add(
            Figure(
                f"HTTP commands, 8 clients ({kind})",
                "/s",
                rates,
                inside,
                "in-process Application",
                target=">= 0.5x in-process",
            )
        )
        add(Figure("in-process commands, 8 threads", "/s", inside, raw, "raw psycopg insert, same lock"))
        for q in (50, 99):
            latencies = [p(t.latencies_ms, q) for _, t in results]
            add(Figure(f"HTTP command p{q}, 8 clients ({kind})", "ms", latencies, higher_is_better=False))
        add(
            Figure(
                f"HTTP command p99 at a steady 100/s ({kind})",
                "ms",
                [p(t.latencies_ms, 99) for t in steady],
                [p(t.latencies_ms, 50) for t in steady],
                "p50 of the same runs",
                target="<= 25 ms",
                higher_is_better=False,
            )
        )
        errors = sum(1 for _, t in results for s in t.statuses if s != 201)
        self.report.notes.append(f"{kind}: {errors} non-201 answers during the command runs")

    def reads(self, kind: str, entries: int = 1000) -> None:
        """A case of 1,000 entries: the case and a page of its history, and the case replayed at 300
        moments of its life on either time axis (and its trajectory), over HTTP and in process."""
        case_id = open_cases(self.runtime.records, 1)[0]
        long_case(self.runtime.records, case_id, entries)
        at = moments(self.runtime.records, case_id, 300)
        process = self.serve(kind)
        try:
            token = self.token(Role.CLINICIAN)
            http = self.repeat(
                f"reads over HTTP ({kind})",
                lambda: (
                    asyncio.run(reads_over_http(process.port or 0, token, case_id, 300))
                    | asyncio.run(replays_over_http(process.port or 0, token, case_id, at))
                ),
            )
            self.note_peak("service", process)
        finally:
            process.stop()
        inside = self.repeat(
            "reads in process",
            lambda: (
                reads_in_process(self.runtime.records, case_id, 300)
                | replays_in_process(self.runtime.records, case_id, at)
            ),
        )
        failed = sum(1 for t in http for timed in t.values() for s in timed.statuses if s != 200)
        self.report.notes.append(f"{kind}: {failed} non-200 answers during the read and replay runs")
        labels = {"case": "GET /cases/{id}", "history": "GET /cases/{id}/history (100 entries)", **REPLAYS}
        for name, label in labels.items():
            self.report.add(
                Figure(
                    f"{label} p99, case of {entries:,}",
                    "ms",
                    [p(t[name].latencies_ms, 99) for t in http],
                    [p(t[name].latencies_ms, 99) for t in inside],
                    "in-process read p99",
                    target="<= 50 ms" if name.startswith("trajectory") else "<= 15 ms",
                    higher_is_better=False,
                )
            )

    def pages(self, kind: str, entries: int = 1000) -> None:
        """The record page of a case of 1,000 entries, beside the same case's JSON history (issue 10)."""
        case_id = open_cases(self.runtime.records, 1)[0]
        long_case(self.runtime.records, case_id, entries)
        head = self.runtime.records.recorder.max_notification_id() or 0
        secret = new_secret()
        watcher = projector(self.env)
        process = or_stop(watcher, lambda: server(kind, {**self.env, "WAYMARK_SESSION_SECRET": secret}))
        try:
            token, port = self.token(Role.CLINICIAN), process.port or 0
            wait_projected(port, token, case_id, head)
            runs = self.repeat(
                f"record page over HTTP ({kind})",
                lambda: run_page_reads(port, token=token, secret=secret, case_id=case_id, requests=200),
            )
            self.note_peak("service", process)
        finally:
            process.stop()
            watcher.stop()
        self.report.add(
            Figure(
                f"record page p99, case of {entries:,} ({kind})",
                "ms",
                [p(t["page"].latencies_ms, 99) for t in runs],
                [p(t["history"].latencies_ms, 99) for t in runs],
                "JSON history of the same 1,000 entries (2 x 500) p99",
                target="<= 50 ms",
                higher_is_better=False,
            )
        )
        self.report.add(
            Figure(
                f"GET /cases/{{id}}/trajectory p99, same case ({kind})",
                "ms",
                [p(t["trajectory"].latencies_ms, 99) for t in runs],
                target="- (the API's projection read; the page folds its own)",
                higher_is_better=False,
            )
        )
        errors = sum(1 for t in runs for name in t for s in t[name].statuses if s != 200)
        self.report.notes.append(f"{kind}: {errors} non-200 answers during the page runs")

    def queries(self, kind: str) -> None:
        """Projection queries on the large database, over HTTP and called in process."""
        # The targets are read from the projections, so they must hold the dataset first.
        asyncio.run(project_all(self.runtime.address.url))
        case_ids, service, actor = asyncio.run(self._query_targets())
        watcher = projector(self.env)
        process = or_stop(watcher, lambda: self.serve(kind))
        try:
            token = self.token(Role.GOVERNANCE, "bench-governance")
            http = self.repeat(
                f"queries over HTTP ({kind})",
                lambda: asyncio.run(
                    queries_over_http(
                        process.port or 0,
                        token=token,
                        case_ids=case_ids,
                        service=service,
                        actor=actor,
                        requests=self.requests,
                    )
                ),
            )
            self.note_peak("service", process)
            self.note_peak("projector", watcher)
        finally:
            process.stop()
            watcher.stop()
        inside = self.repeat(
            "queries in process",
            lambda: asyncio.run(
                queries_in_process(
                    self.runtime.address.url, self.settings, case_ids, service, actor, requests=self.requests
                )
            ),
        )
        for name in http[0]:
            self.report.add(
                Figure(
                    f"{name} p99 (HTTP)",
                    "ms",
                    [p(t[name].latencies_ms, 99) for t in http],
                    [p(t[name].latencies_ms, 99) for t in inside],
                    "same query in process",
                    target="<= 50 ms",
                    higher_is_better=False,
                )
            )

    async def _query_targets(self) -> tuple[list[uuid.UUID], str, str]:
        conn = await asyncpg.connect(self.runtime.address.url)
        try:
            cases = [
                r["case_id"]
                for r in await conn.fetch(
                    "SELECT case_id FROM read.cases WHERE service <> 'bench' ORDER BY case_id LIMIT 500"
                )
            ]
            service = await conn.fetchval(_LARGEST_SERVICE)
            actor = await conn.fetchval(
                "SELECT actor_id FROM read.audit_entries GROUP BY 1 ORDER BY count(*) DESC LIMIT 1"
            )
        finally:
            await conn.close()
        return cases, str(service), str(actor)

    def memory(self) -> None:
        """Peak resident memory of each process measured during the runs."""
        for name, peak in self.peaks.items():
            self.report.add(
                Figure(f"peak RSS, {name}", "MB", [peak], target="<= 300 MB", higher_is_better=False)
            )


_LARGEST_SERVICE = "SELECT service FROM read.cases GROUP BY 1 ORDER BY count(*) DESC LIMIT 1"


async def largest_service(dsn: str) -> str:
    """The service with the most cases: the one the period queries are measured for."""
    conn = await asyncpg.connect(dsn)
    try:
        return str(await conn.fetchval(_LARGEST_SERVICE))
    finally:
        await conn.close()


def or_stop(watcher: Process, start: Callable[[], Process]) -> Process:
    """Start the server, or stop the projector already started for it (a server that exits during
    start-up left the projector running after the bench had ended)."""
    try:
        return start()
    except BaseException:
        watcher.stop()
        raise
