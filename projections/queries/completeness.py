"""Whether a person's projection answer is complete: an entry of the case that a projection could
not apply (parked, see ``projections.parking``) is missing from it, and the answer says so."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

import msgspec

from projections.queries import Reader

__all__ = ["Incomplete", "incompleteness"]


class Incomplete(msgspec.Struct, frozen=True):
    """Entries of this case left out of the answer because they could not be projected (yet)."""

    entries_not_projected: int
    detail: str


async def incompleteness(conn: Reader, case_id: UUID, projections: Sequence[str]) -> Incomplete | None:
    """What the named projections are missing of a case; None when they have every entry of it."""
    missing = await conn.fetchval(
        "SELECT count(DISTINCT position) FROM read.unprojected_entries"
        " WHERE case_id = $1 AND projection = ANY($2::text[])",
        case_id,
        list(projections),
    )
    if not missing:
        return None
    entries = "entry" if missing == 1 else "entries"
    return Incomplete(missing, f"{missing} {entries} could not be projected")
