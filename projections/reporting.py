"""The reporting schema and its read-only role, installed (idempotently) over the ``read`` views.

Pseudonyms are HMAC-SHA256 under a key kept in ``read_meta.pseudonym_key``: one key for every
process, surviving restarts, readable by the schema's owner (the service) and never by the reporting
role. Replacing the key (``rotate_pseudonym_key``) changes every pseudonym at once.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import random
import re
import secrets
import time
from importlib import resources

import asyncpg

from projections.changes import change_tables, store_entry_keys
from projections.schema import generation_schema

__all__ = [
    "REPORTING_ROLE",
    "grant_reporting",
    "hmac_pads",
    "install_reporting",
    "make_pseudonym_key",
    "rotate_pseudonym_key",
]

log = logging.getLogger("waymark.reporting")

REPORTING_ROLE = "waymark_reporting"
"""A NOLOGIN role with read access to the reporting views only; grant it to BI users."""

_SHA256_BLOCK = 64
_KEYED_HASH = "read_meta.keyed_hash(bytea, bytea, uuid)"


def hmac_pads(key: bytes) -> tuple[bytes, bytes]:
    """HMAC-SHA256's inner and outer keys (RFC 2104): the key zero-padded to one block, XOR 0x36 / 0x5C."""
    block = key.ljust(_SHA256_BLOCK, b"\0")
    return bytes(b ^ 0x36 for b in block), bytes(b ^ 0x5C for b in block)


async def install_reporting(conn: asyncpg.Connection) -> None:
    """Create or refresh the reporting views, then let the reporting role read them.

    Only when the script changed or the views are not as it left them (missing, dropped by a
    rebuild's switch with the ``read`` view under them, or replaced by another version): replacing a
    view waits for every reader of it, so a start-up during a long export would wait for the export,
    and every report queued behind the start-up with it."""
    script = resources.files("projections").joinpath("sql/reporting.sql").read_text()
    fingerprint = hashlib.sha256(script.encode()).hexdigest()
    views = re.findall(r"CREATE OR REPLACE VIEW ((?:reporting|read_meta)\.\w+)", script)
    if not await conn.fetchval(_INSTALLED, fingerprint, views):
        try:
            async with conn.transaction():
                await conn.execute(script)
                await conn.execute(_NOTE_INSTALLED, fingerprint, views)
        except asyncpg.InvalidTableDefinitionError:
            # A view's columns changed other than at its end, which CREATE OR REPLACE cannot do.
            async with conn.transaction():
                await conn.execute(f"DROP VIEW IF EXISTS {', '.join(views)} CASCADE")
                await conn.execute(script)
                await conn.execute(_NOTE_INSTALLED, fingerprint, views)
    await grant_reporting(conn)


# The views' definitions as the server holds them ($2: their names; a missing one counts as empty).
_DEFINED = (
    "(SELECT md5(string_agg(coalesce(pg_get_viewdef(to_regclass(v)), ''), ';' ORDER BY v))"
    " FROM unnest($2::text[]) v)"
)
_INSTALLED = (
    "SELECT coalesce((SELECT fingerprint = $1 AND views = "
    + _DEFINED
    + " FROM read_meta.installed_scripts WHERE name = 'reporting'), false)"
)
_NOTE_INSTALLED = (
    "INSERT INTO read_meta.installed_scripts (name, fingerprint, views) VALUES ('reporting', $1, "
    + _DEFINED
    + ") ON CONFLICT (name) DO UPDATE SET fingerprint = excluded.fingerprint, views = excluded.views,"
    " installed_at = now()"
)


async def make_pseudonym_key(conn: asyncpg.Connection) -> None:
    """Make the pseudonym key if there is none: with read_meta (``prepare``), before any generation
    exists, so no row version is ever written without its entry's pseudonym."""
    await conn.execute(
        "INSERT INTO read_meta.pseudonym_key (inner_pad, outer_pad) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        *hmac_pads(secrets.token_bytes(32)),
    )
    if await conn.fetchval(
        "SELECT reltuples < 0 FROM pg_class WHERE oid = 'read_meta.pseudonym_key'::regclass"
    ):
        # One row never reaches autovacuum's threshold: unanalysed, the planner takes the key for
        # hundreds of rows and plans every reporting view's joins for that many times the rows.
        await conn.execute("ANALYZE read_meta.pseudonym_key")


