"""The read side's connections: one pool for reads of a person's record, a smaller one for
service-level queries, so a clinician's read never queues behind reports; and the read time limit.

The limit is kept by the service: a query still running at the limit is cancelled (asyncpg sends
PostgreSQL a cancel request and waits for the connection to settle) and the request answers 503.
PostgreSQL's own ``statement_timeout`` is only a backstop, a second later, for a query whose client
went away: when it expires while the server describes a new statement, PostgreSQL sends the error
right behind the description, before the client has asked to execute it; asyncpg has then finished
the prepare step and takes the stray error for a protocol fault ("cannot switch to state 12;
another operation (2) is in progress"), which answered 500.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass

import asyncpg

from projections.queries import Reader
from service.settings import Settings

__all__ = ["QueryTooLong", "ReadPools"]

log = logging.getLogger("waymark.reads")
BACKSTOP_MS = 1000
"""How long after the service's own limit PostgreSQL cancels a statement by itself."""


class QueryTooLong(Exception):
    """A projection query ran past the read time limit, or needed more temporary space than a read
    may use (HTTP 503)."""


@dataclass(frozen=True)
class ReadPools:
    """Connections for reading projections, and the time limit every read keeps."""

    person_pool: asyncpg.Pool
    """Reads of one person's record (trajectory, learning log): what a clinician waits on."""
    service_pool: asyncpg.Pool
    """Reads across cases (service learning, SPC, review impact, the audit trail)."""
    limit_seconds: float
    export_timeout_ms: int = 600_000
    """How long an export's statement may run (set on its connection: it streams, past the read limit)."""

    @classmethod
    async def open(cls, dsn: str, settings: Settings) -> ReadPools:
        """Open both pools with the read side's server settings."""
        limits = server_settings(settings)
        try:
            person = await _pool(dsn, settings.read_pool_size, limits)
        except asyncpg.InsufficientPrivilegeError:
            # temp_file_limit is a superuser setting unless the role was granted it (PostgreSQL 15+).
            log.warning(
                "temp_file_limit is not in force on the read side: the database role may not set it "
                "(GRANT SET ON PARAMETER temp_file_limit TO <role>)"
            )
            limits = server_settings(settings, temp_files=False)
            person = await _pool(dsn, settings.read_pool_size, limits)
        service = await _pool(dsn, settings.service_pool_size, limits)
        return cls(person, service, settings.read_timeout_ms / 1000, settings.export_timeout_ms)

    async def close(self) -> None:
        """Close both pools."""
        await asyncio.gather(self.person_pool.close(), self.service_pool.close())

    @contextlib.asynccontextmanager
    async def within_limit(self) -> AsyncIterator[None]:
        """Cancel what runs inside once it passes the read time limit, and raise QueryTooLong; a
        query that would spill more than temp_file_limit is over the read side's limits too (time to
        action for every service's year spilled past it at 10M events: a 500 until then)."""
        try:
            async with asyncio.timeout(self.limit_seconds):
                yield
        except TimeoutError:
            raise QueryTooLong from None
        except asyncpg.ConfigurationLimitExceededError as error:
            log.warning("a read passed a limit of the read side: %s", error)
            raise QueryTooLong from None

    @contextlib.asynccontextmanager
    async def person(self) -> AsyncIterator[Reader]:
        """A connection for reading one person's record, within the limit."""
        async with self.within_limit(), self.person_pool.acquire() as conn:
            yield conn

    @contextlib.asynccontextmanager
    async def service(self) -> AsyncIterator[Reader]:
        """A connection for a service-level query, within the limit."""
        async with self.within_limit(), self.service_pool.acquire() as conn:
            yield conn


def server_settings(settings: Settings, *, temp_files: bool = True) -> dict[str, str]:
    """What every read connection sets: no JIT, a plan per call, memory and temporary file limits."""
    values = {
        # JIT compiling pays off for long analytical queries; for these it only adds latency.
        "jit": "off",
        # Optional filters ("$3 IS NULL OR service = $3") make a generic plan ignore the service
        # index; a plan per call costs well under a millisecond here.
        "plan_cache_mode": "force_custom_plan",
        "statement_timeout": str(settings.read_timeout_ms + BACKSTOP_MS),
        "work_mem": f"{settings.read_work_mem_kb}kB",
        # A date taken from a time (a period's first day, an export's cut) is the UTC one whatever
        # the server's zone, and CSV and Parquet exports write times alike.
        "TimeZone": "UTC",
    }
    if temp_files:
        values["temp_file_limit"] = f"{settings.read_temp_file_limit_kb}kB"
    return values


async def _pool(dsn: str, size: int, limits: dict[str, str]) -> asyncpg.Pool:
    return await asyncpg.create_pool(dsn, min_size=1, max_size=size, server_settings=limits)
