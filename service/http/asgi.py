"""An ASGI application factory for servers started by import string (``uvicorn --factory``,
``granian --factory``): settings come from the environment, as for ``waymark serve``."""

from __future__ import annotations

from litestar import Litestar

from service.bootstrap import Runtime
from service.http.app import create_app
from service.logs import configure_logging, log_format
from service.settings import Settings

__all__ = ["app"]


def app() -> Litestar:
    """Start Waymark from the environment (``WAYMARK_PROJECTOR=off``: projecting runs elsewhere)."""
    configure_logging(log_format())
    settings = Settings.from_env()
    return create_app(Runtime.start(settings), run_projector=settings.run_projector, owns_runtime=True)
