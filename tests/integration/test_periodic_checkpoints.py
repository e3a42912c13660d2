"""Periodic signed checkpoints: the running service signs the chain's last link every N entries or
every so many minutes (when anything is unsigned), once per round however many processes serve, and
the checkpoints it signs verify. The clock is a value where the minutes are tested: no waiting."""

from __future__ import annotations

import asyncio
import dataclasses
import secrets
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import anyio.to_thread
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat
from litestar.testing import AsyncTestClient

from events.entries import GoalSet
from events.values import Role
from service.bootstrap import Runtime
from service.database import DatabaseAddress
from service.http.app import create_app
from service.http.auth import issue_token
from service.settings import Settings
from service.write.checkpoints import checkpoints, verify_chain
from service.write.periodic import CheckpointPolicy, checkpoint_if_due, keep_checkpoints
from tests.api.helpers import open_case, user
from tests.support.databases import case_records
from tests.support.polling import eventually
from tests.support.tokens import TokenFactory
from tests.unit.builders import STABILITY, make, opened

KEY = Ed25519PrivateKey.generate()
EVERY_THREE = CheckpointPolicy(every_entries=3, every=timedelta(minutes=60), check_seconds=0.05)


def _write(address: DatabaseAddress, goals: int) -> None:
    """A case opened and given ``goals`` goals: 1 + goals entries."""
    records = case_records(address)
    try:
        opening = opened(case_id=uuid.uuid4())
        records.open_case(opening)
        for n in range(goals):
            goal = make(GoalSet, case_id=opening.case_id, domain=STABILITY, in_own_words=f"goal {n}")
            records.record(opening.case_id, goal)
    finally:
        records.close()


def _positions(address: DatabaseAddress) -> list[int]:
    return [kept.position for kept in checkpoints(address)]


async def _signed(address: DatabaseAddress) -> list[int]:
    """The checkpoints' positions, read off the event loop (the signers run on it)."""
    return await anyio.to_thread.run_sync(lambda: _positions(address))


def test_a_checkpoint_is_due_every_n_entries(fresh_database: DatabaseAddress) -> None:
    now = datetime.now(UTC)
    assert checkpoint_if_due(fresh_database, KEY, EVERY_THREE, now) is None  # an empty log
    _write(fresh_database, 3)  # positions 1-4
    assert checkpoint_if_due(fresh_database, KEY, EVERY_THREE, now) is not None
    assert checkpoint_if_due(fresh_database, KEY, EVERY_THREE, now) is None  # nothing new
    _write(fresh_database, 1)  # 2 more: fewer than 3, and the last checkpoint is fresh
    assert checkpoint_if_due(fresh_database, KEY, EVERY_THREE, now) is None
    _write(fresh_database, 0)  # the third
    assert checkpoint_if_due(fresh_database, KEY, EVERY_THREE, now) is not None
    assert _positions(fresh_database) == [4, 7]
    verdict = verify_chain(fresh_database, KEY.public_key(), checkpoints(fresh_database))
    assert (verdict.broken, verdict.unsigned) == (None, [])


def test_a_checkpoint_is_due_after_the_interval_when_anything_is_unsigned(
    fresh_database: DatabaseAddress,
) -> None:
    _write(fresh_database, 3)
    made = checkpoint_if_due(fresh_database, KEY, EVERY_THREE, datetime.now(UTC))
    assert made is not None
    later = made.signed_at + timedelta(minutes=61)
    assert checkpoint_if_due(fresh_database, KEY, EVERY_THREE, later) is None  # nothing unsigned
    _write(fresh_database, 0)
    assert checkpoint_if_due(fresh_database, KEY, EVERY_THREE, made.signed_at + timedelta(minutes=59)) is None
    assert checkpoint_if_due(fresh_database, KEY, EVERY_THREE, later) is not None
    assert _positions(fresh_database) == [4, 5]


@pytest.mark.slow  # two signers taking turns: about 0.6 s
async def test_two_serving_processes_sign_one_checkpoint_per_round(fresh_database: DatabaseAddress) -> None:
    _write(fresh_database, 5)
    stop = asyncio.Event()
    signers = [
        asyncio.create_task(keep_checkpoints(fresh_database, KEY, EVERY_THREE, stop)) for _ in range(2)
    ]
    try:
        await eventually(lambda: _signed(fresh_database), seconds=5)
        await asyncio.sleep(0.3)  # several more rounds of both, with nothing new to sign
    finally:
        stop.set()
        await asyncio.gather(*signers)
    assert _positions(fresh_database) == [6]


@pytest.mark.slow  # a signing runtime of its own: about 0.6 s
async def test_the_running_service_signs_checkpoints_as_entries_arrive(
    fresh_database: DatabaseAddress, auth: TokenFactory, tmp_path: Path, settings: Settings
) -> None:
    pem = KEY.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()).decode()
    signing = dataclasses.replace(
        settings,
        database_url=fresh_database.url,
        data_dir=tmp_path,
        audit_signing_key=pem,
        audit_checkpoint_entries=2,
        audit_checkpoint_check_seconds=0.05,
        jwt_secret=secrets.token_urlsafe(32),
    )
    runtime = Runtime.start(signing)
    try:
        async with AsyncTestClient(app=create_app(runtime, run_projector=False)) as client:
            headers = {"Authorization": f"Bearer {_token(signing)}"}
            case_id = await open_case(client, headers)
            answer = await client.post(
                f"/cases/{case_id}/goals",
                json={"domain": "stability_self_management", "in_own_words": "x"},
                headers=headers,
            )
            assert answer.status_code == 201, answer.text
            # Nothing was signed before: the first round signs what is there, unasked.
            await eventually(lambda: _signed(fresh_database), seconds=5)
    finally:
        runtime.close()
    verdict = verify_chain(fresh_database, KEY.public_key(), checkpoints(fresh_database))
    assert (verdict.broken, verdict.unsigned) == (None, [])


def _token(settings: Settings) -> str:
    return issue_token(settings, sub=user(), role=Role.CLINICIAN, ttl_seconds=600)
