"""Values derived on the case status rows, so open days can be counted from a per-day summary.

Each status row holds its case's service and how it changed the number of open cases: +1 where a
case became open, -1 where it stopped being open, 0 where it stayed as it was, judged against the
row before it in time (a backdated reopening can come before a closure recorded earlier, so the
kind of the row alone does not say). Summed per service and UTC day (``read.status_days``, with the
sum of each change times its moment), the open days in any period are

    F(x) = sum over rows before x of change * (x - moment),  open seconds in [a, b) = F(b) - F(a),

read from a few hundred summary rows and the rows of the two part days at the ends, where counting
open spans read every status row of the service (service learning and the report's charts)."""

from __future__ import annotations

from collections.abc import Collection
from uuid import UUID

from projections.models.base import Statement

__all__ = ["derive_all_open_changes", "derive_open_changes"]

# Each row's change against the row before it in time, and its case's service: looked up per row
# for a batch's few cases (indexed), joined for the whole table after a bulk load (no indexes yet).
_CHANGES = """
SELECT s.entry_id, {service} AS service,
       (s.status = 'open')::int - coalesce((lag(s.status) OVER (
           PARTITION BY s.case_id ORDER BY s.occurred_at, s.entry_id) = 'open')::int, 0) AS change
FROM {s}.case_status s {joined}
"""
_LOOKED_UP = {
    "service": "(SELECT c.service FROM {s}.cases c WHERE c.case_id = s.case_id LIMIT 1)",
    "joined": "",
}
_JOINED = {
    "service": "c.service",
    "joined": "LEFT JOIN (SELECT DISTINCT ON (case_id) case_id, service FROM {s}.cases) c"
    " ON c.case_id = s.case_id",
}
_SET = "UPDATE {s}.case_status t SET service = x.service, open_change = x.change"
# Only rows whose values change are written: the summary's triggers see each change once.
_DERIVE = (
    f"{_SET} FROM ({_CHANGES.format(s='{s}', **_LOOKED_UP)} WHERE s.case_id = ANY($1::uuid[])) x"
    " WHERE t.entry_id = x.entry_id"
    " AND (t.service IS DISTINCT FROM x.service OR t.open_change IS DISTINCT FROM x.change)"
)
_DERIVE_ALL = f"{_SET} FROM ({_CHANGES.format(s='{s}', **_JOINED)}) x WHERE t.entry_id = x.entry_id"


def derive_open_changes(schema: str, cases: Collection[UUID]) -> list[Statement]:
    """Refresh the status rows of the given cases (status rows written, or any entry corrected)."""
    return [Statement(_DERIVE.format(s=schema), (list(cases),))] if cases else []


def derive_all_open_changes(schema: str) -> list[Statement]:
    """Fill every status row after a bulk load (one statement: a row per opening, closure and
    reopening)."""
    return [Statement(_DERIVE_ALL.format(s=schema), ())]
