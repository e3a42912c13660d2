"""Queries over the read models (asyncpg), each answering one user question."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from datetime import timedelta
from typing import Any, Protocol, TypeAlias

import asyncpg
from asyncpg.pool import PoolConnectionProxy

__all__ = ["Connect", "Reader", "RowLike", "days", "in_period"]

Reader: TypeAlias = "asyncpg.Connection[asyncpg.Record] | PoolConnectionProxy[asyncpg.Record]"
"""A connection to read projections with: a plain connection or one borrowed from a pool."""
Connect: TypeAlias = "Callable[[], AbstractAsyncContextManager[Reader]]"
"""Where a query that reads on more than one connection at once gets each (the service's read
pool, within the read limit; or a pool's ``acquire``)."""


class RowLike(Protocol):
    """A row read by column name: an asyncpg record, or a dict shaped like one (a replay's rows)."""

    def __getitem__(self, key: str, /) -> Any: ...


def in_period(alias: str, service_alias: str | None = None) -> str:
    """The filter every period query shares: ``occurred_at`` in [$1, $2), and the service $3 if given."""
    service = service_alias or alias
    return (
        f"{alias}.occurred_at >= $1 AND {alias}.occurred_at < $2"
        f" AND ($3::text IS NULL OR {service}.service = $3)"
    )


def days(delta: timedelta) -> float:
    """A duration in days, to the 0.1 day the answers show."""
    return round(delta.total_seconds() / 86400, 1)
