"""The processes under test: Waymark served by uvicorn or granian, and a separate projector."""

from __future__ import annotations

import time
from pathlib import Path

from service.tools.processes import BIN, Process, free_port

__all__ = ["peak_rss_mb", "projector", "server", "watch_peak_rss_mb"]


def server(kind: str, env: dict[str, str]) -> Process:
    """Waymark behind uvicorn or granian (one worker each), without an in-process projector."""
    port = free_port()
    env = {**env, "WAYMARK_PROJECTOR": "off"}
    # Both servers take the same options; granian also needs to be told the interface.
    interface = ["--interface", "asgi"] if kind == "granian" else []
    options = ["--factory", "--port", str(port), "--no-access-log", "--log-level", "warning"]
    command = [str(BIN / kind), *interface, *options, "service.http.asgi:app"]
    process = Process(command, env, port)
    process.wait_ready()
    return process


def projector(env: dict[str, str]) -> Process:
    """``waymark project`` on its own."""
    return Process([str(BIN / "waymark"), "project"], env)


def watch_peak_rss_mb(process: Process, every: float = 0.5) -> float:
    """Wait for a process to exit, sampling its peak resident memory (gone once it exits)."""
    peak = 0.0
    while process.popen.poll() is None:
        peak = max(peak, peak_rss_mb(process.popen.pid))
        time.sleep(every)
    return peak


def peak_rss_mb(pid: int) -> float:
    """The highest resident set size (VmHWM) of a process and its children, in MB."""
    pids = [pid, *_children(pid)]
    peaks = []
    for each in pids:
        try:
            for line in Path(f"/proc/{each}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    peaks.append(int(line.split()[1]) / 1024)
        except OSError:
            continue
    return max(peaks, default=0.0)


def _children(pid: int) -> list[int]:
    try:
        found = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return []
    children = [int(c) for c in found]
    return children + [grand for child in children for grand in _children(child)]
