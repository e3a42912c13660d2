"""A small local OpenID provider for tests: a FAKE of an outside system (the organisation's identity
provider, such as NHS CIS2 or Entra ID), run by the test suite itself in a thread on a free port.

It publishes a discovery document and a JWKS (RS256), signs in whichever test user the test chose
(user id and role claim) without a form, and honours PKCE (S256) at its token endpoint. Its signing
key can be rotated mid-run (``rotate_key``): tokens are then signed with a new key id, and the JWKS
lists the new key (and the old one unless ``retire_old``), as real providers do.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlparse

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

__all__ = ["LocalOpenIDProvider", "TestUser"]


@dataclass(frozen=True)
class TestUser:
    """Who the provider signs in next: a subject, a role claim and a display name."""

    sub: str
    role: str | list[str]
    name: str = "Test User"


@dataclass
class _Key:
    kid: str
    private: rsa.RSAPrivateKey


@dataclass
class _Grant:
    user: TestUser
    client_id: str
    redirect_uri: str
    nonce: str | None
    challenge: str | None
    method: str | None


@dataclass
class LocalOpenIDProvider:
    """The fake provider; ``start()`` it, point Waymark's OIDC settings at ``issuer``, ``stop()`` it."""

    client_id: str = "waymark-pages"
    client_secret: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    role_claim: str = "role"
    user: TestUser | None = None
    keys: list[_Key] = field(default_factory=list)
    grants: dict[str, _Grant] = field(default_factory=dict)
    token_requests: int = 0
    _server: ThreadingHTTPServer | None = None

    def start(self) -> LocalOpenIDProvider:
        """Listen on a free loopback port in a daemon thread."""
        if not self.keys:
            self.rotate_key()
        provider = self

        class Handler(_Handler):
            owner = provider

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        """Stop listening."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    @property
    def issuer(self) -> str:
        """The issuer identifier (and base address)."""
        assert self._server is not None, "start the provider first"
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def sign_in_as(self, sub: str, role: str | list[str], name: str = "Test User") -> None:
        """The next authorization request signs in this user."""
        self.user = TestUser(sub, role, name)

    def rotate_key(self, *, retire_old: bool = False) -> str:
        """Sign from now on with a new key; return its key id."""
        key = _Key(f"key-{len(self.keys) + 1}-{secrets.token_hex(4)}", rsa.generate_private_key(65537, 2048))
        self.keys = [key] if retire_old else [*self.keys, key]
        return key.kid

    def issue(self, claims: dict[str, Any], *, ttl: int = 300) -> str:
        """A token signed with the current key, with iss, iat and exp filled in."""
        now = int(time.time())
        key = self.keys[-1]
        body = {"iss": self.issuer, "iat": now, "exp": now + ttl, **claims}
        return jwt.encode(body, key.private, algorithm="RS256", headers={"kid": key.kid})

    def jwks(self) -> dict[str, Any]:
        """The published keys."""
        published = []
        for key in self.keys:
            jwk = RSAAlgorithm.to_jwk(key.private.public_key(), as_dict=True)
            published.append({**jwk, "kid": key.kid, "use": "sig", "alg": "RS256"})
        return {"keys": published}

    def discovery(self) -> dict[str, Any]:
        """The discovery document."""
        return {
            "issuer": self.issuer,
            "authorization_endpoint": f"{self.issuer}/authorize",
            "token_endpoint": f"{self.issuer}/token",
            "jwks_uri": f"{self.issuer}/jwks",
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "code_challenge_methods_supported": ["S256"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        }

    def authorize(self, query: dict[str, str]) -> str:
        """Sign in the chosen user and return where to send the browser back (with a code)."""
        if (
            self.user is None
            or query.get("client_id") != self.client_id
            or query.get("response_type") != "code"
        ):
            raise ValueError("not the code flow")
        code = secrets.token_urlsafe(24)
        self.grants[code] = _Grant(
            self.user,
            self.client_id,
            query["redirect_uri"],
            query.get("nonce"),
            query.get("code_challenge"),
            query.get("code_challenge_method"),
        )
        return f"{query['redirect_uri']}?{urlencode({'code': code, 'state': query.get('state', '')})}"

    def token(self, form: dict[str, str], basic: tuple[str, str] | None) -> dict[str, Any]:
        """Exchange a code once, checking client, redirect and the PKCE verifier."""
        self.token_requests += 1
        client_id, secret = basic or (form.get("client_id", ""), form.get("client_secret", ""))
        if (client_id, secret) != (self.client_id, self.client_secret):
            raise PermissionError("invalid_client")
        grant = self.grants.pop(form.get("code", ""), None)
        if grant is None or form.get("redirect_uri") != grant.redirect_uri:
            raise PermissionError("invalid_grant")
        verifier = form.get("code_verifier", "")
        digest = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        if grant.method != "S256" or grant.challenge != digest:
            raise PermissionError("invalid_grant")
        claims: dict[str, Any] = {"sub": grant.user.sub, "aud": self.client_id, "name": grant.user.name}
        claims[self.role_claim] = grant.user.role
        if grant.nonce:
            claims["nonce"] = grant.nonce
        return {
            "token_type": "Bearer",
            "expires_in": 300,
            "id_token": self.issue(claims),
            "access_token": self.issue(claims),
        }


class _Handler(BaseHTTPRequestHandler):
    owner: LocalOpenIDProvider

    def log_message(self, format: str, *args: Any) -> None:
        return

    def _json(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        url = urlparse(self.path)
        if url.path == "/.well-known/openid-configuration":
            self._json(200, self.owner.discovery())
        elif url.path == "/jwks":
            self._json(200, self.owner.jwks())
        elif url.path == "/authorize":
            query = {k: v[0] for k, v in parse_qs(url.query).items()}
            try:
                location = self.owner.authorize(query)
            except (ValueError, KeyError):
                self._json(400, {"error": "invalid_request"})
                return
            self.send_response(302)
            self.send_header("Location", location)
            self.send_header("Content-Length", "0")
            self.end_headers()
        else:
            self._json(404, {"error": "not_found"})

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
        basic = None
        if (header := self.headers.get("Authorization", "")).startswith("Basic "):
            user, _, password = base64.b64decode(header[6:]).decode().partition(":")
            basic = (user, password)
        if urlparse(self.path).path != "/token":
            self._json(404, {"error": "not_found"})
            return
        try:
            self._json(200, self.owner.token(form, basic))
        except PermissionError as refused:
            self._json(400, {"error": str(refused)})
