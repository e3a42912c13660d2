"""The ``audit`` suite: ``waymark audit verify`` over the benchmark database's whole log, beside a raw
read of the same rows with the same cursor (no hashing), so the ratio is the cost of verifying."""

from __future__ import annotations

import time

import psycopg

from service.database import DatabaseAddress
from service.tools.bench.report import Figure, Report
from service.write.checkpoints import checkpoints, verify_chain

__all__ = ["run_audit"]

_READ_ALL = "SELECT notification_id, originator_id, originator_version, topic, state FROM case_records_events"


def _raw_read(address: DatabaseAddress) -> float:
    """Entries a second, reading every stored entry in order through a server-side cursor."""
    started, count = time.perf_counter(), 0
    with (
        psycopg.connect(**address.connect_kwargs()) as conn,
        conn.transaction(),
        conn.cursor("raw") as cursor,
    ):
        cursor.itersize = 10_000
        cursor.execute(_READ_ALL + " ORDER BY notification_id")
        for _ in cursor:
            count += 1
    return count / (time.perf_counter() - started)


def _verify(address: DatabaseAddress) -> float:
    """Entries a second, verifying the whole chain (no checkpoints: every link is recomputed)."""
    started = time.perf_counter()
    verdict = verify_chain(address, None, checkpoints(address))
    if verdict.broken is not None:
        raise RuntimeError(f"the benchmark database's chain is broken at {verdict.broken.position}")
    return verdict.checked / (time.perf_counter() - started)


def run_audit(address: DatabaseAddress, report: Report, runs: int) -> None:
    """Verify the whole chain ``runs`` times, each beside a raw read."""
    raw, verified = [], []
    for _ in range(runs):
        raw.append(_raw_read(address))
        verified.append(_verify(address))
    report.add(
        Figure(
            "waymark audit verify",
            "entries/s",
            verified,
            raw,
            "raw read of every entry, same cursor",
            target=">= 100,000 entries/s",
        )
    )
