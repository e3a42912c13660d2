"""The least-privilege set-up a DBA runs once (``waymark db grant``): a LOGIN role for the service
that owns its database and nothing else, and the NOLOGIN role reporting tools are given.

The service role is NOSUPERUSER NOCREATEDB NOCREATEROLE: it owns Waymark's database (so it creates
the events table, the read side's schemas and the reporting views, and rebuilds them), and no other
role may connect to that database unless granted. Everything here is idempotent.
"""

from __future__ import annotations

import contextlib
import logging

import psycopg
from psycopg import sql

from projections.reporting import REPORTING_ROLE
from service.database import DatabaseAddress

__all__ = ["GrantRefused", "grant_service_role"]

log = logging.getLogger(__name__)

_LEAST = "LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS"

_FOREIGN_OBJECTS = """
WITH ours AS (
    SELECT oid, nspname FROM pg_namespace
     WHERE nspname NOT IN ('pg_catalog', 'information_schema') AND nspname NOT LIKE 'pg\\_%%'
), extension_members AS (
    SELECT classid, objid FROM pg_depend WHERE deptype = 'e'
), linked AS (  -- a sequence behind a serial or identity column follows its table
    SELECT classid, objid FROM pg_depend WHERE deptype IN ('a', 'i')
)
SELECT 'SCHEMA', format('%%I', n.nspname) FROM pg_namespace n JOIN ours USING (oid)
 WHERE n.nspname <> 'public' AND n.nspowner <> %(role)s::regrole
   AND (n.tableoid, n.oid) NOT IN (SELECT * FROM extension_members)
UNION ALL
SELECT CASE c.relkind WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW' WHEN 'S' THEN 'SEQUENCE'
                      ELSE 'TABLE' END,
       format('%%I.%%I', ours.nspname, c.relname)
  FROM pg_class c JOIN ours ON ours.oid = c.relnamespace
 WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S') AND c.relowner <> %(role)s::regrole
   AND (c.tableoid, c.oid) NOT IN (SELECT * FROM extension_members)
   AND (c.tableoid, c.oid) NOT IN (SELECT * FROM linked)
UNION ALL
SELECT 'TYPE', format('%%I.%%I', ours.nspname, t.typname)
  FROM pg_type t JOIN ours ON ours.oid = t.typnamespace
 WHERE t.typowner <> %(role)s::regrole
   AND (t.tableoid, t.oid) NOT IN (SELECT * FROM extension_members)
   AND (t.typtype IN ('d', 'e', 'r')
        OR t.typtype = 'c' AND (SELECT relkind FROM pg_class WHERE oid = t.typrelid) = 'c')
UNION ALL
SELECT 'ROUTINE', p.oid::regprocedure::text
  FROM pg_proc p JOIN ours ON ours.oid = p.pronamespace
 WHERE p.proowner <> %(role)s::regrole
   AND (p.tableoid, p.oid) NOT IN (SELECT * FROM extension_members)
"""
"""Objects in the database that another role owns (left by an earlier, more privileged set-up)."""


class GrantRefused(Exception):
    """The grant would strip a privileged role (a superuser, or the admin itself) of its rights."""


def grant_service_role(
    admin: DatabaseAddress, *, role: str, database: str, password: str | None = None
) -> DatabaseAddress:
    """Create (or bring back to least privilege) ``role``, give it ``database`` (created if missing),
    keep other roles out of that database, and create the reporting role; return the role's address."""
    if role == admin.user:
        raise GrantRefused(f"{role} is the role DATABASE_URL connects as: name another role for the service")
    with psycopg.connect(**admin.connect_kwargs(), autocommit=True) as conn:
        _ensure_service_role(conn, role, password)
        _may_limit_temporary_files(conn, role)
        _ensure_role(conn, REPORTING_ROLE, "NOLOGIN")
        _give_database(conn, database, role)
    with psycopg.connect(**admin.with_dbname(database).connect_kwargs(), autocommit=True) as conn:
        conn.execute(sql.SQL("GRANT USAGE, CREATE ON SCHEMA public TO {}").format(sql.Identifier(role)))
        for kind, name in conn.execute(_FOREIGN_OBJECTS, {"role": role}).fetchall():
            conn.execute(sql.SQL(f"ALTER {kind} {name} OWNER TO {{}}").format(sql.Identifier(role)))
            log.info("%s %s now belongs to %s", kind.lower(), name, role)
    return DatabaseAddress(admin.host, admin.port, role, password or "", database)


def _ensure_service_role(conn: psycopg.Connection, role: str, password: str | None) -> None:
    row = conn.execute("SELECT rolsuper FROM pg_roles WHERE rolname = %s", [role]).fetchone()
    if row is not None and row[0]:
        raise GrantRefused(f"{role} is a superuser: name another role for the service")
    _ensure_role(conn, role, _LEAST)
    conn.execute(sql.SQL(f"ALTER ROLE {{}} {_LEAST}").format(sql.Identifier(role)))
    if password:
        # Only the SCRAM verifier travels and may reach the server's statement log, never the password.
        verifier = conn.pgconn.encrypt_password(password.encode(), role.encode(), b"scram-sha-256")
        conn.execute(
            sql.SQL("ALTER ROLE {} PASSWORD {}").format(sql.Identifier(role), sql.Literal(verifier.decode()))
        )


def _may_limit_temporary_files(conn: psycopg.Connection, role: str) -> None:
    """Let the service set temp_file_limit, a superuser setting, on its read connections so one
    query cannot fill the disk with temporary files (PostgreSQL 15 made such a grant possible)."""
    if conn.info.server_version >= 150000:
        conn.execute(sql.SQL("GRANT SET ON PARAMETER temp_file_limit TO {}").format(sql.Identifier(role)))


def _ensure_role(conn: psycopg.Connection, role: str, attributes: str) -> None:
    if conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role]).fetchone():
        return
    # A concurrent grant may create it first.
    with contextlib.suppress(psycopg.errors.DuplicateObject, psycopg.errors.UniqueViolation):
        conn.execute(sql.SQL(f"CREATE ROLE {{}} {attributes}").format(sql.Identifier(role)))


def _give_database(conn: psycopg.Connection, database: str, role: str) -> None:
    db, owner = sql.Identifier(database), sql.Identifier(role)
    if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [database]).fetchone():
        conn.execute(sql.SQL("ALTER DATABASE {} OWNER TO {}").format(db, owner))
    else:
        conn.execute(sql.SQL("CREATE DATABASE {} OWNER {}").format(db, owner))
    conn.execute(sql.SQL("REVOKE CONNECT, TEMPORARY ON DATABASE {} FROM PUBLIC").format(db))
    conn.execute(sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(db, sql.Identifier(REPORTING_ROLE)))
