"""Settings, read once at start-up from the environment; secrets never live in code."""

from __future__ import annotations

import base64
import binascii
import dataclasses
import hmac
import json
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import platformdirs

from events.sealing import Keyring

__all__ = ["Settings", "SettingsError"]


class SettingsError(ValueError):
    """A setting is missing or malformed; the message names the environment variable."""


def _default_data_dir() -> Path:
    # As root, embedded PostgreSQL runs as a system user that must traverse the data directory's
    # parents; /var/lib/waymark avoids opening up /root.
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        return Path("/var/lib/waymark")
    return Path(platformdirs.user_data_dir("waymark"))


def _int(name: str, raw: str) -> int:
    try:
        return int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a whole number") from None


_TEXT = {
    "jwt_issuer": "WAYMARK_JWT_ISSUER",
    "jwt_audience": "WAYMARK_JWT_AUDIENCE",
    # Pages (issue 10): browser sign-in through the organisation's OpenID provider.
    "oidc_issuer": "WAYMARK_OIDC_ISSUER",
    "oidc_client_id": "WAYMARK_OIDC_CLIENT_ID",
    "oidc_client_secret": "WAYMARK_OIDC_CLIENT_SECRET",
    "oidc_role_claim": "WAYMARK_OIDC_ROLE_CLAIM",
    "public_url": "WAYMARK_PUBLIC_URL",
    # Single sign-on for API clients (issue 12): bearer tokens from the organisation's provider.
    "sso_issuer": "WAYMARK_SSO_ISSUER",
    "sso_audience": "WAYMARK_SSO_AUDIENCE",
    "session_secret": "WAYMARK_SESSION_SECRET",
    "metrics_token": "WAYMARK_METRICS_TOKEN",
    # Beyond one machine (issue 13): projection reads from a streaming replica.
    "read_database_url": "READ_DATABASE_URL",
    "organisation_claim": "WAYMARK_ORGANISATION_CLAIM",
    "record_keys_retired": "WAYMARK_RECORD_KEYS_RETIRED",
}
_NUMBERS = {
    "max_body_bytes": "WAYMARK_MAX_BODY_BYTES",
    "db_pool_size": "WAYMARK_DB_POOL_SIZE",
    "db_pool_overflow": "WAYMARK_DB_POOL_OVERFLOW",
    "db_connect_timeout": "WAYMARK_DB_CONNECT_TIMEOUT",
    "read_pool_size": "WAYMARK_READ_POOL_SIZE",
    "service_pool_size": "WAYMARK_SERVICE_POOL_SIZE",
    "read_timeout_ms": "WAYMARK_READ_TIMEOUT_MS",
    "export_timeout_ms": "WAYMARK_EXPORT_TIMEOUT_MS",
    "read_your_writes_wait_ms": "WAYMARK_READ_YOUR_WRITES_WAIT_MS",
    "read_work_mem_kb": "WAYMARK_READ_WORK_MEM_KB",
    "read_temp_file_limit_kb": "WAYMARK_READ_TEMP_FILE_LIMIT_KB",
    "jwt_max_lifetime_seconds": "WAYMARK_JWT_MAX_LIFETIME_SECONDS",
    "session_idle_minutes": "WAYMARK_SESSION_IDLE_MINUTES",
    "review_interval_days": "WAYMARK_REVIEW_INTERVAL_DAYS",
    "sso_keys_cooldown_seconds": "WAYMARK_SSO_KEYS_COOLDOWN_SECONDS",
    "break_glass_seconds": "WAYMARK_BREAK_GLASS_SECONDS",
    "audit_checkpoint_entries": "WAYMARK_AUDIT_CHECKPOINT_ENTRIES",
    "audit_checkpoint_minutes": "WAYMARK_AUDIT_CHECKPOINT_MINUTES",
    "retention_years": "WAYMARK_RETENTION_YEARS",
}
"""Settings read from a variable when it is set (and not empty); the field's default otherwise."""


