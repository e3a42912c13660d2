"""A minimal keep-alive HTTP/1.1 client on asyncio streams, so the load generator spends as little of
the machine's CPU as possible (the server, PostgreSQL and the client share two cores)."""

from __future__ import annotations

import asyncio
import time

__all__ = ["HttpConnection", "Timed"]


class Timed:
    """Latencies (ms) and statuses of the requests made."""

    def __init__(self) -> None:
        self.latencies_ms: list[float] = []
        self.statuses: list[int] = []


class HttpConnection:
    """One persistent connection to the server under test."""

    def __init__(self, host: str, port: int, authorization: str, *, cookie: str | None = None) -> None:
        self.host, self.port, self.authorization = host, port, authorization
        self.cookie = f"Cookie: {cookie}\r\n" if cookie else ""  # the pages sign in with a session cookie
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def __aenter__(self) -> HttpConnection:
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        return self

    async def __aexit__(self, *_: object) -> None:
        if self.writer is not None:
            self.writer.close()

    async def request(self, method: str, path: str, body: bytes = b"", timed: Timed | None = None) -> bytes:
        """Send one request and read the whole response; record its latency and status."""
        if self.reader is None or self.writer is None:
            raise RuntimeError("open the connection first (async with)")
        head = (
            f"{method} {path} HTTP/1.1\r\nHost: {self.host}\r\nAuthorization: {self.authorization}\r\n"
            f"{self.cookie}Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
        )
        started = time.perf_counter()
        self.writer.write(head.encode() + body)
        status_line = await self.reader.readline()
        length = 0
        while (line := await self.reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        payload = await self.reader.readexactly(length) if length else b""
        if timed is not None:
            timed.latencies_ms.append((time.perf_counter() - started) * 1000)
            timed.statuses.append(int(status_line.split()[1]))
        return payload
