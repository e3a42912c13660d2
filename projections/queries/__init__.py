"""Queries over the read models (asyncpg), each answering one user question."""

from __future__ import annotations

from typing import TypeAlias

import asyncpg
from asyncpg.pool import PoolConnectionProxy

__all__ = ["Reader"]

Reader: TypeAlias = "asyncpg.Connection[asyncpg.Record] | PoolConnectionProxy[asyncpg.Record]"
"""A connection to read projections with: a plain connection or one borrowed from a pool."""
