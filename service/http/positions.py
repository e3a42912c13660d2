"""Read-your-writes: how far each projection has got, and waiting (bounded) for a position."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterable

import asyncpg

from projections.schema import POSITIONS_CHANNEL

__all__ = ["PositionWatcher", "ProjectionBehind"]

log = logging.getLogger("waymark.positions")


class ProjectionBehind(Exception):
    """A projection has not reached the position a reader asked for within the wait allowed."""

    def __init__(self, position: int) -> None:
        super().__init__(f"projection behind position {position}")
        self.position = position


class PositionWatcher:
    """Follows the positions the projectors commit: re-read from ``read_meta.generations`` when a
    projector's NOTIFY says one moved, and every ``poll_seconds`` in case a notification is missed.

    A notification is only a hint to look: any login may NOTIFY the channel with any payload, and a
    position taken from the payload would let it make reads claim writes they have not seen.

    With a read replica, ``dsn`` is the replica (positions are read where the reads are served, so a
    position reached there means the replica has replayed the rows too) and ``hints_dsn`` the primary:
    a standby cannot LISTEN. A hint arrives before the replica has replayed the commit, so while a
    reader waits the replica is read again every ``behind_poll_seconds``.
    """

    def __init__(
        self,
        dsn: str,
        *,
        hints_dsn: str | None = None,
        poll_seconds: float = 1.0,
        wait_seconds: float = 2.0,
        behind_poll_seconds: float = 0.01,
    ) -> None:
        self.dsn, self.poll_seconds, self.wait_seconds = dsn, poll_seconds, wait_seconds
        self.hints_dsn = hints_dsn or dsn
        self._replica = self.hints_dsn != dsn
        self.behind_poll_seconds = behind_poll_seconds
        self.positions: dict[str, int] = {}
        self._moved = asyncio.Event()
        self._hinted = asyncio.Event()
        self._waiting = 0
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Begin following positions in the background."""
        self._task = asyncio.create_task(self._follow())

    async def stop(self) -> None:
        """Stop following."""
        task = self._task
        if task is None:
            return
        # Cancelled again until it ends: on Python 3.11 asyncio.wait_for swallows a cancellation that
        # arrives as its inner wait completes, and the follower would carry on for another poll.
        for _ in range(50):
            task.cancel()
            await asyncio.wait({task}, timeout=0.1)
            if task.done():
                break
        if task.done() and not task.cancelled():
            task.exception()  # retrieved, so asyncio does not report it as never retrieved

    async def wait_for(self, names: Iterable[str], position: int, wait_seconds: float | None = None) -> None:
        """Return once every named projection has applied ``position`` (waiting at most ``wait_seconds``,
        by default the watcher's own); else ProjectionBehind."""
        names = list(names)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + (self.wait_seconds if wait_seconds is None else wait_seconds)
        self._waiting += 1
        try:
            while min((self.positions.get(name, 0) for name in names), default=0) < position:
                moved = self._moved
                remaining = deadline - loop.time()
                if remaining <= 0:
                    raise ProjectionBehind(position)
                if self._replica:
                    self._hinted.set()  # a replica replays behind the hints: look again now
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(moved.wait(), timeout=min(remaining, self.poll_seconds))
        finally:
            self._waiting -= 1

    def _advance(self, name: str, position: int) -> None:
        if position > self.positions.get(name, 0):
            self.positions[name] = position
            self._moved.set()
            self._moved = asyncio.Event()

    def _on_notify(self, _conn: object, _pid: int, _channel: str, _payload: object) -> None:
        self._hinted.set()

    async def _follow(self) -> None:
        while True:
            try:
                async with contextlib.AsyncExitStack() as connections:
                    conn = await self._connect(connections, self.dsn)
                    hints = await self._connect(connections, self.hints_dsn) if self._replica else conn
                    await hints.add_listener(POSITIONS_CHANNEL, self._on_notify)
                    while True:
                        # Cleared before reading: a notification during the read means read again.
                        self._hinted.clear()
                        await self._poll(conn)
                        with contextlib.suppress(TimeoutError):
                            await asyncio.wait_for(self._hinted.wait(), timeout=self._next_look())
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as error:
                log.warning("position watcher: %s; reconnecting", type(error).__name__)
                await asyncio.sleep(self.poll_seconds)

    def _next_look(self) -> float:
        """How long to wait for a hint before reading the positions again."""
        return self.behind_poll_seconds if self._replica and self._waiting else self.poll_seconds

    @staticmethod
    async def _connect(connections: contextlib.AsyncExitStack, dsn: str) -> asyncpg.Connection:
        conn = await asyncpg.connect(dsn)
        # Closed at once, not gracefully: a graceful close after a cancelled query could wait for
        # ever, and shutting down hung (a LISTEN connection holds nothing to keep).
        connections.callback(conn.terminate)
        return conn

    async def _poll(self, conn: asyncpg.Connection) -> None:
        # The app prepares the read side before it starts the watcher, so the table is there.
        rows = await conn.fetch("SELECT name, position FROM read_meta.generations WHERE status = 'live'")
        for row in rows:
            self._advance(row["name"], row["position"])
