"""The commissioner report's outcome tables: per instrument and per outcome domain, how many people
recovered, reliably improved, showed no reliable change or reliably deteriorated (Jacobson & Truax,
first against latest reading in the period), and how many had too few readings to say.

Per instrument the categories are those of ``GET /service/learning`` (the same pairs of readings and
classifier; the report reads them person by person, for whose outcome stalled).
Per outcome domain each person counts once: by the instrument recorded against that domain with a
reliable-change threshold and the most readings (then by instrument code)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from datetime import datetime
from uuid import UUID

import asyncpg
import msgspec

from projections.queries.outcome_change import IMPROVEMENT, classify, first_and_latest
from projections.queries.report_stalled import stalled_people
from projections.queries.service import ServiceQuery
from projections.statistics import ChangeCategory

__all__ = ["OutcomeCounts", "outcome_tables"]

CATEGORIES = {
    ChangeCategory.RECOVERED: "recovered",
    ChangeCategory.RELIABLY_IMPROVED: "reliably_improved",
    ChangeCategory.NO_RELIABLE_CHANGE: "no_reliable_change",
    ChangeCategory.RELIABLY_DETERIORATED: "reliably_deteriorated",
}


class OutcomeCounts(msgspec.Struct, frozen=True):
    """People measured in the period (``people``) and what their readings show; ``too_few_readings``:
    one reading only, or an instrument with no reliable-change threshold."""

    group: str
    people: int
    recovered: int
    reliably_improved: int
    no_reliable_change: int
    reliably_deteriorated: int
    too_few_readings: int

    def cells(self) -> dict[str, int]:
        """The exclusive counts that add up to ``people``."""
        return {
            "recovered": self.recovered,
            "reliably_improved": self.reliably_improved,
            "no_reliable_change": self.no_reliable_change,
            "reliably_deteriorated": self.reliably_deteriorated,
            "too_few_readings": self.too_few_readings,
        }


_BY_DOMAIN = first_and_latest("m.domain, ", " AND m.domain IS NOT NULL")


async def outcome_tables(
    pool: asyncpg.Pool, query: ServiceQuery
) -> tuple[list[OutcomeCounts], list[OutcomeCounts], dict[UUID, datetime]]:
    """The outcome counts per instrument and per outcome domain, and whose outcome stalled."""
    args = (query.start, query.end, query.service)
    # Two independent reads of the period's readings, on two connections at once.
    by_instrument, by_domain = await asyncio.gather(
        pool.fetch(IMPROVEMENT, *args), pool.fetch(_BY_DOMAIN, *args)
    )
    return (
        _counted((r["instrument"], r) for r in by_instrument),
        _counted(_one_per_person(by_domain)),
        stalled_people(by_instrument),
    )


def _one_per_person(rows: Sequence[asyncpg.Record]) -> Iterable[tuple[str, asyncpg.Record]]:
    """One row per person and domain: a threshold first, then the most readings, then the code."""
    ranked = sorted(rows, key=lambda r: (r["reliable_change"] is None, -r["n"], r["instrument"]))
    chosen: dict[tuple[object, str], asyncpg.Record] = {}
    for r in ranked:
        chosen.setdefault((r["case_id"], r["domain"]), r)
    return ((domain, r) for (_, domain), r in chosen.items())


def _counted(people: Iterable[tuple[str, asyncpg.Record]]) -> list[OutcomeCounts]:
    counts: dict[str, dict[str, int]] = {}
    for group, r in people:
        bucket = counts.setdefault(group, dict.fromkeys([*CATEGORIES.values(), "too_few_readings"], 0))
        category = classify(r)
        bucket["too_few_readings" if category is None else CATEGORIES[category]] += 1
    return [
        OutcomeCounts(group=group, people=sum(bucket.values()), **bucket)
        for group, bucket in sorted(counts.items())
    ]
