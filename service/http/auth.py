"""Who may do what: bearer JWTs (signature, expiry, issuer, audience), then role and care team."""

from __future__ import annotations

import hashlib
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

import anyio.to_thread
import jwt
import msgspec
from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler
from litestar.middleware import AuthenticationResult, DefineMiddleware
from litestar.security.jwt import JWTAuth, JWTAuthenticationMiddleware, Token

from events.case import Case
from events.values import Actor, Role
from service.http.sso import IdentityProviderTokens
from service.settings import Settings

__all__ = [
    "AccessDenied",
    "LifetimeTooLong",
    "VerifiedTokens",
    "authorise_write",
    "issue_token",
    "jwt_auth",
    "requires",
]

PUBLIC_PATHS = ["^/health$", "^/ready$", "^/schema", "^/problems", "^/metrics$"]


class AccessDenied(Exception):
    """The user is authenticated but has no legitimate relationship to this record."""


async def _actor_from_token(token: Token, _: ASGIConnection[Any, Any, Any, Any]) -> Actor | None:
    try:
        return msgspec.convert({"id": token.sub, "role": token.extras.get("role")}, Actor)
    except msgspec.ValidationError:
        return None


class VerifiedTokens:
    """One app's memory of the tokens it has verified, each until its ``exp``.

    Verifying a signature and its claims was a quarter of the CPU a write cost; a client sends the same
    token with every request. Only an exact token string that passed every check (the lifetime check
    included) is remembered, under the key that verified it, and only by the app whose settings
    checked it: ``jwt_auth`` makes one memory per app, never one per process.
    """

    def __init__(self, limit: int = 10_000) -> None:
        self._entries: OrderedDict[tuple[bytes, str], tuple[AuthenticationResult, float]] = OrderedDict()
        self._limit = limit

    def recall(self, key_id: bytes, token: str) -> AuthenticationResult | None:
        """What verifying ``token`` with this key gave, if it was verified and has not expired."""
        remembered = self._entries.get((key_id, token))
        if remembered is not None and remembered[1] > time.time():
            return remembered[0]
        return None

    def remember(self, key_id: bytes, token: str, result: AuthenticationResult) -> None:
        """Keep a verified token's result until the token expires (the oldest leave first when full)."""
        expires = result.auth.exp.timestamp() if isinstance(result.auth, Token) else 0.0
        self._entries[(key_id, token)] = (result, expires)
        if len(self._entries) > self._limit:
            self._entries.popitem(last=False)


