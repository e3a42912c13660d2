"""Exports of the reporting views for a period, for reporting tools and governance: CSV or Parquet,
streamed as PostgreSQL produces the rows (pseudonymised, no free text: the ``reporting`` views)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import datetime
from typing import Annotated, Literal

from asyncpg import Record
from asyncpg.pool import PoolConnectionProxy
from litestar import Controller, get
from litestar.di import NamedDependency
from litestar.params import FromPath, QueryParameter
from litestar.response import Stream

from events.values import Role
from projections.queries import Reader
from projections.queries.exports import EXPORTS, Export, ExportView, csv_chunks, parquet_chunks
from service.http.auth import requires
from service.http.positions import PositionWatcher
from service.http.reading import ReadPools
from service.http.routes.parameters import From, MinPosition, To, period
from service.http.routes.readmodels import read_consistently

__all__ = ["ExportController"]

Format = Annotated[
    Literal["csv", "parquet"],
    QueryParameter(name="format", description="csv (with a header line) or parquet (zstd)"),
]
Chunks = Callable[[Reader, Export, datetime, datetime], AsyncIterator[bytes]]
_FORMATS: dict[str, tuple[Chunks, str]] = {
    "csv": (csv_chunks, "text/csv; charset=utf-8"),
    "parquet": (parquet_chunks, "application/vnd.apache.parquet"),
}


class ExportController(Controller):
    """Whole reporting views for a period, as files."""

    path = "/exports"
    tags = ("Reporting",)
    guards = (requires(Role.REPORTING, Role.GOVERNANCE),)

    @get(
        "/{view:str}",
        operation_id="exportView",
        summary="A reporting view for a period, as CSV or Parquet",
    )
    async def export(
        self,
        *,
        reads: NamedDependency[ReadPools],
        positions: NamedDependency[PositionWatcher],
        view: FromPath[ExportView],
        from_: From,
        to: To,
        format_: Format = "csv",
        min_position: MinPosition = None,
    ) -> Stream:
        """Every row of the view in the period (by ``occurred_at``; people by the date their case
        opened), streamed. The views are documented in the `reporting` schema's comments."""
        export = EXPORTS[view]
        start, end = period(from_, to)
        await read_consistently(positions, ["care", "trajectory"], min_position)
        chunks, media_type = _FORMATS[format_]
        # Taken before the answer starts, so an unreachable database is a 503, not a cut-off file.
        conn = await reads.service_pool.acquire()
        # A whole view for a year runs far past the read limit; the pool's reset restores it.
        await conn.execute(f"SET statement_timeout = {int(reads.export_timeout_ms)}")
        filename = f"waymark-{view.value}-{start:%Y%m%d}-{end:%Y%m%d}.{format_}"
        return Stream(
            _released(reads, conn, chunks(conn, export, start, end)),
            media_type=media_type,
            headers={"Content-Disposition": f'attachment; filename="{filename}"'},
        )


async def _released(
    reads: ReadPools, conn: PoolConnectionProxy[Record], chunks: AsyncIterator[bytes]
) -> AsyncIterator[bytes]:
    try:
        async for chunk in chunks:
            yield chunk
    finally:
        await reads.service_pool.release(conn)
