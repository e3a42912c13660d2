"""A tamper-evident record: one hash chain over the whole log, in the order the projector reads it.

Each stored entry's link is SHA-256 over the previous link, its position, its case and version, its
kind and its stored bytes; the links are written in the transaction that stores the entries, under
the table lock that also orders positions, so the chain never forks. One chain over the whole log
(not one per case): a deleted or inserted entry anywhere breaks every later link, and one signed
checkpoint vouches for everything before it.

Signed checkpoints (Ed25519) pin the chain's link at a position; a party outside the organisation
can keep them. Rewriting the tail with fresh links needs no key, so only a checkpoint beyond the
rewrite reveals it: checkpoint often (``waymark audit checkpoint``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import NamedTuple
from uuid import UUID

__all__ = ["GENESIS", "Break", "Link", "Linked", "StoredRow", "Walk", "first_break", "link"]

GENESIS = bytes(32)
"""The link before the first entry."""


class Linked(NamedTuple):
    """What a link covers of a stored entry besides its position."""

    case_id: UUID
    version: int
    topic: str
    state: bytes


@dataclass(frozen=True, slots=True)
class StoredRow:
    """A position in the log: its entry (None where the events table has no row for a linked
    position), its stored link (None where an entry has none: it was written around Waymark) and
    the position it was linked to (so an entry deleted with its link still shows as a gap)."""

    position: int
    entry: Linked | None
    link: bytes | None
    previous: int | None = None


Link = bytes


def link(previous: Link, position: int, entry: Linked) -> Link:
    """The link of one entry."""
    digest = hashlib.sha256(previous)
    kind = entry.topic.encode()
    digest.update(position.to_bytes(8, "big"))
    digest.update(entry.case_id.bytes)
    digest.update(entry.version.to_bytes(8, "big"))
    digest.update(len(kind).to_bytes(4, "big") + kind)
    digest.update(entry.state)
    return digest.digest()


@dataclass(frozen=True)
class Break:
    """The first place the chain does not hold, in words for the person verifying it."""

    position: int
    kind: str
    """"altered", "swapped", "deleted", "inserted" or "rewritten"."""
    detail: str


@dataclass
class Walk:
    """Where a walk along the chain has got to: the last good link and its position."""

    link: Link = GENESIS
    position: int = 0
    checked: int = 0


def first_break(
    rows: Iterable[StoredRow], walk: Walk, pinned: Mapping[int, Link] | None = None
) -> Break | None:
    """Walk the log in position order from ``walk``; the first break, or None. ``pinned``: links
    signed checkpoints vouch for, by position (a chain rewritten with fresh links fails there)."""
    pinned = pinned or {}
    stream = iter(rows)
    for row in stream:
        if row.entry is None:
            return Break(row.position, "deleted", "an entry the chain links is missing")
        if row.link is None:
            return Break(row.position, "inserted", "an entry the chain never linked")
        if link(walk.link, row.position, row.entry) != row.link:
            if row.previous is not None and row.previous != walk.position:
                return Break(row.previous, "deleted", f"the entry at position {row.previous} is missing")
            return _mismatch(walk.link, row, stream)
        if row.position in pinned and pinned[row.position] != row.link:
            return Break(row.position, "rewritten", "the chain differs from the link a checkpoint signed")
        walk.link, walk.position, walk.checked = row.link, row.position, walk.checked + 1
    return None


def _mismatch(previous: Link, row: StoredRow, later: Iterator[StoredRow]) -> Break:
    """An entry whose bytes no longer give its link: moved here from a later position (two entries
    swapped), or altered in place."""
    for other in later:
        if other.entry is not None and link(previous, row.position, other.entry) == row.link:
            return Break(row.position, "swapped", f"swapped with the entry at position {other.position}")
    return Break(row.position, "altered", "the entry's stored bytes changed after it was linked")