@dataclass(frozen=True, kw_only=True)
class Settings:
    """Everything Waymark reads from its environment.

    ``DATABASE_URL`` selects an external PostgreSQL; without it Waymark runs an embedded one in the
    data directory. Tokens are HS256 with ``WAYMARK_JWT_SECRET`` or RS256 with a public key.
    """

    database_url: str | None = None
    read_database_url: str | None = None
    """A streaming replica of ``database_url`` that projection reads (records' projections, reports,
    exports, the feed) are served from; writes, the access log and the projector stay on the primary,
    and ``min_position`` waits for the replica to replay that far."""
    data_dir: Path = field(default_factory=_default_data_dir)
    organisations: Mapping[str, str] = field(default_factory=dict)
    """Several organisations on one installation: each organisation's id and its own database URL
    (``WAYMARK_ORGANISATIONS``, a JSON object). Each gets a whole Waymark of its own on that database;
    a request's organisation is the one its token names in ``organisation_claim``."""
    organisation_claim: str = "org"
    """The token claim naming the user's organisation, when there are several."""
    organisation: str | None = None
    """The organisation this Waymark serves, when there are several (tokens must name it)."""
    jwt_secret: str | None = None
    jwt_public_key: str | None = None
    jwt_private_key: str | None = None
    jwt_issuer: str = "waymark"
    jwt_audience: str = "waymark-api"
    jwt_max_lifetime_seconds: int = 12 * 3600
    """The longest a token may live, from its iat to its exp: a clinician's working day."""
    max_body_bytes: int = 256 * 1024
    db_pool_size: int = 4
    db_pool_overflow: int = 16
    db_connect_timeout: int = 1
    read_pool_size: int = 8
    """Connections for reads of a person's record (trajectory, learning log)."""
    service_pool_size: int = 4
    """Connections for service-level reads (service learning, SPC, review impact, audit trail), kept
    apart so a clinician's read never waits behind reports."""
    read_timeout_ms: int = 10_000
    """The longest a projection query may run before it is cancelled and answered with a 503."""
    export_timeout_ms: int = 600_000
    """The longest an export (``GET /exports/{view}``) may stream: a year of a large provider's
    ratings takes tens of seconds, far past the read limit (after it the file ends short)."""
    read_your_writes_wait_ms: int = 2_000
    """How long a read asking for ``min_position`` waits for the projections to reach it before
    answering 503 with Retry-After."""
    read_work_mem_kb: int = 8 * 1024
    """PostgreSQL work_mem for read connections: memory per sort or hash before it spills to disk."""
    read_temp_file_limit_kb: int = 256 * 1024
    """PostgreSQL temp_file_limit for read connections: temporary file space one query may use."""
    run_projector: bool = True
    """Whether a serving process runs the projector itself; ``WAYMARK_PROJECTOR=off`` when
    ``waymark project`` runs it elsewhere (``serve --projector/--no-projector`` overrides it)."""
    # Pages (issue 10). Sign-in is OpenID Connect (code flow with PKCE) against ``oidc_issuer``;
    # ``public_url`` is the address browsers use (the redirect base; https makes cookies Secure).
    oidc_issuer: str | None = None
    oidc_client_id: str | None = None
    oidc_client_secret: str | None = None
    oidc_role_claim: str = "role"
    public_url: str | None = None
    session_secret: str | None = None
    session_idle_minutes: int = 30
    sso_issuer: str | None = None
    """The identity provider whose RS256/ES256 bearer tokens API clients may use (its discovery
    document names the keys); the role comes from ``oidc_role_claim``."""
    sso_audience: str | None = None
    """The audience those tokens carry (the API's registration at the provider); ``jwt_audience`` if unset."""
    sso_keys_cooldown_seconds: int = 10
    """The least time between two fetches of the provider's keys for a key id not seen before."""
    audit_signing_key: str | None = None
    """PEM Ed25519 private key that signs checkpoints of the hash chain (``waymark audit checkpoint``)."""
    audit_public_key: str | None = None
    """PEM Ed25519 public key checkpoints are verified with (else the signing key's own)."""
    audit_checkpoint_entries: int = 10_000
    """With a signing key, a serving process signs a checkpoint once this many entries are unsigned..."""
    audit_checkpoint_minutes: int = 60
    """... or this long after the last checkpoint, when any entry is unsigned."""
    audit_checkpoint_check_seconds: float = 5.0
    """How often a serving process looks whether a checkpoint is due (not read from the environment)."""
    review_interval_days: int = 84
    """Days from one review to the next due, until cases carry their own interval (12 weeks)."""
    metrics_token: str | None = None
    """When set, ``/metrics`` answers only a scraper sending it as a bearer token; unset, it is open
    (it names no person: route templates, entry kinds, counts and positions)."""
    break_glass_seconds: int = 4 * 3600
    """How long a break-glass grant lets a clinician outside the care team read a record."""
    record_key: str | None = None
    """Base64 of the 256-bit master key that wraps each entry's data key (sealing, for erasure by
    crypto-shredding); with the embedded database one is made in the data directory when unset
    (``sealing``); with an external one, unset turns sealing off."""
    record_keys_retired: str | None = None
    """Base64 master keys replaced by ``record_key``, comma-separated: still opened until
    ``waymark keys rotate`` has wrapped every data key under the current one."""
    retention_years: int = 20
    """How long a closed case is kept after the last contact before it is appraised (English Records
    Management Code of Practice: mental-health records, 20 years after the last contact)."""

    @classmethod
    def from_env(
        cls, env: Mapping[str, str] | None = None, *, data_dir: Path | str | None = None
    ) -> Settings:
        """Read settings from the environment (``os.environ`` by default); ``data_dir`` overrides it."""
        env = os.environ if env is None else env
        data_dir = data_dir or env.get("WAYMARK_DATA_DIR")
        given: dict[str, Any] = {field: env[var] for field, var in _TEXT.items() if env.get(var)}
        given |= {field: _int(var, env[var]) for field, var in _NUMBERS.items() if env.get(var)}
        return cls(
            database_url=env.get("DATABASE_URL") or None,
            data_dir=Path(data_dir) if data_dir else _default_data_dir(),
            jwt_secret=env.get("WAYMARK_JWT_SECRET") or None,
            jwt_public_key=_read_key(env, "WAYMARK_JWT_PUBLIC_KEY"),
            jwt_private_key=_read_key(env, "WAYMARK_JWT_PRIVATE_KEY"),
            audit_signing_key=_read_key(env, "WAYMARK_AUDIT_SIGNING_KEY"),
            audit_public_key=_read_key(env, "WAYMARK_AUDIT_PUBLIC_KEY"),
            record_key=_read_key(env, "WAYMARK_RECORD_KEY"),
            run_projector=env.get("WAYMARK_PROJECTOR", "on") != "off",
            organisations=_organisations(env.get("WAYMARK_ORGANISATIONS")),
            **given,
        )

    @property
    def embedded(self) -> bool:
        """Whether Waymark runs its own PostgreSQL in the data directory."""
        return self.database_url is None

    def signing_key(self) -> tuple[str, str]:
        """The key and algorithm tokens are verified with."""
        if self.jwt_public_key:
            return self.jwt_public_key, "RS256"
        if self.jwt_secret:
            return self.jwt_secret, "HS256"
        if self.embedded:
            return self._local_secret(), "HS256"
        raise SettingsError(
            "Set WAYMARK_JWT_SECRET (HS256) or WAYMARK_JWT_PUBLIC_KEY[_FILE] (RS256) "
            "when Waymark uses an external database"
        )

    def session_key(self) -> bytes | None:
        """The key page sessions are signed with: the setting, else (embedded) a local secret, else
        one derived from the JWT secret; None when there is none (pages then refuse to sign in)."""
        if self.session_secret:
            return self.session_secret.encode()
        if self.embedded:
            return self._local_secret("session-secret").encode()
        if self.jwt_secret:
            return hmac.digest(self.jwt_secret.encode(), b"waymark page sessions", "sha256")
        return None

    def sealing(self) -> Settings:
        """These settings, with the embedded database's own master key (made once in the data
        directory) when none is set: an embedded installation always seals."""
        if self.record_key is not None or not self.embedded:
            return self
        made = self._local_secret("record-key", base64.b64encode(os.urandom(32)).decode())
        return dataclasses.replace(self, record_key=made)

    def keyring(self) -> Keyring | None:
        """The master keys sealed entries are opened with; None when sealing is off."""
        current = self.record_key
        if current is None:
            return None
        try:
            retired = [_master(k) for k in (self.record_keys_retired or "").split(",") if k.strip()]
            return Keyring(_master(current), retired)
        except ValueError:
            raise SettingsError(
                "WAYMARK_RECORD_KEY and WAYMARK_RECORD_KEYS_RETIRED hold base64 of 32 random bytes"
                " (`python3 -c 'import os,base64;print(base64.b64encode(os.urandom(32)).decode())'`)"
            ) from None

    def _local_secret(self, name: str = "jwt-secret", made: str | None = None) -> str:
        """A per-installation secret for the embedded set-up, created once and kept in the data directory."""
        path = self.data_dir / name
        if not path.exists():
            self.data_dir.mkdir(parents=True, exist_ok=True)
            path.touch(mode=0o600)
            path.write_text(made or secrets.token_urlsafe(48))
        return path.read_text().strip()


def _organisations(text: str | None) -> dict[str, str]:
    """``WAYMARK_ORGANISATIONS``: a JSON object of organisation ids and database URLs."""
    if not text:
        return {}
    try:
        given = json.loads(text)
    except ValueError:
        given = None
    if (
        not isinstance(given, dict)
        or not given
        or not all(
            isinstance(key, str) and key and isinstance(value, str) and value for key, value in given.items()
        )
    ):
        raise SettingsError(
            "WAYMARK_ORGANISATIONS must be a JSON object of organisation ids and database URLs, "
            'e.g. {"north": "postgresql://.../waymark_north"}'
        )
    return given


def _read_key(env: Mapping[str, str], name: str) -> str | None:
    """A key given inline (NAME) or as a file path (NAME_FILE)."""
    if value := env.get(name):
        return value
    if path := env.get(f"{name}_FILE"):
        try:
            return Path(path).read_text()
        except OSError:
            raise SettingsError(f"{name}_FILE names a file that cannot be read") from None
    return None


def _master(text: str) -> bytes:
    try:
        key = base64.b64decode(text.strip(), validate=True)
    except binascii.Error:
        raise ValueError("not base64") from None
    if len(key) != 32:
        raise ValueError("not 32 bytes")
    return key
