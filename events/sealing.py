"""Sealing: the free text and identifiers of a stored entry encrypted under a data key of its own
(AES-256-GCM), so destroying that key erases them (crypto-shredding) while the entry's structure,
its stored bytes and so the hash chain over them stay as they were.

Which values are sealed follows from the entry types: every string typed ``Text``, ``ShortText`` or
``StoryText`` (alone, optional or in a tuple), in the entry, in a correction's ``changes`` and in
its ``corrected`` entry, except the few that are structure, not text about a person (``UNSEALED``).
Codes, ids, dates, numbers and user ids stay readable, so the projections' structure, the reports'
counts and the audit trail survive an erasure.

A sealed value is stored as ``SEALED_PREFIX`` + base64(nonce || ciphertext); its associated data is
the entry's place in the log (case id and version), so a sealed value moved to another entry does
not open. Opening an entry whose key was destroyed gives ``ERASED`` for each sealed value, which
every type it was sealed from accepts.
"""

from __future__ import annotations

import binascii
import functools
import hashlib
import os
import types
import typing
from collections.abc import Callable, Sequence
from typing import Annotated, Any
from uuid import UUID

import msgspec
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from events.codec import ENTRY_TYPES
from events.entries import EntryCorrected
from events.values import ShortText, StoryText, Text

__all__ = [
    "ERASED",
    "SEALED_PREFIX",
    "UNSEALED",
    "KeyUnavailable",
    "Keyring",
    "SealBroken",
    "master_id",
    "new_data_key",
    "open_state",
    "open_stored",
    "seal_state",
    "sealed_fields",
]

ERASED = "[erased]"
"""What a sealed value reads as once its key is destroyed."""
SEALED_PREFIX = "sealed:1:"
_PREFIX_LENGTH = len(SEALED_PREFIX)
UNSEALED = frozenset({"service", "decision_ref"})
"""Text-typed fields that are structure, not about the person: the service a case belongs to (reports
count by it) and where a governance decision is minuted (the retention list reads it after erasure)."""
_TEXTS = (Text, ShortText, StoryText)
_NONCE = 12

Box = Callable[[str], str]


def new_data_key() -> bytes:
    """A fresh 256-bit data key for one entry."""
    return AESGCM.generate_key(bit_length=256)


def _is_text(hint: Any) -> bool:
    if any(hint == text for text in _TEXTS):
        return True
    origin = typing.get_origin(hint)
    if origin is Annotated:
        return _is_text(typing.get_args(hint)[0])
    if origin in (typing.Union, types.UnionType, tuple):
        return any(_is_text(arg) for arg in typing.get_args(hint) if arg is not Ellipsis)
    return False


@functools.cache
def sealed_fields(cls: type[msgspec.Struct]) -> frozenset[str]:
    """The fields of an entry type whose values are sealed."""
    hints = typing.get_type_hints(cls, include_extras=True)
    return frozenset(name for name, hint in hints.items() if name not in UNSEALED and _is_text(hint))


def _each(value: Any, box: Box) -> Any:
    if isinstance(value, str):
        return box(value)
    if isinstance(value, list):
        return [box(item) if isinstance(item, str) else item for item in value]
    return value


def _walk(data: dict[str, Any], box: Box) -> None:
    """Apply ``box`` to every sealed value of a stored entry (as plain JSON data), in place."""
    cls = ENTRY_TYPES.get(data.get("type", ""))
    if cls is None:
        return
    for name in sealed_fields(cls):
        if name in data:
            data[name] = _each(data[name], box)
    if cls is EntryCorrected:
        corrected = data.get("corrected")
        if isinstance(corrected, dict):
            target = ENTRY_TYPES.get(corrected.get("type", ""))
            changes = data.get("changes")
            if target is not None and isinstance(changes, dict):
                for name in sealed_fields(target) & changes.keys():
                    changes[name] = _each(changes[name], box)
            _walk(corrected, box)


def _place(case_id: UUID, version: int) -> bytes:
    return case_id.bytes + version.to_bytes(8, "big", signed=True)


def seal_state(state: bytes, key: bytes, case_id: UUID, version: int) -> bytes:
    """A stored entry's JSON with its sealed values encrypted under ``key``."""
    aead, place = AESGCM(key), _place(case_id, version)

    def box(value: str) -> str:
        nonce = os.urandom(_NONCE)
        sealed = aead.encrypt(nonce, value.encode(), place)
        return SEALED_PREFIX + binascii.b2a_base64(nonce + sealed, newline=False).decode()

    data = msgspec.json.decode(state)
    _walk(data, box)
    return msgspec.json.encode(data)


