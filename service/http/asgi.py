"""An ASGI application factory for servers started by import string (``uvicorn --factory``,
``granian --factory``): settings come from the environment, as for ``waymark serve``."""

from __future__ import annotations

from typing import Any

from service.bootstrap import Runtime
from service.http.app import create_app, settle_heap
from service.http.organisations import organisations_app
from service.logs import configure_logging, log_format
from service.settings import Settings

__all__ = ["app"]


def app() -> Any:
    """Start Waymark from the environment (``WAYMARK_PROJECTOR=off``: projecting runs elsewhere); with
    ``WAYMARK_ORGANISATIONS``, a Waymark for each organisation behind one router."""
    configure_logging(log_format())
    settings = Settings.from_env()
    app: Any
    if settings.organisations:
        app = organisations_app(settings, run_projector=settings.run_projector)
    else:
        app = create_app(Runtime.start(settings), run_projector=settings.run_projector, owns_runtime=True)
    settle_heap()
    return app
