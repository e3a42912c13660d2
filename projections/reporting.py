"""The reporting schema and its read-only role, installed (idempotently) over the ``read`` views."""

from __future__ import annotations

import logging
from importlib import resources

import asyncpg

__all__ = ["REPORTING_ROLE", "install_reporting"]

log = logging.getLogger("waymark.reporting")

REPORTING_ROLE = "waymark_reporting"
"""A NOLOGIN role with read access to the reporting views only; grant it to BI users."""


async def install_reporting(conn: asyncpg.Connection) -> None:
    """Create or refresh the reporting views, and the role that may read them (when permitted)."""
    script = resources.files("projections").joinpath("sql/reporting.sql").read_text()
    async with conn.transaction():
        await conn.execute(script)
    try:
        async with conn.transaction():
            await conn.execute(
                f"DO $$ BEGIN CREATE ROLE {REPORTING_ROLE} NOLOGIN;"
                " EXCEPTION WHEN duplicate_object THEN NULL; END $$"
            )
            await conn.execute(f"GRANT USAGE ON SCHEMA reporting TO {REPORTING_ROLE}")
            await conn.execute(f"GRANT SELECT ON ALL TABLES IN SCHEMA reporting TO {REPORTING_ROLE}")
            await conn.execute(f"GRANT EXECUTE ON FUNCTION reporting.pseudonym(uuid) TO {REPORTING_ROLE}")
    except asyncpg.InsufficientPrivilegeError:
        log.warning("no privilege to create role %s; ask a DBA to create it", REPORTING_ROLE)
