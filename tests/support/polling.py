"""Waiting for a condition instead of for a time: poll it until it holds or a deadline passes.

A fixed sleep is either too short on a loaded machine (a flaky test) or too long on an idle one (a slow
suite); a poll returns as soon as the condition holds and fails with a message when it never does."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")


def wait_until(
    condition: Callable[[], T],
    *,
    seconds: float,
    interval: float = 0.05,
    failure: str = "condition never held",
) -> T:
    """Call ``condition`` until it answers something true, and return that; fail after ``seconds``."""
    deadline = time.monotonic() + seconds
    while True:
        if answer := condition():
            return answer
        if time.monotonic() >= deadline:
            raise AssertionError(f"{failure} (waited {seconds} s)")
        time.sleep(interval)


async def eventually(
    condition: Callable[[], Awaitable[T]],
    *,
    seconds: float,
    interval: float = 0.05,
    failure: str = "condition never held",
) -> T:
    """Await ``condition`` until it answers something true, and return that; fail after ``seconds``."""
    deadline = time.monotonic() + seconds
    while True:
        if answer := await condition():
            return answer
        if time.monotonic() >= deadline:
            raise AssertionError(f"{failure} (waited {seconds} s)")
        await asyncio.sleep(interval)
