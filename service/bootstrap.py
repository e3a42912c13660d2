"""The composition root: one place that builds the database, the write side and the HTTP app."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from service.database import DatabaseAddress, EmbeddedPostgres, ensure_database
from service.settings import Settings
from service.write.application import CaseRecords
from service.write.persistence import eventsourcing_env

__all__ = ["Runtime"]

log = logging.getLogger("waymark")


@dataclass
class Runtime:
    """A running Waymark: its settings, where its database is, and the case records application."""

    settings: Settings
    address: DatabaseAddress
    records: CaseRecords
    embedded: EmbeddedPostgres | None = None

    @classmethod
    def start(cls, settings: Settings, *, database: str | None = None) -> Runtime:
        """Reach (or start) PostgreSQL and open the case records application.

        ``database`` names another database on the same server (created if missing), as the
        benchmarks do to keep their data apart.
        """
        embedded = None
        if settings.database_url:
            address = DatabaseAddress.from_url(settings.database_url)
        else:
            embedded = EmbeddedPostgres(settings.data_dir / "pg")
            address = embedded.start()  # the server's maintenance database
            database = database or "waymark"
            log.info("embedded PostgreSQL running in %s", embedded.pgdata)
        if database is not None:
            address = ensure_database(address, database)
        records = CaseRecords(
            eventsourcing_env(
                address,
                pool_size=settings.db_pool_size,
                overflow=settings.db_pool_overflow,
                connect_timeout=settings.db_connect_timeout,
            )
        )
        return cls(settings, address, records, embedded)

    def close(self) -> None:
        """Close connections, and stop the embedded server if this runtime started it."""
        self.records.close()
        if self.embedded is not None:
            self.embedded.stop()
