"""Signed checkpoints of the hash chain (``service.write.chain``) and verifying the chain against them.

A checkpoint pins the chain's link at a position with an Ed25519 signature over the position, the
link and when it was signed. The signing key comes from settings; anyone holding the public key (a
party outside the organisation, say) can check exported checkpoints against the database.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from uuid import UUID

import msgspec
import psycopg
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from psycopg.rows import dict_row

from service.database import DatabaseAddress
from service.write.chain import Break, Linked, StoredRow, Walk, first_break

__all__ = ["Checkpoint", "Verdict", "checkpoints", "sign_checkpoint", "verify_chain"]

# The tables of ``service.write.persistence.CaseRecorder`` (events, their links, the checkpoints).
_LAST_LINK = "SELECT position, link FROM case_records_events_chain ORDER BY position DESC LIMIT 1"
_FIRST_LINKED = "SELECT min(position) FROM case_records_events_chain"
_KEEP = (
    "INSERT INTO case_records_events_checkpoints (position, link, signed_at, signature, public_key)"
    " VALUES (%s, %s, %s, %s, %s)"
)
_KEPT = (
    "SELECT position, link, signed_at, signature, public_key FROM case_records_events_checkpoints"
    " ORDER BY position"
)
_WALK = """
SELECT coalesce(e.notification_id, c.position) AS position,
       e.originator_id, e.originator_version, e.topic, e.state, c.link, c.previous
FROM case_records_events e FULL OUTER JOIN case_records_events_chain c ON c.position = e.notification_id
WHERE coalesce(e.notification_id, c.position) > %s
ORDER BY 1
"""
# Every link checked at once, by PostgreSQL, against the stored link before it: the chain holds if
# each does, so only the first suspect position (if any) needs the walk in Python to say what broke.
# The bytes hashed are those ``service.write.chain.link`` hashes, in the same order.
_SUSPECT = """
WITH walk AS (
    SELECT coalesce(e.notification_id, c.position) AS position,
           e.notification_id IS NULL OR c.position IS NULL AS unpaired,
           c.previous, c.link,
           lag(coalesce(e.notification_id, c.position)) OVER w AS before,
           lag(c.link) OVER w AS before_link,
           int8send(e.notification_id) || uuid_send(e.originator_id) || int8send(e.originator_version::bigint)
           || int4send(octet_length(convert_to(e.topic, 'UTF8'))) || convert_to(e.topic, 'UTF8') || e.state
           AS body
    FROM case_records_events e FULL OUTER JOIN case_records_events_chain c ON c.position = e.notification_id
    WHERE coalesce(e.notification_id, c.position) > %(after)s
    WINDOW w AS (ORDER BY coalesce(e.notification_id, c.position))
)
SELECT min(position) FILTER (
           WHERE unpaired OR previous IS DISTINCT FROM coalesce(before, %(after)s)
              OR link IS DISTINCT FROM sha256(coalesce(before_link, %(link)s) || body)
       ) AS suspect,
       count(*) AS total
FROM walk
"""
_LINK_BEFORE = (
    "SELECT position, link FROM case_records_events_chain WHERE position < %s ORDER BY position DESC LIMIT 1"
)


class Checkpoint(msgspec.Struct, frozen=True):
    """The chain's link at a position, signed; hex for bytes, so it exports as plain JSON."""

    position: int
    link: str
    signed_at: datetime
    signature: str
    public_key: str

    def message(self) -> bytes:
        """What the signature covers."""
        return _message(self.position, bytes.fromhex(self.link), self.signed_at)

    def signed_by(self, key: Ed25519PublicKey) -> bool:
        """Whether ``key`` made this signature."""
        try:
            key.verify(bytes.fromhex(self.signature), self.message())
        except (InvalidSignature, ValueError):
            return False
        return True


def _message(position: int, link: bytes, signed_at: datetime) -> bytes:
    return b"waymark checkpoint\n%d\n%s\n%s" % (position, link.hex().encode(), signed_at.isoformat().encode())


def _raw(key: Ed25519PublicKey) -> str:
    return key.public_bytes(Encoding.Raw, PublicFormat.Raw).hex()


