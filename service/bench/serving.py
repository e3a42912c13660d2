"""The processes under test: Waymark served by uvicorn or granian, and a separate projector."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx

__all__ = [
    "BIN",
    "Process",
    "free_port",
    "peak_rss_mb",
    "projector",
    "server",
    "wait_ready",
    "watch_peak_rss_mb",
]

BIN = Path(sys.executable).parent


def free_port() -> int:
    """A TCP port on loopback that nothing listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_ready(
    url: str, process: subprocess.Popen[bytes], seconds: float = 60, *, output: Callable[[], str] = str
) -> None:
    """Poll ``url``/ready until it answers 200; fail (with the process's ``output``) if the process
    exits first or the time runs out."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited during start-up\n{output()}")
        try:
            if httpx.get(f"{url}/ready", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise TimeoutError(f"the server was not ready in {seconds} s\n{output()}")


class Process:
    """A child process and, for a server, where it listens."""

    def __init__(self, command: list[str], env: dict[str, str], port: int | None = None) -> None:
        self.port = port
        self.popen = subprocess.Popen(
            command, env={**os.environ, **env}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )

    def wait_ready(self, seconds: float = 60) -> None:
        """Wait for /ready to answer 200."""
        wait_ready(f"http://127.0.0.1:{self.port}", self.popen, seconds)

    def stop(self) -> None:
        """Terminate and wait."""
        if self.popen.poll() is None:
            self.popen.terminate()
            try:
                self.popen.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait()


def server(kind: str, env: dict[str, str]) -> Process:
    """Waymark behind uvicorn or granian (one worker each), without an in-process projector."""
    port = free_port()
    env = {**env, "WAYMARK_PROJECTOR": "off"}
    # Both servers take the same options; granian also needs to be told the interface.
    interface = ["--interface", "asgi"] if kind == "granian" else []
    options = ["--factory", "--port", str(port), "--no-access-log", "--log-level", "warning"]
    command = [str(BIN / kind), *interface, *options, "service.asgi:app"]
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
