"""The composition root: from one ``Settings``, where the database is (an embedded server started when
there is no DATABASE_URL), the write side only when asked, and the read side. Every entry point (the
commands, the ASGI module, the tests) builds Waymark's parts here rather than by hand."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass

from eventsourcing.postgres import PostgresFactory
from eventsourcing.utils import Environment
from litestar.config.app import AppConfig

from projections.models import MODELS
from projections.projector import Projector
from projections.queries.replayed import forget_case
from projections.sealed import use_keyring
from service.database import DatabaseAddress, EmbeddedPostgres, ensure_database
from service.http.positions import PositionWatcher
from service.http.reading import ReadPools
from service.pages import pages_plugin
from service.settings import Settings
from service.write.application import CaseRecords
from service.write.periodic import keep_checkpoints, periodic_checkpoints
from service.write.persistence import eventsourcing_env

__all__ = [
    "AppExtension",
    "Database",
    "ReadSide",
    "Runtime",
    "app_extensions",
    "projector",
    "read_side",
    "write_side",
]

log = logging.getLogger("waymark")

AppExtension = Callable[[AppConfig], AppConfig]
"""An ``on_app_init`` hook that adds routes, templates, middleware or state to the HTTP app."""


@dataclass
class Database:
    """Where Waymark's database is, and the embedded server if this process started it."""

    address: DatabaseAddress
    embedded: EmbeddedPostgres | None = None

    @classmethod
    def open(cls, settings: Settings, *, database: str | None = None, event_store: bool = False) -> Database:
        """Reach (or start) PostgreSQL. ``database`` names another database on the same server (created
        if missing), as the benchmarks do; ``event_store`` creates the events table if it is missing,
        for processes that only read it (the projector), without opening the write side."""
        embedded = None
        use_keyring(settings.sealing().keyring())  # the read side opens sealed entries with it
        if settings.database_url:
            address = DatabaseAddress.from_url(settings.database_url)
        else:
            embedded = EmbeddedPostgres(settings.data_dir / "pg")
            address = embedded.start()  # the server's maintenance database
            database = database or "waymark"
            log.info("embedded PostgreSQL running in %s", embedded.pgdata)
        opened = cls(address, embedded)
        try:
            if database is not None:
                opened.address = ensure_database(address, database)
            if event_store:
                _create_event_store(opened.address, settings)
        except BaseException:
            opened.close()
            raise
        return opened

    def close(self) -> None:
        """Stop the embedded server if this process started it."""
        if self.embedded is not None:
            self.embedded.stop()


def write_side(address: DatabaseAddress, settings: Settings) -> CaseRecords:
    """The write side: the case records application on ``address``, its pool sized by the settings."""
    records = CaseRecords(
        eventsourcing_env(
            address,
            pool_size=settings.db_pool_size,
            overflow=settings.db_pool_overflow,
            connect_timeout=settings.db_connect_timeout,
        ),
        keyring=settings.keyring(),
    )
    records.on_erased.append(forget_case)  # replays remembered from the text before it was erased
    return records


def _create_event_store(address: DatabaseAddress, settings: Settings) -> None:
    """The write side's tables, created if missing by the library's own recorder, without the
    application (no aggregate cache, no snapshot clean-up): the read side tails its events table."""
    env = eventsourcing_env(address, pool_size=1, overflow=0, connect_timeout=settings.db_connect_timeout)
    factory = PostgresFactory(Environment(CaseRecords.name, env))
    try:
        factory.application_recorder()
    finally:
        factory.close()


@dataclass
class Runtime:
    """A running Waymark with its write side: settings, where its database is, and the case records."""

    settings: Settings
    address: DatabaseAddress
    records: CaseRecords
    embedded: EmbeddedPostgres | None = None

    @classmethod
    def start(cls, settings: Settings, *, database: str | None = None) -> Runtime:
        """Reach (or start) PostgreSQL and open the case records application."""
        opened = Database.open(settings, database=database)
        settings = settings.sealing()
        try:
            records = write_side(opened.address, settings)
        except BaseException:
            opened.close()
            raise
        return cls(settings, opened.address, records, opened.embedded)

    def close(self) -> None:
        """Close connections, and stop the embedded server if this runtime started it."""
        self.records.close()
        if self.embedded is not None:
            self.embedded.stop()


def projector(address: DatabaseAddress, *, batch_size: int = 500) -> Projector:
    """The projector keeping every read model up to date."""
    return Projector(address.url, [model() for model in MODELS.values()], batch_size=batch_size)


@dataclass(frozen=True)
class ReadSide:
    """What requests read projections through: the read pools, and the positions the projectors reached."""

    reads: ReadPools
    positions: PositionWatcher


@contextlib.asynccontextmanager
async def read_side(
    settings: Settings, address: DatabaseAddress, *, run_projector: bool
) -> AsyncIterator[ReadSide]:
    """The read side for a serving process: read models set up, the projector running in this process
    (unless ``run_projector`` is off: it runs elsewhere), the read pools and the position watcher, on
    the read replica when there is one (``READ_DATABASE_URL``)."""
    stop = asyncio.Event()
    live = projector(address)
    await live.setup()
    task = asyncio.create_task(live.run(stop)) if run_projector else None
    signing = periodic_checkpoints(settings)
    signer = asyncio.create_task(keep_checkpoints(address, *signing, stop)) if signing else None
    served_from = settings.read_database_url or address.url
    reads = await ReadPools.open(served_from, settings)
    positions = PositionWatcher(
        served_from, hints_dsn=address.url, wait_seconds=settings.read_your_writes_wait_ms / 1000
    )
    await positions.start()
    try:
        yield ReadSide(reads, positions)
    finally:
        stop.set()
        await positions.stop()
        await reads.close()
        if task is not None:
            await task
        if signer is not None:
            await signer


def app_extensions(settings: Settings, *, demo: bool = False) -> Sequence[AppExtension]:
    """What the HTTP app serves beside the API: pages, reports and feeds each register one hook here.

    ``demo`` is true only for the embedded demo database (``waymark serve`` with demo data)."""
    return (pages_plugin(settings, demo_sign_in=demo),)