class _RememberingMiddleware(JWTAuthenticationMiddleware):
    """The library's JWT check, asking the app's memory first (the library makes one instance per
    route, so the memory lives in the app's auth config and is handed to each)."""

    def __init__(
        self,
        *args: Any,
        verified: VerifiedTokens,
        provider: IdentityProviderTokens | None,
        organisation: tuple[str, str] | None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self._verified = verified
        self._provider = provider
        self._organisation = organisation
        self._key_id = hashlib.sha256(f"{self.algorithm}\n{self.token_secret}".encode()).digest()
        self._provider_id = hashlib.sha256(f"sso\n{provider.issuer if provider else ''}".encode()).digest()

    async def authenticate_token(
        self, encoded_token: str, connection: ASGIConnection[Any, Any, Any, Any]
    ) -> AuthenticationResult:
        # Remembered tokens first: the unverified look at who signed a token costs two decodes,
        # and a client sends the same token with every request.
        for key_id in (self._key_id, self._provider_id) if self._provider else (self._key_id,):
            if (remembered := self._verified.recall(key_id, encoded_token)) is not None:
                return remembered
        if self._provider is not None and self._provider.signed(encoded_token):
            result = await self._provider.authenticate(encoded_token)
            key_id = self._provider_id
        else:
            result = await super().authenticate_token(encoded_token, connection)
            key_id = self._key_id
        self._of_this_organisation(result)
        self._verified.remember(key_id, encoded_token, result)
        return result

    def _of_this_organisation(self, result: AuthenticationResult) -> None:
        """With several organisations on one installation, each Waymark serves only tokens naming
        its own organisation (the router chose it by the same claim; this is the second lock)."""
        if self._organisation is None:
            return
        claim, organisation = self._organisation
        named = result.auth.extras.get(claim) if isinstance(result.auth, Token) else None
        if named != organisation:
            raise NotAuthorizedException("the token names another organisation")


@dataclass
class _RememberingJWTAuth(JWTAuth[Actor, Token]):
    """The library's JWT config, holding this app's memory of verified tokens for its middleware."""

    verified: VerifiedTokens = field(default_factory=VerifiedTokens)
    provider: IdentityProviderTokens | None = None
    """The organisation's identity provider, when API clients sign in through it (single sign-on)."""
    organisation: tuple[str, str] | None = None
    """The claim and the organisation every token must name, when one installation serves several."""
    authentication_middleware_class: type[JWTAuthenticationMiddleware] = _RememberingMiddleware

    @property
    def middleware(self) -> DefineMiddleware:
        """The library's middleware definition, given this app's memory."""
        defined = super().middleware
        defined.kwargs["verified"] = self.verified
        defined.kwargs["provider"] = self.provider
        defined.kwargs["organisation"] = self.organisation
        return defined


def jwt_auth(settings: Settings) -> JWTAuth[Actor, Token]:
    """Bearer JWT authentication for every route but health, readiness, the schema and problem docs."""
    key, algorithm = settings.signing_key()
    longest = settings.jwt_max_lifetime_seconds

    async def lives_too_long(token: Token, _: ASGIConnection[Any, Any, Any, Any]) -> bool:
        # The library calls this to ask whether a token is revoked: one that lives longer than the
        # longest lifetime is refused alike. iat is required and may not lie in the future.
        return (token.exp - token.iat).total_seconds() > longest

    provider = None
    if settings.sso_issuer:
        provider = IdentityProviderTokens(
            issuer=settings.sso_issuer,
            audience=settings.sso_audience or settings.jwt_audience,
            role_claim=settings.oidc_role_claim,
            longest_seconds=longest,
            cooldown=settings.sso_keys_cooldown_seconds,
            kept_claims=(settings.organisation_claim,),
        )
    return _RememberingJWTAuth(
        provider=provider,
        organisation=(settings.organisation_claim, settings.organisation) if settings.organisation else None,
        retrieve_user_handler=_actor_from_token,
        revoked_token_handler=lives_too_long,
        token_secret=key,
        algorithm=algorithm,
        accepted_audiences=[settings.jwt_audience],
        accepted_issuers=[settings.jwt_issuer],
        require_claims=["exp", "iat", "sub", "iss", "aud"],
        exclude=PUBLIC_PATHS,
        description="A JWT with claims sub (user id), role (clinician, governance, reporting, admin), "
        f"iss, aud, iat and exp, living at most {longest} seconds from iat to exp.",
    )


class LifetimeTooLong(ValueError):
    """A token was asked to live longer than the server accepts."""


def issue_token(
    settings: Settings, *, sub: str, role: Role, ttl_seconds: int, organisation: str | None = None
) -> str:
    """Sign a token for local use (demo and tests): HS256 with the secret, or RS256 with the private key.

    Never one the server would refuse: ``ttl_seconds`` beyond the longest lifetime raises LifetimeTooLong.
    """
    if ttl_seconds > settings.jwt_max_lifetime_seconds:
        raise LifetimeTooLong(
            f"a token may live at most {settings.jwt_max_lifetime_seconds} seconds "
            "(WAYMARK_JWT_MAX_LIFETIME_SECONDS): the server refuses longer ones."
        )
    now = int(time.time())
    claims = {
        "sub": sub,
        "role": role.value,
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "iat": now,
        "exp": now + ttl_seconds,
    }
    if organisation is not None:
        claims[settings.organisation_claim] = organisation
    if settings.jwt_public_key:
        if not settings.jwt_private_key:
            raise PermissionError("Signing RS256 tokens needs WAYMARK_JWT_PRIVATE_KEY[_FILE]")
        return jwt.encode(claims, settings.jwt_private_key, algorithm="RS256")
    key, algorithm = settings.signing_key()
    return jwt.encode(claims, key, algorithm=algorithm)


def requires(*roles: Role) -> Any:
    """A guard admitting only the given roles."""

    # An async guard runs on the event loop; Litestar sends a sync one to a worker thread.
    async def guard(connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler) -> None:
        # The authentication middleware lets OPTIONS through without a token (CORS preflight needs
        # that) and then sets no user at all; ``connection.user`` would raise. The OPTIONS answer is
        # the route's Allow header, which the public schema shows anyway.
        user = connection.scope.get("user")
        if user is None:
            if connection.scope.get("method") == "OPTIONS":
                return
            raise NotAuthorizedException
        if not isinstance(user, Actor) or user.role not in roles:
            await _log_refused_read(connection, user, handler)
            raise PermissionDeniedException(f"This needs one of the roles: {', '.join(roles)}")

    return guard


async def _log_refused_read(
    connection: ASGIConnection[Any, Any, Any, Any], user: object, handler: BaseRouteHandler
) -> None:
    """A read of one person's record refused for the reader's role is logged like a refusal for not
    being on the care team (a write refused is not a read, and is in the server's log only)."""
    case_id = connection.path_params.get("case_id")
    records = getattr(connection.app.state, "records", None)
    if connection.scope.get("method") != "GET" or not isinstance(user, Actor) or case_id is None:
        return
    if records is not None:
        view = getattr(handler, "operation_id", None) or handler.handler_name
        await anyio.to_thread.run_sync(
            lambda: records.case_recorder.record_view(
                user.id, user.role.value, case_id, str(view), None, outcome="refused"
            )
        )


def authorise_write(actor: Actor, case: Case) -> None:
    """Clinicians write only to cases whose care team includes them."""
    if actor.role is not Role.CLINICIAN or actor.id not in case.state.care_team:
        raise AccessDenied
