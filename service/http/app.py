"""The Litestar application: routes, authentication, problem responses, the OpenAPI schema, and the
read side's connections (and, by default, the projector) for the app's lifetime."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from importlib.metadata import version
from typing import Any

from litestar import Litestar, Request, Response
from litestar.datastructures import MutableScopeHeaders, State
from litestar.di import Provide
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import ScalarRenderPlugin
from litestar.types import Message, Scope

from projections.models import MODELS
from projections.projector import Projector
from service.bootstrap import Runtime
from service.http.auth import jwt_auth
from service.http.openapi import document_problems
from service.http.positions import PositionWatcher, ProjectionBehind
from service.http.problems import exception_handlers, problem
from service.http.reading import ReadPools
from service.http.routes.cases import CaseController
from service.http.routes.entries import entry_router
from service.http.routes.health import health, ready
from service.http.routes.readmodels import AuditController, GovernanceController, PersonProjectionController
from service.http.routes.service_level import ServiceController
from service.write.application import CaseRecords

__all__ = ["create_app"]


def _behind(request: Request[Any, Any, Any], exc: ProjectionBehind) -> Response[dict[str, Any]]:
    return problem(
        request,
        503,
        "projection-behind",
        "Not yet up to date",
        f"The projections have not yet reached position {exc.position}: retry shortly.",
        headers={"Retry-After": "1"},
    )


async def _no_store(message: Message, scope: Scope) -> None:
    """Any answer may carry a person's record: no cache, shared or private, may keep it. Only the
    public OpenAPI documents are left cacheable."""
    if message["type"] == "http.response.start" and not scope["path"].startswith("/schema"):
        MutableScopeHeaders.from_message(message)["Cache-Control"] = "no-store"


def create_app(runtime: Runtime, *, run_projector: bool = True, owns_runtime: bool = False) -> Litestar:
    """Build the HTTP application around a running Waymark (closing it on shutdown if it owns it)."""

    def provide_records() -> CaseRecords:
        return runtime.records

    @contextlib.asynccontextmanager
    async def read_side(app: Litestar) -> AsyncIterator[None]:
        dsn = runtime.address.url
        stop = asyncio.Event()
        projector = Projector(dsn, [model() for model in MODELS.values()])
        await projector.setup()
        task = asyncio.create_task(projector.run(stop)) if run_projector else None
        app.state.reads = await ReadPools.open(dsn, runtime.settings)
        app.state.positions = PositionWatcher(dsn)
        await app.state.positions.start()
        try:
            yield
        finally:
            stop.set()
            await app.state.positions.stop()
            await app.state.reads.close()
            if task is not None:
                await task

    def provide_reads(state: State) -> ReadPools:
        return state.reads  # type: ignore[no-any-return]

    def provide_positions(state: State) -> PositionWatcher:
        return state.positions  # type: ignore[no-any-return]

    auth = jwt_auth(runtime.settings)
    app = Litestar(
        route_handlers=[
            CaseController,
            entry_router(),
            PersonProjectionController,
            GovernanceController,
            AuditController,
            ServiceController,
            health,
            ready,
        ],
        dependencies={
            "records": Provide(provide_records, sync_to_thread=False),
            "reads": Provide(provide_reads, sync_to_thread=False),
            "positions": Provide(provide_positions, sync_to_thread=False),
        },
        lifespan=[read_side],
        on_shutdown=[runtime.close] if owns_runtime else [],
        on_app_init=[auth.on_app_init],
        before_send=[_no_store],
        exception_handlers={**exception_handlers(), ProjectionBehind: _behind},
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
    return app
