"""Signed bearer tokens for the tests (the session's ``auth`` fixture makes them)."""

from __future__ import annotations

from collections.abc import Callable

TokenFactory = Callable[..., dict[str, str]]
"""``auth("clinician", "c-1")``: Authorization headers for a user in a role (extra headers as keywords)."""
