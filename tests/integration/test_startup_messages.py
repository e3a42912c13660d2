"""What ``waymark`` prints when it starts: never a bearer token; the demo sign-in address only for the
embedded demo database; and a one-line error (never a traceback) for a setting it cannot work with."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from service.database import DatabaseAddress
from service.tools.processes import free_port
from tests.support.databases import query
from tests.support.processes import WAYMARK, Server

pytestmark = pytest.mark.slow  # starts the waymark command once per case: about 30 s

TOKEN_SHAPED = re.compile(r"eyJ[\w-]+\.eyJ[\w-]+\.[\w-]+")
"""A JWT as printed: base64url header and claims (both JSON objects, so starting ``eyJ``), signature."""

SECRETS = ("WAYMARK_JWT_SECRET", "WAYMARK_JWT_PUBLIC_KEY", "WAYMARK_JWT_PUBLIC_KEY_FILE")


def _env(**settings: str) -> dict[str, str]:
    """This process's environment without any database or signing-key setting, plus ``settings``."""
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", *SECRETS}}
    return env | settings


def _run(command: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run a ``waymark`` command to its end (it is expected to fail) and keep what it printed."""
    command = [WAYMARK, *command]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=60, check=False)


def _served_output(env: dict[str, str], tmp: Path, *options: str) -> str:
    """Start ``waymark serve``, wait until it is ready, stop it, and return all it printed."""
    port = free_port()
    log = tmp / f"serve-{port}.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [WAYMARK, "serve", "--port", str(port), *options], env=env, stdout=sink, stderr=subprocess.STDOUT
        )
    server = Server(process, port, log)
    try:
        server.wait_ready()
    finally:
        server.stop(signal.SIGTERM)
    return log.read_text(errors="replace")


@pytest.fixture
def embedded_data_dir() -> Iterator[Path]:
    """A data directory its embedded PostgreSQL's system user can reach (not under a private home)."""
    with tempfile.TemporaryDirectory(prefix="waymark-serve-", dir="/tmp") as tmp:
        yield Path(tmp)


@pytest.mark.parametrize("demo", [[], ["--demo"]], ids=["default", "demo"])
def test_serve_prints_no_token_when_the_database_is_external(
    fresh_database: DatabaseAddress, tmp_path: Path, demo: list[str]
) -> None:
    env = _env(DATABASE_URL=fresh_database.url, WAYMARK_JWT_SECRET="a-secret-for-this-test-only")
    output = _served_output(env, tmp_path, *demo)
    assert "is starting at" in output
    assert not TOKEN_SHAPED.search(output)


def test_serve_prints_the_demo_sign_in_address_for_the_embedded_demo_database_only(
    embedded_data_dir: Path,
) -> None:
    env = _env()
    without_demo = _served_output(env, embedded_data_dir, "--data-dir", str(embedded_data_dir), "--no-demo")
    with_demo = _served_output(env, embedded_data_dir, "--data-dir", str(embedded_data_dir))
    assert "/app/sign-in" not in without_demo
    assert "Loaded" in with_demo
    assert re.search(r"Sign in as a demo user at http://127\.0\.0\.1:\d+/app/sign-in", with_demo)
    assert not TOKEN_SHAPED.search(without_demo + with_demo)


def test_serve_without_a_signing_key_for_an_external_database_says_so_in_one_line(
    empty_database: DatabaseAddress,
) -> None:
    done = _run(["serve", "--port", str(free_port())], _env(DATABASE_URL=empty_database.url))
    assert done.returncode == 2
    assert done.stdout == ""
    assert len(done.stderr.strip().splitlines()) == 1
    assert "WAYMARK_JWT_SECRET" in done.stderr
    # It stopped before touching the database.
    assert not query(empty_database, "SELECT 1 FROM pg_tables WHERE schemaname = 'public'")


COMMANDS = [
    ["serve", "--no-demo"],
    ["project"],
    ["projections", "status"],
    ["projections", "rebuild", "all"],
    ["demo", "--people", "1"],
    ["bench", "lag", "--events", "1"],
    ["db", "grant"],
    ["db", "rotate-pseudonym-key"],
]


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_a_malformed_database_url_is_a_one_line_error(command: list[str]) -> None:
    url = "postgresql://waymark:do-not-print-me@db:not-a-port/waymark"
    env = _env(DATABASE_URL=url, WAYMARK_JWT_SECRET="a-secret-for-this-test-only")
    done = _run(command, env)
    assert done.returncode == 2
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert "DATABASE_URL" in done.stderr
    assert "do-not-print-me" not in done.stderr


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_an_unreachable_database_is_a_one_line_error(command: list[str]) -> None:
    url = f"postgresql://waymark@127.0.0.1:{free_port()}/waymark"
    env = _env(DATABASE_URL=url, WAYMARK_JWT_SECRET="a-secret-for-this-test-only")
    done = _run(command, env)
    assert done.returncode == 1
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert "PostgreSQL" in done.stderr
