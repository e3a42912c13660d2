"""The read side's commands reach the database without opening the write application: `waymark
project`, `projections status|retry` and `db rotate-pseudonym-key` leave the write side's snapshots
alone (its start-up clean-up never runs from them) and, on a fresh database, find the events table
made for them."""

from __future__ import annotations

import os
import signal
import subprocess
import time
import uuid
from pathlib import Path

import pytest

from projections.models import MODELS
from service.database import DatabaseAddress
from tests.support.databases import case_records, query
from tests.support.processes import WAYMARK

pytestmark = pytest.mark.slow  # starts the waymark command once per case: about 10 s

STALE = "a-state-layout-of-long-ago"
"""A snapshot topic the write side drops when it opens (it cannot read such a snapshot)."""


def _environment(database: DatabaseAddress) -> dict[str, str]:
    return {**os.environ, "DATABASE_URL": database.url}


def _waymark(database: DatabaseAddress, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [WAYMARK, *args], env=_environment(database), capture_output=True, text=True, timeout=120, check=False
    )


def _stale_snapshot(database: DatabaseAddress) -> None:
    """The write side's tables, as a serving process leaves them, holding one stale snapshot."""
    case_records(database).close()
    query(
        database,
        "INSERT INTO case_records_snapshots (originator_id, originator_version, topic, state)"
        " VALUES (%s, 1, %s, '{}')",
        (uuid.uuid4(), STALE),
    )


def _stale_snapshots(database: DatabaseAddress) -> int:
    rows = query(database, "SELECT count(*) AS n FROM case_records_snapshots WHERE topic = %s", (STALE,))
    return int(rows[0]["n"])


@pytest.mark.parametrize(
    "command",
    [("projections", "status"), ("projections", "retry"), ("db", "rotate-pseudonym-key")],
    ids=" ".join,
)
def test_a_read_side_command_never_opens_the_write_side(
    fresh_database: DatabaseAddress, command: tuple[str, ...]
) -> None:
    _stale_snapshot(fresh_database)
    done = _waymark(fresh_database, *command)
    assert done.returncode == 0, done.stderr[-2000:]
    assert _stale_snapshots(fresh_database) == 1


LEADING = (
    "SELECT count(*) AS n FROM pg_stat_activity"
    " WHERE datname = current_database() AND application_name LIKE 'waymark-projector:%%'"
)
"""The projector's connections to this database: one per read model once it has set up."""


def test_the_projector_alone_never_opens_the_write_side(
    fresh_database: DatabaseAddress, tmp_path: Path
) -> None:
    _stale_snapshot(fresh_database)
    log = tmp_path / "project.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [WAYMARK, "project"], env=_environment(fresh_database), stdout=sink, stderr=subprocess.STDOUT
        )
    try:
        deadline = time.monotonic() + 60
        while query(fresh_database, LEADING)[0]["n"] < len(MODELS):
            assert process.poll() is None, log.read_text()[-2000:]
            assert time.monotonic() < deadline, "the projector never reached its read models"
            time.sleep(0.1)
        assert _stale_snapshots(fresh_database) == 1
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=60) == 0


def test_status_on_a_fresh_database_finds_the_events_table(empty_database: DatabaseAddress) -> None:
    done = _waymark(empty_database, "projections", "status")
    assert done.returncode == 0, done.stderr[-2000:]
    assert query(empty_database, "SELECT to_regclass('case_records_events') IS NOT NULL AS made")[0]["made"]
