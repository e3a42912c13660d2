"""What Waymark's own body conversion costs on the happy path: a valid review body, converted as a
request is (``python -m service.tools.bench.bodies``).

Printed beside the raw baseline, msgspec decoding the bytes straight to the request type, and beside
what Litestar did before (decode to builtins, then convert every handler argument at once)."""

from __future__ import annotations

import json
import timeit
from typing import Any, cast
from uuid import uuid4

import msgspec
from litestar import Litestar, post
from litestar.params import JSONBody

from events.entries import ReviewRecorded
from service.http.field_errors import convert
from service.http.inputs import input_type

REVIEW = {
    "kind": "routine",
    "ratings": {"stability_self_management": 6, "connection_participation": 4},
    "confidence": 5,
    "autonomy": 4,
    "easier_now": "mornings",
    "most_difficult": "crowds",
    "helpful_strategies": "planning the route",
    "next_step": "bus with support",
    "measure_ids": [str(uuid4())],
    "occurred_at": "2026-01-05T10:00:00Z",
}


def _signature_model() -> Any:
    """The msgspec model Litestar converts a review handler's arguments with."""
    body = input_type(ReviewRecorded)

    def record(data: Any) -> None:
        """A handler taking the review body, as the real route does."""

    record.__annotations__.update(data=cast(Any, JSONBody)[body], **{"return": None})
    return (
        Litestar([post("/reviews", sync_to_thread=False)(record)])
        .route_handler_method_map["/reviews"]["POST"]
        .signature_model
    )


def main(number: int = 5_000, repeat: int = 60) -> None:
    """Print the cost per body of each way, and its ratio to the raw baseline."""
    body_type, model = input_type(ReviewRecorded), _signature_model()
    raw = json.dumps(REVIEW).encode()
    options: dict[str, Any] = {"strict": False, "str_keys": True}
    ways = {
        "raw: decode straight to the type": lambda: msgspec.json.decode(raw, type=body_type),
        "decode to builtins + convert": lambda: convert(msgspec.json.decode(raw), body_type),
        "before: builtins, Litestar converts all": lambda: msgspec.convert(
            {"data": msgspec.json.decode(raw)}, model, **options
        ),
        "now: builtins + convert, Litestar passes": lambda: msgspec.convert(
            {"data": convert(msgspec.json.decode(raw), body_type)}, model, **options
        ),
    }
    # Rounds taking each way in turn, and the best round of each: on a shared machine the slower
    # rounds measure the neighbours, and a burst then slows every way alike.
    micros = dict.fromkeys(ways, float("inf"))
    for _ in range(repeat):
        for name, run in ways.items():
            micros[name] = min(micros[name], timeit.timeit(run, number=number) / number * 1e6)
    raw_us, before_us = (
        micros["raw: decode straight to the type"],
        micros["before: builtins, Litestar converts all"],
    )
    for name, us in micros.items():
        print(f"{name:<42} {us:6.2f} us  {us / raw_us:4.2f}x raw  {us / before_us:4.2f}x before")


if __name__ == "__main__":
    main()
