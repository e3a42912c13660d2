"""Single sign-on for API clients: bearer tokens the organisation's identity provider signs (RS256 or
ES256), verified against the keys its discovery document publishes.

The keys are fetched once and cached; a token naming a key id not seen before makes Waymark fetch
them again (at most once per ``cooldown`` seconds, so a flood of made-up key ids cannot turn Waymark
into a load on the provider), so a key rotation needs no restart. The provider's role claim (named in
settings) gives the Waymark role; lifetime, issuer and audience are checked as for Waymark's own
tokens. Nothing is logged of a token, and a refusal says only 401.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import anyio
import anyio.to_thread
import jwt
import msgspec
from litestar.exceptions import NotAuthorizedException
from litestar.middleware import AuthenticationResult
from litestar.security.jwt import Token

from events.values import Actor, Role
from service.http.identity_provider import ProviderRefused, discover

__all__ = ["ALGORITHMS", "IdentityProviderTokens"]

ALGORITHMS = ("RS256", "ES256")
"""The signatures accepted from the provider: asymmetric only (a shared secret is not single sign-on)."""


@dataclass
class IdentityProviderTokens:
    """The organisation's identity provider, as the verifier of the API tokens it issues."""

    issuer: str
    audience: str
    role_claim: str
    longest_seconds: int
    cooldown: float = 10.0
    kept_claims: tuple[str, ...] = ()
    """Claims beside the role kept with the verified token (the organisation's, when there are several)."""
    _keys: jwt.PyJWKClient | None = field(default=None, init=False)

    def signed(self, token: str) -> bool:
        """Whether the token claims to come from this provider (checked, not trusted, until verified)."""
        try:
            header = jwt.get_unverified_header(token)
            claims = jwt.decode(token, options={"verify_signature": False})
        except jwt.PyJWTError:
            return False
        return header.get("alg") in ALGORITHMS and "kid" in header and claims.get("iss") == self.issuer

    async def authenticate(self, token: str) -> AuthenticationResult:
        """The user a verified token names, or 401."""
        keys = await self._discovered()
        claims = await anyio.to_thread.run_sync(self._verified, keys, token)
        lifetime = claims["exp"] - claims["iat"]
        actor = _actor(claims, self.role_claim)
        if actor is None or lifetime > self.longest_seconds:
            raise NotAuthorizedException()
        issued = Token(
            exp=datetime.fromtimestamp(claims["exp"], UTC),
            sub=actor.id,
            iat=datetime.fromtimestamp(claims["iat"], UTC),
            iss=self.issuer,
            aud=self.audience,
            extras={"role": actor.role.value}
            | {name: claims[name] for name in self.kept_claims if name in claims},
        )
        return AuthenticationResult(user=actor, auth=issued)

    async def _discovered(self) -> jwt.PyJWKClient:
        """The provider's key set, found through its discovery document on first use (a provider
        that cannot be reached verifies nothing: 401)."""
        # No lock: two first requests at once may both read the discovery document; either's
        # key set serves (they are the same), and the client's own lock guards its cache.
        if self._keys is None:
            try:
                provider = await discover(self.issuer)
            except (ProviderRefused, OSError, KeyError):
                raise NotAuthorizedException() from None
            self._keys = jwt.PyJWKClient(
                provider.jwks_uri, lifespan=300, timeout=5, cooldown_duration=self.cooldown
            )
        return self._keys

    def _verified(self, keys: jwt.PyJWKClient, token: str) -> dict[str, Any]:
        try:
            key = keys.get_signing_key_from_jwt(token)
            claims: dict[str, Any] = jwt.decode(
                token,
                key.key,
                algorithms=list(ALGORITHMS),
                audience=self.audience,
                issuer=self.issuer,
                options={"require": ["exp", "iat", "sub", "iss", "aud"]},
            )
        except jwt.PyJWTError:
            raise NotAuthorizedException() from None
        if claims["iat"] > datetime.now(UTC).timestamp() + 60:
            raise NotAuthorizedException()  # issued in the future: a clock or a forgery
        return claims


def _actor(claims: dict[str, Any], role_claim: str) -> Actor | None:
    """The Waymark user: the subject, with the first Waymark role the role claim names."""
    value = claims.get(role_claim)
    roles = {role.value for role in Role}
    for candidate in value if isinstance(value, list) else [value]:
        if isinstance(candidate, str) and candidate.lower() in roles:
            try:
                return msgspec.convert({"id": claims["sub"], "role": candidate.lower()}, Actor)
            except msgspec.ValidationError:
                return None  # a subject Waymark cannot record as an actor
    return None
