"""The Litestar application: routes, authentication, problem responses, the OpenAPI schema, and the
read side (built by the composition root) for the app's lifetime. Pages, reports and feeds join it
as extensions: ``on_app_init`` hooks from ``service.bootstrap.app_extensions``."""

from __future__ import annotations

import contextlib
import gc
from collections.abc import AsyncIterator, Sequence
from importlib.metadata import version

from litestar import Litestar
from litestar.datastructures import MutableScopeHeaders, State
from litestar.di import Provide
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import ScalarRenderPlugin
from litestar.types import Message, Scope

from service.bootstrap import AppExtension, Runtime, app_extensions, read_side
from service.http.auth import jwt_auth
from service.http.inputs import ValidatingRequest
from service.http.openapi import document_problems
from service.http.positions import PositionWatcher
from service.http.problems import exception_handlers, problem_details
from service.http.reading import ReadPools
from service.http.routes.actions import ActionListController, CaseActionsController
from service.http.routes.break_glass import BreakGlassController, BreakGlassReviewController
from service.http.routes.cases import CaseController
from service.http.routes.disclosure import DisclosureController
from service.http.routes.drilldown import DrillDownController
from service.http.routes.entries import entry_router
from service.http.routes.erasure import ErasureController
from service.http.routes.exports import ExportController
from service.http.routes.feed import FeedController
from service.http.routes.fhir import case_fhir
from service.http.routes.health import health, ready
from service.http.routes.readmodels import AuditController, GovernanceController, PersonProjectionController
from service.http.routes.service_level import ServiceController
from service.http.telemetry import Telemetry, metrics
from service.write.application import CaseRecords

__all__ = ["create_app", "settle_heap"]


async def _no_store(message: Message, scope: Scope) -> None:
    """Any answer may carry a person's record: no cache, shared or private, may keep it. Only the
    public OpenAPI documents and the pages' static files (the design system's CSS and JS) are left
    cacheable."""
    if message["type"] == "http.response.start" and not scope["path"].startswith(("/schema", "/static/")):
        MutableScopeHeaders.from_message(message)["Cache-Control"] = "no-store"


def settle_heap() -> None:
    """Before serving, once the app is built: keep what start-up made (modules, routes, templates,
    schemas) out of the garbage collector's full collections (``gc.freeze``). Each full collection
    walked all of it, about 40 ms every third of a second under load, which was the whole p99 of
    service-level reads (service learning at 1M events: 60 ms p99 over HTTP, 21 ms after). Only for
    a serving process: frozen objects are never collected."""
    gc.collect()
    gc.freeze()


def create_app(
    runtime: Runtime,
    *,
    run_projector: bool = True,
    owns_runtime: bool = False,
    extensions: Sequence[AppExtension] | None = None,
) -> Litestar:
    """Build the HTTP application around a running Waymark (closing it on shutdown if it owns it).

    ``extensions`` (by default ``app_extensions(settings)``) add what is served beside the API."""

    def provide_records() -> CaseRecords:
        return runtime.records

    def provide_review_interval_days() -> int:
        return runtime.settings.review_interval_days

    def provide_break_glass_seconds() -> int:
        return runtime.settings.break_glass_seconds

    def provide_retention_years() -> int:
        return runtime.settings.retention_years

    @contextlib.asynccontextmanager
    async def reading(app: Litestar) -> AsyncIterator[None]:
        async with read_side(runtime.settings, runtime.address, run_projector=run_projector) as side:
            app.state.reads, app.state.positions = side.reads, side.positions
            yield

    def provide_reads(state: State) -> ReadPools:
        return state.reads  # type: ignore[no-any-return]

    def provide_positions(state: State) -> PositionWatcher:
        return state.positions  # type: ignore[no-any-return]

    auth = jwt_auth(runtime.settings)
    telemetry = Telemetry(runtime.settings.metrics_token)
    app = Litestar(
        route_handlers=[
            CaseController,
            entry_router(),
            case_fhir,
            PersonProjectionController,
            GovernanceController,
            AuditController,
            DisclosureController,
            ServiceController,
            DrillDownController,
            CaseActionsController,
            ActionListController,
            ExportController,
            FeedController,
            BreakGlassController,
            BreakGlassReviewController,
            ErasureController,
            health,
            ready,
            metrics,
        ],
        dependencies={
            "records": Provide(provide_records, sync_to_thread=False),
            "reads": Provide(provide_reads, sync_to_thread=False),
            "positions": Provide(provide_positions, sync_to_thread=False),
            "review_interval_days": Provide(provide_review_interval_days, sync_to_thread=False),
            "break_glass_seconds": Provide(provide_break_glass_seconds, sync_to_thread=False),
            "retention_years": Provide(provide_retention_years, sync_to_thread=False),
        },
        lifespan=[reading],
        # Guards log refused reads through the records; /metrics reads the telemetry.
        state=State({"records": runtime.records, "telemetry": telemetry}),
        on_shutdown=[runtime.close] if owns_runtime else [],
        on_app_init=[
            auth.on_app_init,
            *(app_extensions(runtime.settings) if extensions is None else extensions),
        ],
        before_send=[_no_store],
        exception_handlers=exception_handlers(),
        plugins=[problem_details()],
        request_class=ValidatingRequest,
        request_max_body_size=runtime.settings.max_body_bytes,
        openapi_config=OpenAPIConfig(
            title="Waymark",
            version=version("waymark"),
            description="Event-sourced case records for recovery-focused mental health and social care.",
            path="/schema",
            render_plugins=[ScalarRenderPlugin()],
        ),
    )
    document_problems(app)
    # Outermost, so requests no route matches (404, 405) are timed and logged too.
    app.asgi_handler = telemetry.wrap(app.asgi_handler)
    return app