def sign_checkpoint(address: DatabaseAddress, key: Ed25519PrivateKey) -> Checkpoint | None:
    """Sign the chain's last link and keep the checkpoint; None while the log is empty."""
    with psycopg.connect(**address.connect_kwargs(), autocommit=True) as conn:
        last = conn.execute(_LAST_LINK).fetchone()
        if last is None:
            return None
        position, link = last[0], bytes(last[1])
        signed_at = datetime.now(UTC).replace(microsecond=0)
        signature = key.sign(_message(position, link, signed_at)).hex()
        made = Checkpoint(position, link.hex(), signed_at, signature, _raw(key.public_key()))
        conn.execute(
            _KEEP,
            (position, link, signed_at, bytes.fromhex(signature), bytes.fromhex(made.public_key)),
        )
    return made


def checkpoints(address: DatabaseAddress) -> list[Checkpoint]:
    """Every checkpoint kept, oldest first."""
    with psycopg.connect(**address.connect_kwargs()) as conn:
        rows = conn.execute(_KEPT).fetchall()
    return [Checkpoint(p, bytes(lk).hex(), at, bytes(s).hex(), bytes(k).hex()) for p, lk, at, s, k in rows]


@dataclass(frozen=True)
class Verdict:
    """What verifying found: the first break (None when the chain holds), entries checked, where the
    walk began, and the checkpoints whose signatures did not verify."""

    broken: Break | None
    checked: int
    began_at: int
    unsigned: list[int]


def verify_chain(
    address: DatabaseAddress,
    trusted: Ed25519PublicKey | None,
    kept: list[Checkpoint],
    *,
    start: Checkpoint | None = None,
) -> Verdict:
    """Walk the chain from the beginning (or from a checkpoint whose signature holds) to the end."""
    good = [c for c in kept if trusted is not None and c.signed_by(trusted)]
    unsigned = [c.position for c in kept if c not in good]
    pinned = {c.position: bytes.fromhex(c.link) for c in good}
    with psycopg.connect(**address.connect_kwargs()) as conn, conn.transaction():
        if start is None:
            # Entries stored before Waymark linked entries (an upgraded database) are not covered.
            first = conn.execute(_FIRST_LINKED).fetchone()
            walk = Walk(position=max((first[0] or 1) - 1, 0) if first else 0)
        else:
            walk = Walk(bytes.fromhex(start.link), start.position)
        began = walk.position
        suspect, total = conn.execute(_SUSPECT, {"after": began, "link": walk.link}).fetchone() or (None, 0)
        rewritten = _unlike_checkpoints(conn, pinned)
        if rewritten is not None and (suspect is None or rewritten < suspect):
            return Verdict(Break(rewritten, "rewritten", _REWRITTEN), total, began, unsigned)
        if suspect is None:
            return Verdict(None, total, began, unsigned)
        checked = _resume_before(conn, walk, suspect, began)
        broken = first_break(_rows(conn, walk.position), walk, pinned)
    return Verdict(broken, checked + walk.checked, began, unsigned)


_REWRITTEN = "the chain differs from the link a checkpoint signed"


def _unlike_checkpoints(conn: psycopg.Connection, pinned: dict[int, bytes]) -> int | None:
    """The first position whose stored link is not the one its signed checkpoint pins."""
    for position in sorted(pinned):
        row = conn.execute("SELECT link FROM case_records_events_chain WHERE position = %s", (position,))
        stored = row.fetchone()
        if stored is None or bytes(stored[0]) != pinned[position]:
            return position
    return None


def _resume_before(conn: psycopg.Connection, walk: Walk, suspect: int, began: int) -> int:
    """Move the walk to the last linked position before ``suspect`` (its link checked by the pass in
    SQL); return how many entries that skips."""
    row = conn.execute(_LINK_BEFORE, (suspect,)).fetchone()
    if row is None or row[0] <= began:
        return 0
    skipped = conn.execute(
        "SELECT count(*) FROM case_records_events WHERE notification_id > %s AND notification_id <= %s",
        (began, row[0]),
    ).fetchone()
    walk.position, walk.link = row[0], bytes(row[1])
    return int(skipped[0]) if skipped else 0


def _rows(conn: psycopg.Connection, after: int) -> Iterator[StoredRow]:
    """Every position after ``after``, in order: its entry and link, either missing where so."""
    with conn.cursor("chain", row_factory=dict_row) as cursor:
        cursor.itersize = 10_000
        cursor.execute(_WALK, (after,))
        for row in cursor:
            entry = None
            if row["originator_id"] is not None:
                case_id: UUID = row["originator_id"]
                entry = Linked(case_id, row["originator_version"], row["topic"], bytes(row["state"]))
            link = bytes(row["link"]) if row["link"] is not None else None
            yield StoredRow(row["position"], entry, link, row["previous"])