async def rotate_pseudonym_key(conn: asyncpg.Connection, *, wait_seconds: float = 30.0) -> None:
    """Replace the pseudonym key: every pseudonym changes, and none can be matched to the old ones.
    The pseudonyms kept with row versions are made again under the new key in the same transaction,
    in every generation that has them (a rebuild under way included).

    Every transaction that read the key holds it shared until it ends: a projector batch that has
    written versions under the old key, a reporting read. The rotation takes the key alone first, so
    no version made under the old key commits after the new one is stored, and batches that start
    meanwhile wait for the new key. A waiting lock holds up every reader queued behind it, so it is
    tried briefly and again between them, up to ``wait_seconds`` (then
    ``asyncpg.LockNotAvailableError``, and nothing changed)."""
    deadline = time.monotonic() + wait_seconds
    while True:
        try:
            async with conn.transaction():
                await conn.execute(f"SET LOCAL lock_timeout = '{_KEY_ATTEMPT_MS}ms'")
                await conn.execute("LOCK TABLE read_meta.pseudonym_key IN ACCESS EXCLUSIVE MODE")
                await _replace_key(conn)
        except asyncpg.LockNotAvailableError:
            if time.monotonic() >= deadline:
                raise
            await asyncio.sleep(random.uniform(0.05, 0.25))  # noqa: S311 (a pause, not a secret)
        else:
            return


_KEY_ATTEMPT_MS = 200
"""How long one attempt at the key may hold up the readers and batches queued behind it."""


async def _replace_key(conn: asyncpg.Connection) -> None:
    await conn.execute(
        "UPDATE read_meta.pseudonym_key SET inner_pad = $1, outer_pad = $2, created_at = now()",
        *hmac_pads(secrets.token_bytes(32)),
    )
    generations = await conn.fetch(
        "SELECT name, generation FROM read_meta.generations WHERE status <> 'retired'"
    )
    for row in generations:
        schema = generation_schema(row["name"], row["generation"])
        versions = f"{schema}.{change_tables(row['name'])[1]}"
        if await conn.fetchval("SELECT to_regclass($1) IS NOT NULL", versions):
            await conn.execute(store_entry_keys(schema, row["name"]))


async def grant_reporting(conn: asyncpg.Connection) -> None:
    """Let the reporting role read the reporting views. The role is made by ``waymark db grant``;
    a superuser or CREATEROLE connection (the embedded database, tests) makes it here instead."""
    exists = await conn.fetchval("SELECT true FROM pg_roles WHERE rolname = $1", REPORTING_ROLE)
    if not exists:
        may_create = await conn.fetchval(
            "SELECT rolsuper OR rolcreaterole FROM pg_roles WHERE rolname = current_user"
        )
        if not may_create:
            log.info("no role %s yet: `waymark db grant` creates it", REPORTING_ROLE)
            return
        # Two processes starting at once may both try; the loser sees a unique violation.
        await conn.execute(
            f"DO $$ BEGIN CREATE ROLE {REPORTING_ROLE} NOLOGIN;"
            " EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$"
        )
    try:
        async with conn.transaction():
            await conn.execute(f"GRANT USAGE ON SCHEMA reporting TO {REPORTING_ROLE}")
            await conn.execute(f"GRANT SELECT ON ALL TABLES IN SCHEMA reporting TO {REPORTING_ROLE}")
            # The views call it with their reader's EXECUTE right; without the key's pads it is no use.
            await conn.execute(f"GRANT EXECUTE ON FUNCTION {_KEYED_HASH} TO {REPORTING_ROLE}")
    except asyncpg.InsufficientPrivilegeError:
        log.warning("cannot grant %s the reporting views: they belong to another role", REPORTING_ROLE)
