"""Who may do what: bearer JWTs (signature, expiry, issuer, audience), then role and care team."""

from __future__ import annotations

import time
from collections import OrderedDict
from typing import Any, ClassVar

import jwt
import msgspec
from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler
from litestar.middleware import AuthenticationResult
from litestar.security.jwt import JWTAuth, JWTAuthenticationMiddleware, Token

from events.case import Case
from events.values import Actor, Role
from service.settings import Settings

__all__ = [
    "AccessDenied",
    "authorise_read",
    "authorise_write",
    "issue_token",
    "jwt_auth",
    "requires",
]

PUBLIC_PATHS = ["^/health$", "^/ready$", "^/schema", "^/problems"]


class AccessDenied(Exception):
    """The user is authenticated but has no legitimate relationship to this record."""


async def _actor_from_token(token: Token, _: ASGIConnection[Any, Any, Any, Any]) -> Actor | None:
    try:
        return msgspec.convert({"id": token.sub, "role": token.extras.get("role")}, Actor)
    except msgspec.ValidationError:
        return None


class _VerifiedTokens(JWTAuthenticationMiddleware):
    """The library's JWT check, remembering tokens it has verified until they expire.

    Verifying a signature and its claims was a quarter of the CPU a write cost; a client sends the same
    token with every request. Only an exact token string that passed every check is remembered, and
    never past its ``exp``.
    """

    _verified: ClassVar[OrderedDict[str, tuple[AuthenticationResult, float]]] = OrderedDict()
    _limit: ClassVar[int] = 10_000

    async def authenticate_token(
        self, encoded_token: str, connection: ASGIConnection[Any, Any, Any, Any]
    ) -> AuthenticationResult:
        remembered = self._verified.get(encoded_token)
        if remembered is not None and remembered[1] > time.time():
            return remembered[0]
        result = await super().authenticate_token(encoded_token, connection)
        expires = result.auth.exp.timestamp() if isinstance(result.auth, Token) else 0.0
        self._verified[encoded_token] = (result, expires)
        if len(self._verified) > self._limit:
            self._verified.popitem(last=False)
        return result


def jwt_auth(settings: Settings) -> JWTAuth[Actor, Token]:
    """Bearer JWT authentication for every route but health, readiness, the schema and problem docs."""
    key, algorithm = settings.signing_key()
    return JWTAuth[Actor, Token](
        retrieve_user_handler=_actor_from_token,
        token_secret=key,
        algorithm=algorithm,
        accepted_audiences=[settings.jwt_audience],
        accepted_issuers=[settings.jwt_issuer],
        require_claims=["exp", "sub", "iss", "aud"],
        exclude=PUBLIC_PATHS,
        authentication_middleware_class=_VerifiedTokens,
        description="A JWT with claims sub (user id), role (clinician, governance, reporting, admin), "
        "iss, aud and exp.",
    )


def issue_token(settings: Settings, *, sub: str, role: Role, ttl_seconds: int) -> str:
    """Sign a token for local use (demo and tests): HS256 with the secret, or RS256 with the private key."""
    now = int(time.time())
    claims = {
        "sub": sub,
        "role": role.value,
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "iat": now,
        "exp": now + ttl_seconds,
    }
    if settings.jwt_public_key:
        if not settings.jwt_private_key:
            raise PermissionError("Signing RS256 tokens needs WAYMARK_JWT_PRIVATE_KEY[_FILE]")
        return jwt.encode(claims, settings.jwt_private_key, algorithm="RS256")
    key, algorithm = settings.signing_key()
    return jwt.encode(claims, key, algorithm=algorithm)


def requires(*roles: Role) -> Any:
    """A guard admitting only the given roles."""

    # An async guard runs on the event loop; Litestar sends a sync one to a worker thread.
    async def guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        # The authentication middleware lets OPTIONS through without a token (CORS preflight needs
        # that) and then sets no user at all; ``connection.user`` would raise. The OPTIONS answer is
        # the route's Allow header, which the public schema shows anyway.
        user = connection.scope.get("user")
        if user is None:
            if connection.scope.get("method") == "OPTIONS":
                return
            raise NotAuthorizedException
        if not isinstance(user, Actor) or user.role not in roles:
            raise PermissionDeniedException(f"This needs one of the roles: {', '.join(roles)}")

    return guard


def authorise_write(actor: Actor, case: Case) -> None:
    """Clinicians write only to cases whose care team includes them."""
    if actor.role is not Role.CLINICIAN or actor.id not in case.state.care_team:
        raise AccessDenied


def authorise_read(actor: Actor, case: Case, *, projections: bool = False) -> None:
    """Governance reads every case (admin too, its projections); a clinician reads the cases whose
    care team includes them."""
    if actor.role is Role.GOVERNANCE or (projections and actor.role is Role.ADMIN):
        return
    if actor.role is Role.CLINICIAN and actor.id in case.state.care_team:
        return
    raise AccessDenied
