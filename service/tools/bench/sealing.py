"""What sealing costs (issue 12): appends and a 1,000-entry replay with each entry's text sealed under
its own data key, beside the same work unsealed, measured in the same run on the same database.

    DATABASE_URL=postgresql://... python -m service.tools.bench.sealing [--appends N] [--runs R]

Appends: one writer recording reviews that carry the four recovery questions' free text (load the
case, check the rules, seal, store with its key), on a case of its own per run. Replay: every entry of
a case of 1,000 such reviews read back from the store (select, open, decode) and folded into the
case, with nothing kept in memory from before. Each figure is the median of the runs; sealed and
unsealed runs alternate, so drift on a noisy machine falls on both alike."""

from __future__ import annotations

import argparse
import base64
import os
import statistics
import time
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime

import msgspec

from events.entries import CaseOpened, ReviewRecorded
from events.replay import case_of
from events.values import Actor, Role
from service.bootstrap import write_side
from service.database import DatabaseAddress, ensure_database
from service.settings import Settings
from service.tools.bench.commands import DOMAIN, review
from service.write.application import CaseRecords

__all__ = ["main"]

_WHO = Actor(id="bench-sealing", role=Role.CLINICIAN)
_DOMAIN = DOMAIN


def _review(case_id: uuid.UUID) -> ReviewRecorded:
    """The commands suite's review, by this suite's clinician, with the four questions answered."""
    return msgspec.structs.replace(
        review(case_id),
        actor=_WHO,
        easier_now="getting up in the morning and going to the shop on my own",
        most_difficult="crowded buses and phone calls with the housing office",
        helpful_strategies="planning the route the night before; a text to my sister",
        next_step="take the bus to the allotment with support on Tuesday",
    )


def _case(records: CaseRecords) -> uuid.UUID:
    now, case_id = datetime.now(UTC), uuid.uuid4()
    opened = CaseOpened(
        entry_id=uuid.uuid4(),
        case_id=case_id,
        actor=_WHO,
        recorded_at=now,
        occurred_at=now,
        person_ref=f"P-bench-{case_id.hex[:8]}",
        service="bench",
        opened_on=date.today(),
        care_team=(_WHO.id,),
        domains=(_DOMAIN,),
    )
    records.open_case(opened)
    return case_id


def _appends_per_second(records: CaseRecords, count: int) -> float:
    case_id = _case(records)
    started = time.perf_counter()
    for _ in range(count):
        records.record(case_id, _review(case_id))
    return count / (time.perf_counter() - started)


def _replay_ms(records: CaseRecords, case_id: uuid.UUID) -> float:
    started = time.perf_counter()
    entries = records.entries(case_id, after=0, limit=1_000_000)
    case = case_of(entries, version=len(entries))
    elapsed = (time.perf_counter() - started) * 1000
    if case is None or len(entries) != 1001:
        raise RuntimeError("The replayed case is not the one written")
    return elapsed


def _median(runs: int, measure: Callable[[], float]) -> float:
    return statistics.median(measure() for _ in range(runs))


def main() -> None:
    """Measure both ways and print the figures with their ratio."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--appends", type=int, default=300, help="Appends per run (default 300).")
    parser.add_argument("--runs", type=int, default=5, help="Runs per figure (median; default 5).")
    args = parser.parse_args()
    server = DatabaseAddress.from_url(os.environ["DATABASE_URL"])
    address = ensure_database(server, "waymark_bench_sealing")
    key = base64.b64encode(os.urandom(32)).decode()
    plain = write_side(address, Settings(database_url=address.url, db_pool_size=2))
    sealed = write_side(address, Settings(database_url=address.url, db_pool_size=2, record_key=key))
    both = {"unsealed": plain, "sealed": sealed}
    try:
        appends: dict[str, list[float]] = {name: [] for name in both}
        for _ in range(args.runs):
            for name, records in both.items():
                appends[name].append(_appends_per_second(records, args.appends))
        long_cases = {name: _case(records) for name, records in both.items()}
        for name, records in both.items():
            for _ in range(1000):
                records.record(long_cases[name], _review(long_cases[name]))
        replays = {
            name: _median(args.runs, lambda r=records, c=long_cases[name]: _replay_ms(r, c))  # type: ignore[misc]
            for name, records in both.items()
        }
    finally:
        plain.close()
        sealed.close()
    a_plain, a_sealed = (statistics.median(appends[n]) for n in ("unsealed", "sealed"))
    print(f"appends/s (one writer, {args.appends} per run, median of {args.runs}):")
    print(f"  unsealed {a_plain:8.0f}   sealed {a_sealed:8.0f}   sealed/unsealed {a_sealed / a_plain:.2f}")
    r_plain, r_sealed = replays["unsealed"], replays["sealed"]
    print(f"1,000-entry replay, ms (read, open, decode, fold; median of {args.runs}):")
    print(f"  unsealed {r_plain:8.1f}   sealed {r_sealed:8.1f}   sealed/unsealed {r_sealed / r_plain:.2f}")


if __name__ == "__main__":
    main()
