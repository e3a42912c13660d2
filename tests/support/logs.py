"""What Waymark logs while a block runs, through the handler `waymark` itself installs (service/logs.py)."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from service.logs import QUIET, log_handler


@dataclass
class LogLines:
    """The raw text written, and each line parsed (every line must be one JSON object)."""

    stream: io.StringIO = field(default_factory=io.StringIO)

    @property
    def text(self) -> str:
        return self.stream.getvalue()

    @property
    def records(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.text.splitlines() if line]

    def requests(self) -> list[dict[str, Any]]:
        """The one line each request ends with."""
        return [line for line in self.records if line.get("event") == "request"]


@contextmanager
def captured_logs() -> Iterator[LogLines]:
    """Every record at INFO and above (the quiet libraries' at WARNING, as `waymark` sets them), formatted
    as JSON, for the duration of the block."""
    lines = LogLines()
    handler = log_handler("json", lines.stream)
    root = logging.getLogger()
    loggers = [root, *(logging.getLogger(name) for name in QUIET)]
    levels = [logger.level for logger in loggers]
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    for name, quiet in QUIET.items():
        logging.getLogger(name).setLevel(quiet)
    try:
        yield lines
    finally:
        root.removeHandler(handler)
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)
