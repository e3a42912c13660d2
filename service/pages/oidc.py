"""OpenID Connect sign-in: issuer discovery, the authorization code flow with PKCE (authlib builds
the requests), and the ID token checked against the provider's published keys (PyJWT, which fetches
them again when a token names a key it has not seen: the provider rotated its keys)."""

from __future__ import annotations

import base64
import secrets
import urllib.parse
from typing import Any

import anyio.to_thread
import jwt
from authlib.oauth2.rfc6749.parameters import prepare_grant_uri, prepare_token_request
from authlib.oauth2.rfc7636 import create_s256_code_challenge

from events.values import Role
from service.http.identity_provider import Provider, ProviderRefused, discover, fetch_json
from service.pages.session import SignIn

__all__ = ["Provider", "SignInRefused", "discover", "identity", "redirect_to_provider"]

PAGE_ROLES = (Role.CLINICIAN, Role.GOVERNANCE)
"""Roles the pages serve; reporting sees no free text and admin no person's record."""

SignInRefused = ProviderRefused
"""The provider's answer cannot sign this person in; the message says why, in words for them."""


def redirect_to_provider(
    provider: Provider, client_id: str, redirect_uri: str, next_page: str
) -> tuple[str, SignIn]:
    """Where to send the browser to sign in, and what the callback must find again."""
    sign_in = SignIn(
        state=secrets.token_urlsafe(24),
        nonce=secrets.token_urlsafe(24),
        verifier=secrets.token_urlsafe(48),
        next=next_page,
    )
    url = prepare_grant_uri(
        provider.authorization_endpoint,
        client_id,
        "code",
        redirect_uri=redirect_uri,
        scope="openid profile",
        state=sign_in.state,
        nonce=sign_in.nonce,
        code_challenge=create_s256_code_challenge(sign_in.verifier),
        code_challenge_method="S256",
    )
    return url, sign_in


async def identity(
    provider: Provider,
    *,
    client_id: str,
    client_secret: str | None,
    code: str,
    redirect_uri: str,
    sign_in: SignIn,
) -> dict[str, Any]:
    """Exchange the code (with the PKCE verifier) and return the ID token's verified claims."""
    body = prepare_token_request(
        "authorization_code", code=code, redirect_uri=redirect_uri, code_verifier=sign_in.verifier
    )
    headers = {"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"}
    if client_secret:  # client_secret_basic, the method every provider must support (RFC 6749 2.3.1)
        pair = f"{urllib.parse.quote(client_id, safe='')}:{urllib.parse.quote(client_secret, safe='')}"
        headers["Authorization"] = "Basic " + base64.b64encode(pair.encode()).decode()
    else:  # a public client names itself in the form
        body = f"{body}&{urllib.parse.urlencode({'client_id': client_id})}"
    status, answer = await anyio.to_thread.run_sync(
        fetch_json, provider.token_endpoint, headers, body.encode()
    )
    if status != 200:
        raise SignInRefused("The identity provider did not accept the sign-in: please sign in again.")
    id_token = answer.get("id_token")
    if not isinstance(id_token, str):
        raise SignInRefused("The identity provider sent no ID token.")
    return await anyio.to_thread.run_sync(_verified, provider, id_token, client_id, sign_in.nonce)


def _verified(provider: Provider, id_token: str, client_id: str, nonce: str) -> dict[str, Any]:
    try:
        key = provider.keys.get_signing_key_from_jwt(id_token)
        claims: dict[str, Any] = jwt.decode(
            id_token,
            key.key,
            algorithms=["RS256", "PS256", "ES256"],
            audience=client_id,
            issuer=provider.issuer,
            leeway=60,
            options={"require": ["exp", "iat", "sub", "iss", "aud"]},
        )
    except jwt.PyJWTError:
        raise SignInRefused("The identity provider's ID token could not be verified.") from None
    if not secrets.compare_digest(str(claims.get("nonce", "")), nonce):
        raise SignInRefused("The sign-in did not match this browser's: please sign in again.")
    return claims


def role_of(claims: dict[str, Any], claim: str) -> Role:
    """The Waymark role the claim names (a string or a list of them), if the pages serve it."""
    value = claims.get(claim)
    values = value if isinstance(value, list) else [value]
    for candidate in values:
        if isinstance(candidate, str) and candidate.lower() in {r.value for r in PAGE_ROLES}:
            return Role(candidate.lower())
    raise SignInRefused("Your account has no role these pages serve (clinician or governance).")
