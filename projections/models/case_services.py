"""Each setback and escalation row holds its case's service, derived after each batch (as reviews do,
see review_outcomes), so they are counted per service and day by trigger-kept summaries
(``read.setback_factor_days``, ``read.escalation_days``) instead of joined to every case of a year."""

from __future__ import annotations

from collections.abc import Collection
from uuid import UUID

from projections.models.base import Statement

__all__ = ["SERVED_TABLES", "derive_all_services", "derive_services"]

SERVED_TABLES = ("setbacks", "escalations")
_SERVICE = "(SELECT c.service FROM {s}.cases c WHERE c.case_id = t.case_id LIMIT 1)"
# Only rows whose service changes are written: the summaries' triggers see each change once.
_DERIVE = (
    f"UPDATE {{s}}.{{table}} t SET service = {_SERVICE}"
    f" WHERE {{which}} AND t.service IS DISTINCT FROM {_SERVICE}"
)


def derive_services(schema: str, cases: Collection[UUID]) -> list[Statement]:
    """Refresh the rows of the given cases (rows written now, or a case with a correction)."""
    if not cases:
        return []
    which = "t.case_id = ANY($1::uuid[])"
    return [
        Statement(_DERIVE.format(s=schema, table=table, which=which), (list(cases),))
        for table in SERVED_TABLES
    ]


def derive_all_services(schema: str) -> list[Statement]:
    """Fill every row after a bulk load: joined to the cases (a lookup per row would scan them, as the
    tables have no indexes yet)."""
    return [
        Statement(
            f"UPDATE {schema}.{table} t SET service = c.service"
            f" FROM (SELECT DISTINCT ON (case_id) case_id, service FROM {schema}.cases) c"
            " WHERE c.case_id = t.case_id",
            (),
        )
        for table in SERVED_TABLES
    ]
