"""The live projector: for each read model, one leader (a PostgreSQL advisory lock) tails the
events table in batches, woken by the library's NOTIFY, with a poll as fallback. An event a model
cannot apply is parked (``projections.parking``): it never holds the projection up."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import Sequence

import asyncpg

from projections.generations import live_generation, prepare_read_side, step
from projections.models import ReadModel
from projections.rebuild import rebuild
from projections.schema import EVENTS_CHANNEL, key_of

__all__ = ["Projector"]

_TRANSIENT = (
    OSError,
    asyncpg.InterfaceError,
    asyncpg.PostgresConnectionError,
    asyncpg.OperatorInterventionError,  # shutting down, starting up, a statement cancelled
    asyncpg.TransactionRollbackError,  # a deadlock or serialisation failure
    asyncpg.LockNotAvailableError,
    asyncpg.InsufficientResourcesError,  # out of memory or disk, too many connections
)
"""Errors that mean PostgreSQL is unreachable or busy for now: retry soon (nothing is parked)."""

log = logging.getLogger("waymark.projector")


class Projector:
    """Keeps every read model up to date; several processes may run one, only one applies each model."""

    def __init__(
        self,
        dsn: str,
        models: Sequence[ReadModel],
        *,
        batch_size: int = 500,
        poll_seconds: float = 1.0,
        retry_seconds: float = 1.0,
    ) -> None:
        self.dsn, self.models = dsn, list(models)
        self.batch_size, self.poll_seconds, self.retry_seconds = batch_size, poll_seconds, retry_seconds
        self._set_up = False

    async def setup(self) -> None:
        """Create bookkeeping, a live generation and views for every model, and the reporting views
        (once: ``run`` calls it too, for callers that did not)."""
        if self._set_up:
            return
        conn = await asyncpg.connect(self.dsn)
        try:
            await prepare_read_side(conn, self.models)
        finally:
            await conn.close()
        self._set_up = True

    async def run(self, stop: asyncio.Event) -> None:
        """Run until ``stop`` is set: one task per model."""
        await self.setup()
        async with asyncio.TaskGroup() as tasks:
            for model in self.models:
                tasks.create_task(self._keep_running(model, stop))

    async def _keep_running(self, model: ReadModel, stop: asyncio.Event) -> None:
        while not stop.is_set():
            pause = self.retry_seconds
            try:
                await self._lead(model, stop)
            except _TRANSIENT as error:
                log.warning("projection %s: %s; retrying", model.name, type(error).__name__)
            except Exception as error:  # not an event's fault (those are parked): the read side's own
                # A table missing, a privilege revoked: nothing can be applied until it is fixed, so
                # the projection waits at its position, says so in read_meta.generations, and tries
                # again after a while. The error's type only: never its text.
                log.error("projection %s stalled: %s", model.name, type(error).__name__)  # noqa: TRY400
                await self._note_stall(model, type(error).__name__)
                pause = self.retry_seconds * 30
            await _wait(stop, pause)

    async def _note_stall(self, model: ReadModel, reason: str) -> None:
        with contextlib.suppress(*_TRANSIENT):
            conn = await asyncpg.connect(self.dsn)
            try:
                await conn.execute(
                    "UPDATE read_meta.generations SET stalled = $2 WHERE name = $1 AND status = 'live'",
                    model.name,
                    reason,
                )
            finally:
                await conn.close()

    async def _lead(self, model: ReadModel, stop: asyncio.Event) -> None:
        """Become the model's leader (waiting as a standby meanwhile), then tail the log."""
        # The application name shows in pg_stat_activity which process leads which projection.
        conn = await asyncpg.connect(
            self.dsn, server_settings={"application_name": f"waymark-projector:{os.getpid()}"}
        )
        try:
            while not await conn.fetchval("SELECT pg_try_advisory_lock($1)", key_of(model.name)):
                if await _wait(stop, self.retry_seconds):
                    return
            log.info("projection %s: leading", model.name)
            live = await live_generation(conn, model)
            if live is not None and live["layout"] != model.layout():
                log.warning("projection %s: table layout changed, rebuilding", model.name)
                await rebuild(self.dsn, model)
            await self._tail(conn, model, stop)
        finally:
            with contextlib.suppress(Exception):
                await conn.close()

    async def _tail(self, conn: asyncpg.Connection, model: ReadModel, stop: asyncio.Event) -> None:
        woken = asyncio.Event()
        await conn.add_listener(EVENTS_CHANNEL, lambda *_: woken.set())
        while not stop.is_set():
            woken.clear()
            if await step(conn, model, "live", self.batch_size) >= self.batch_size:
                continue
            wait = asyncio.ensure_future(woken.wait())
            stopping = asyncio.ensure_future(stop.wait())
            await asyncio.wait(
                {wait, stopping}, timeout=self.poll_seconds, return_when=asyncio.FIRST_COMPLETED
            )
            wait.cancel()
            stopping.cancel()


async def _wait(stop: asyncio.Event, seconds: float) -> bool:
    """Sleep up to ``seconds``; True if ``stop`` was set meanwhile."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=seconds)
    return stop.is_set()