def open_state(state: bytes, key: bytes | None, case_id: UUID, version: int) -> bytes:
    """A sealed entry's JSON with its values opened, or each read as ``ERASED`` when the key (None)
    was destroyed."""
    if key is None:

        def box(value: str) -> str:
            return ERASED if value.startswith(SEALED_PREFIX) else value
    else:
        decrypt, place = AESGCM(key).decrypt, _place(case_id, version)

        def box(value: str) -> str:
            if not value.startswith(SEALED_PREFIX):
                return value
            try:
                raw = binascii.a2b_base64(value[_PREFIX_LENGTH:])
                return decrypt(raw[:_NONCE], raw[_NONCE:], place).decode()
            except (InvalidTag, binascii.Error, UnicodeDecodeError):
                raise SealBroken(case_id, version) from None

    data = msgspec.json.decode(state)
    _walk(data, box)
    return msgspec.json.encode(data)


class SealBroken(ValueError):
    """A sealed value or wrapped key does not open under its key and place: the stored entry (or its
    key) was changed outside Waymark, or moved to another place in the log. Never read as erased."""

    def __init__(self, case_id: UUID, version: int) -> None:
        super().__init__(f"entry {version} of case {case_id} does not open: altered outside Waymark")
        self.case_id, self.version = case_id, version


class KeyUnavailable(LookupError):
    """A data key was wrapped under a master key this process does not hold: it cannot open the
    entry, and will not read it as erased (it was not)."""


def master_id(master: bytes) -> str:
    """The short public name of a master key, stored beside each data key it wraps (for rotation)."""
    return hashlib.sha256(b"waymark master key\n" + master).hexdigest()[:16]


class Keyring:
    """The master key data keys are wrapped under (and retired ones, still opened until every data key
    is wrapped again under the current one: ``waymark keys rotate``)."""

    def __init__(self, current: bytes, retired: Sequence[bytes] = ()) -> None:
        for key in (current, *retired):
            if len(key) != 32:
                raise ValueError("A master key is 32 bytes (256 bits), base64-encoded")
        self.current = master_id(current)
        self._masters = {master_id(key): AESGCM(key) for key in (current, *retired)}
        self.masters = frozenset(self._masters)
        """The ids of every master key this keyring opens with."""

    def wrap(self, data_key: bytes, case_id: UUID, version: int) -> bytes:
        """A data key encrypted under the current master key, bound to its entry."""
        nonce = os.urandom(_NONCE)
        return nonce + self._masters[self.current].encrypt(nonce, data_key, _place(case_id, version))

    def unwrap(self, master: str, wrapped: bytes, case_id: UUID, version: int) -> bytes:
        """The data key of one entry."""
        aead = self._masters.get(master)
        if aead is None:
            raise KeyUnavailable(f"No master key {master} is configured: set WAYMARK_RECORD_KEY(S_RETIRED)")
        try:
            return aead.decrypt(wrapped[:_NONCE], wrapped[_NONCE:], _place(case_id, version))
        except InvalidTag:
            raise SealBroken(case_id, version) from None

    def seal(self, state: bytes, case_id: UUID, version: int) -> tuple[bytes, bytes]:
        """A new entry's stored JSON sealed under a fresh data key, and that key wrapped."""
        data_key = new_data_key()
        return seal_state(state, data_key, case_id, version), self.wrap(data_key, case_id, version)

    def open(self, state: bytes, master: str, wrapped: bytes | None, case_id: UUID, version: int) -> bytes:
        """A stored entry opened with its wrapped key, or read as erased when the key is gone (None)."""
        key = None if wrapped is None else self.unwrap(master, wrapped, case_id, version)
        return open_state(state, key, case_id, version)


def open_stored(
    state: bytes, master: str, wrapped: bytes | None, case_id: UUID, version: int, *, keyring: Keyring | None
) -> bytes:
    """A stored sealed entry opened, or read as erased once its key was destroyed (whatever keys this
    process holds); KeyUnavailable without the master key it was wrapped under, never read as erased."""
    if wrapped is None:
        return open_state(state, None, case_id, version)
    if keyring is None or master not in keyring.masters:
        raise KeyUnavailable("A sealed entry needs its master key: set WAYMARK_RECORD_KEY")
    return keyring.open(state, master, wrapped, case_id, version)
