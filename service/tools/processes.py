"""Child processes for the tools and the tests: the environment's commands, a free port, and waiting
for a server to answer /ready. Nothing here is imported by ``waymark serve``."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import httpx

__all__ = ["BIN", "Process", "free_port", "wait_ready"]

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
        # Kept (and dropped when the process is stopped) so a failed start-up can say why.
        self.log = tempfile.TemporaryFile()  # noqa: SIM115 - closed in stop()
        self.popen = subprocess.Popen(
            command, env={**os.environ, **env}, stdout=self.log, stderr=subprocess.STDOUT
        )

    def wait_ready(self, seconds: float = 60) -> None:
        """Wait for /ready to answer 200; a failure shows the end of what the process printed."""
        wait_ready(f"http://127.0.0.1:{self.port}", self.popen, seconds, output=self._tail)

    def _tail(self, size: int = 4000) -> str:
        self.log.seek(0, os.SEEK_END)
        self.log.seek(max(self.log.tell() - size, 0))
        return self.log.read().decode(errors="replace")

    def stop(self) -> None:
        """Terminate and wait."""
        if self.popen.poll() is None:
            self.popen.terminate()
            try:
                self.popen.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait()
        self.log.close()
