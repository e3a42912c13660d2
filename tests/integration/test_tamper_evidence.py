"""A tamper-evident record: every stored entry is linked into one hash chain as it is written, and
`waymark audit verify` names each kind of tampering done in PostgreSQL directly, with its position:
one byte of an entry changed, an entry deleted (with or without its link), two swapped, one inserted
around Waymark, and the tail rewritten with fresh links (which only a signed checkpoint reveals)."""

from __future__ import annotations

import os
import subprocess
import uuid

import psycopg
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

from events.entries import GoalSet
from service.database import DatabaseAddress
from service.write.chain import GENESIS, Linked, link
from service.write.checkpoints import _SUSPECT, checkpoints, sign_checkpoint, verify_chain
from tests.support.databases import case_records
from tests.support.processes import WAYMARK
from tests.unit.builders import STABILITY, make, opened

KEY = Ed25519PrivateKey.generate()


@pytest.fixture
def log(fresh_database: DatabaseAddress) -> DatabaseAddress:
    """A database holding two cases of four entries each, written by the write side (positions 1-8)."""
    records = case_records(fresh_database)
    try:
        for _ in range(2):
            opening = opened(case_id=uuid.uuid4())
            records.open_case(opening)
            for n in range(3):
                records.record(
                    opening.case_id,
                    make(GoalSet, case_id=opening.case_id, domain=STABILITY, in_own_words=f"goal {n}"),
                )
    finally:
        records.close()
    return fresh_database


def _sql(address: DatabaseAddress, statement: str, *args: object) -> None:
    with psycopg.connect(**address.connect_kwargs(), autocommit=True) as conn:
        conn.execute(statement, args)


def _verdict(address: DatabaseAddress) -> tuple[int, str] | None:
    verdict = verify_chain(address, KEY.public_key(), checkpoints(address))
    return None if verdict.broken is None else (verdict.broken.position, verdict.broken.kind)


def test_an_untouched_log_holds_and_every_entry_is_checked(log: DatabaseAddress) -> None:
    verdict = verify_chain(log, KEY.public_key(), checkpoints(log))
    assert verdict.broken is None
    assert verdict.checked == 8
    with psycopg.connect(**log.connect_kwargs()) as conn:
        suspect = conn.execute(_SUSPECT, {"after": 0, "link": GENESIS}).fetchone()
    assert suspect == (None, 8), "PostgreSQL's pass hashes the bytes the Python links hash"


def test_one_byte_of_an_entry_changed_is_named(log: DatabaseAddress) -> None:
    _sql(
        log,
        "UPDATE case_records_events SET state = overlay(state placing 'X' from 20 for 1)"
        " WHERE notification_id = 6",
    )
    assert _verdict(log) == (6, "altered")


@pytest.mark.parametrize("with_its_link", [False, True], ids=["entry", "entry-and-link"])
def test_a_deleted_entry_is_named(log: DatabaseAddress, with_its_link: bool) -> None:
    _sql(log, "DELETE FROM case_records_events WHERE notification_id = 3")
    if with_its_link:
        _sql(log, "DELETE FROM case_records_events_chain WHERE position = 3")
    assert _verdict(log) == (3, "deleted")


def test_two_swapped_entries_are_named(log: DatabaseAddress) -> None:
    _sql(
        log,
        "UPDATE case_records_events SET notification_id = -notification_id WHERE notification_id IN (2, 7)",
    )
    _sql(
        log,
        "UPDATE case_records_events SET notification_id = CASE notification_id WHEN -2 THEN 7 ELSE 2 END"
        " WHERE notification_id IN (-2, -7)",
    )
    verdict = verify_chain(log, KEY.public_key(), [])
    assert verdict.broken is not None
    assert (verdict.broken.position, verdict.broken.kind) == (2, "swapped")
    assert "position 7" in verdict.broken.detail


def test_an_entry_inserted_around_waymark_is_named(log: DatabaseAddress) -> None:
    _sql(
        log,
        "INSERT INTO case_records_events (originator_id, originator_version, topic, state)"
        " SELECT originator_id, 99, topic, state FROM case_records_events WHERE notification_id = 4",
    )
    assert _verdict(log) == (9, "inserted")


def test_a_tail_rewritten_with_fresh_links_is_named_by_the_signed_checkpoint(log: DatabaseAddress) -> None:
    made = sign_checkpoint(log, KEY)
    assert made is not None
    assert made.position == 8
    _rewrite_tail(log, from_position=6)
    assert _verdict_without_checkpoints(log) is None, "links rewritten"
    assert verify_chain(log, KEY.public_key(), []).broken is None, "without a checkpoint it cannot show"
    assert _verdict(log) == (8, "rewritten")


def _verdict_without_checkpoints(address: DatabaseAddress) -> object:
    with psycopg.connect(**address.connect_kwargs()) as conn:
        changed = conn.execute(
            "SELECT convert_from(state, 'UTF8') FROM case_records_events WHERE notification_id = 6"
        )
        assert "GOAL" in str(changed.fetchone())
    return verify_chain(address, None, []).broken


def _rewrite_tail(address: DatabaseAddress, from_position: int) -> None:
    """Change an entry and recompute every link from it on, as someone without the signing key can."""
    _sql(
        address,
        "UPDATE case_records_events"
        " SET state = convert_to(replace(convert_from(state, 'UTF8'), 'goal', 'GOAL'), 'UTF8')"
        " WHERE notification_id = %s",
        from_position,
    )
    with psycopg.connect(**address.connect_kwargs(), autocommit=True) as conn:
        (previous,) = conn.execute(
            "SELECT link FROM case_records_events_chain WHERE position = %s", (from_position - 1,)
        ).fetchone() or (b"",)
        rows = conn.execute(
            "SELECT notification_id, originator_id, originator_version, topic, state FROM case_records_events"
            " WHERE notification_id >= %s ORDER BY notification_id",
            (from_position,),
        ).fetchall()
        for position, case_id, version, topic, state in rows:
            previous = link(bytes(previous), position, Linked(case_id, version, topic, bytes(state)))
            conn.execute(
                "UPDATE case_records_events_chain SET link = %s WHERE position = %s", (previous, position)
            )


def test_a_forged_checkpoint_does_not_count_and_is_reported(log: DatabaseAddress) -> None:
    sign_checkpoint(log, Ed25519PrivateKey.generate())  # signed with a key nobody trusts
    verdict = verify_chain(log, KEY.public_key(), checkpoints(log))
    assert verdict.broken is None
    assert verdict.unsigned == [8]


@pytest.mark.slow  # starts the command three times
def test_waymark_audit_verify_names_the_break_and_exits_1(log: DatabaseAddress) -> None:
    pem = KEY.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()).decode()
    env = {**os.environ, "DATABASE_URL": log.url, "WAYMARK_AUDIT_SIGNING_KEY": pem}
    signed = subprocess.run(
        [WAYMARK, "audit", "checkpoint"], env=env, capture_output=True, text=True, check=False
    )
    assert signed.returncode == 0, signed.stderr
    assert '"position":8' in signed.stdout
    holds = subprocess.run([WAYMARK, "audit", "verify"], env=env, capture_output=True, text=True, check=False)
    assert holds.returncode == 0, holds.stderr
    assert "the chain holds: 8 entries" in holds.stdout
    _sql(log, "DELETE FROM case_records_events WHERE notification_id = 5")
    broken = subprocess.run(
        [WAYMARK, "audit", "verify"], env=env, capture_output=True, text=True, check=False
    )
    assert broken.returncode == 1
    assert "BROKEN at position 5: deleted" in broken.stdout
