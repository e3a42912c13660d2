"""The organisation's OpenID provider: its discovery document, and HTTP exchanges with it.

Used by the pages' sign-in (``service.pages.oidc``) and by single sign-on for API clients
(``service.http.sso``). Blocking exchanges use the standard library's client, as PyJWT does for the
keys: serving imports no other HTTP client."""

from __future__ import annotations

import functools
import json
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Any

import anyio.to_thread
import jwt

__all__ = ["Provider", "ProviderRefused", "discover", "fetch_json"]

_TIMEOUT = 10.0


class ProviderRefused(Exception):
    """The provider's answer cannot be used; the message says why, in words for the person signing in."""


@dataclass(frozen=True)
class Provider:
    """What discovery says about an OpenID provider."""

    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    end_session_endpoint: str | None = None

    @functools.cached_property
    def keys(self) -> jwt.PyJWKClient:
        """The provider's signing keys, cached and fetched again for a key id not seen before.

        No cool-down before that fetch: ID tokens come from the provider's own token endpoint, never
        from the browser, so nobody else can make Waymark fetch the keys again and again."""
        return jwt.PyJWKClient(self.jwks_uri, lifespan=300, timeout=int(_TIMEOUT), cooldown_duration=0)


def fetch_json(url: str, headers: dict[str, str], data: bytes | None = None) -> tuple[int, dict[str, Any]]:
    """An HTTP exchange with the provider (blocking: the standard library's client, as PyJWT uses for
    the keys; serving imports no other HTTP client)."""
    if urllib.parse.urlsplit(url).scheme not in ("https", "http"):
        raise ProviderRefused("The identity provider's address must be http(s).")
    request = urllib.request.Request(url, data=data, headers=headers)  # noqa: S310 - scheme checked
    try:
        with urllib.request.urlopen(request, timeout=_TIMEOUT) as answer:  # noqa: S310 - scheme checked
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as refused:
        return refused.code, {}


async def discover(issuer: str) -> Provider:
    """Read the provider's discovery document; its issuer must be the configured one exactly."""
    url = issuer.rstrip("/") + "/.well-known/openid-configuration"
    status, document = await anyio.to_thread.run_sync(fetch_json, url, {"Accept": "application/json"})
    if status != 200:
        raise ProviderRefused("The identity provider's discovery document could not be read.")
    if document.get("issuer") != issuer:
        raise ProviderRefused("The identity provider's discovery document names another issuer.")
    return Provider(
        issuer=issuer,
        authorization_endpoint=document["authorization_endpoint"],
        token_endpoint=document["token_endpoint"],
        jwks_uri=document["jwks_uri"],
        end_session_endpoint=document.get("end_session_endpoint"),
    )
