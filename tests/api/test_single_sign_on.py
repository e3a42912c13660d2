"""Single sign-on for API clients: bearer tokens from the organisation's identity provider (the local
OpenID provider of the page tests, a fake of that outside system), verified against the keys its
discovery document publishes; a key rotation mid-run is picked up without a restart, and a token the
provider did not sign, for another audience, without a Waymark role or living too long is a 401."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from litestar.testing import AsyncTestClient

from service.bootstrap import Runtime
from service.http.app import create_app
from service.settings import Settings
from tests.api.helpers import Client, assert_problem, open_case, user
from tests.support.oidc_provider import LocalOpenIDProvider
from tests.support.tokens import TokenFactory

AUDIENCE = "api://waymark"


@pytest.fixture(scope="module")
def provider() -> Iterator[LocalOpenIDProvider]:
    started = LocalOpenIDProvider().start()
    yield started
    started.stop()


@pytest.fixture(scope="module")
async def sso(settings: Settings, runtime: Runtime, provider: LocalOpenIDProvider) -> AsyncIterator[Client]:
    """The app trusting the provider's tokens (no cool-down between key fetches, for the rotation),
    one for the module: building an app costs more than most tests here."""
    trusting = replace(
        settings, sso_issuer=provider.issuer, sso_audience=AUDIENCE, sso_keys_cooldown_seconds=0
    )
    app = create_app(Runtime(trusting, runtime.address, runtime.records), run_projector=False)
    async with AsyncTestClient(app=app) as test_client:
        yield test_client


@pytest.fixture
async def clinician_case(client: Client, auth: TokenFactory) -> tuple[str, str]:
    """A clinician known to the provider, and a case whose care team they are on."""
    clinician = user()
    case_id = await open_case(client, auth("clinician", clinician), care_team=[clinician])
    return clinician, case_id


def bearer(provider: LocalOpenIDProvider, sub: str, ttl: int = 300, **claims: Any) -> dict[str, str]:
    token = provider.issue({"sub": sub, "aud": AUDIENCE, "role": "clinician", **claims}, ttl=ttl)
    return {"Authorization": f"Bearer {token}"}


async def test_a_token_from_the_provider_reads_the_record_of_its_care_team(
    sso: Client, provider: LocalOpenIDProvider, clinician_case: tuple[str, str]
) -> None:
    clinician, case_id = clinician_case
    answer = await sso.get(f"/cases/{case_id}", headers=bearer(provider, clinician))
    assert answer.status_code == 200, answer.text
    outsider = await sso.get(f"/cases/{case_id}", headers=bearer(provider, user()))
    assert outsider.status_code == 403


async def test_the_role_comes_from_the_claim_the_settings_name(
    sso: Client, provider: LocalOpenIDProvider, clinician_case: tuple[str, str]
) -> None:
    _, case_id = clinician_case
    governance = bearer(provider, user("g"), role=["staff", "Governance"])
    audit = await sso.get(
        "/audit/entries", params={"case_id": case_id, "purpose": "audit"}, headers=governance
    )
    assert audit.status_code == 200, "governance reads the audit trail; a clinician may not"
    assert (await sso.get("/audit/entries", headers=bearer(provider, user()))).status_code == 403
    no_role = bearer(provider, user(), role=["staff"])
    assert_problem(await sso.get(f"/cases/{case_id}", headers=no_role), 401)


@pytest.mark.parametrize(
    "claims",
    [{"aud": "another-api"}, {"iss": "https://elsewhere.example"}, {"ttl": 13 * 3600}],
    ids=["another-audience", "another-issuer", "lives-too-long"],
)
async def test_a_token_for_another_audience_issuer_or_too_long_a_life_is_refused(
    sso: Client, provider: LocalOpenIDProvider, clinician_case: tuple[str, str], claims: dict[str, Any]
) -> None:
    clinician, case_id = clinician_case
    answer = await sso.get(f"/cases/{case_id}", headers=bearer(provider, clinician, **claims))
    assert_problem(answer, 401)


async def test_a_token_signed_with_a_key_the_provider_never_published_is_refused(
    sso: Client, provider: LocalOpenIDProvider, clinician_case: tuple[str, str]
) -> None:
    clinician, case_id = clinician_case
    forged_key = rsa.generate_private_key(65537, 2048)
    own_kid = provider.keys[-1].kid
    now = int(time.time())
    claims: dict[str, Any] = {"sub": clinician, "aud": AUDIENCE, "role": "clinician", "iss": provider.issuer}
    claims |= {"iat": now, "exp": now + 600}
    for kid in (own_kid, "made-up"):
        forged = jwt.encode(claims, forged_key, algorithm="RS256", headers={"kid": kid})
        answer = await sso.get(f"/cases/{case_id}", headers={"Authorization": f"Bearer {forged}"})
        assert_problem(answer, 401)


async def test_a_key_rotated_mid_run_is_picked_up_without_a_restart(
    sso: Client, provider: LocalOpenIDProvider, clinician_case: tuple[str, str]
) -> None:
    clinician, case_id = clinician_case
    before = await sso.get(f"/cases/{case_id}", headers=bearer(provider, clinician))
    assert before.status_code == 200
    provider.rotate_key(retire_old=True)
    after = await sso.get(f"/cases/{case_id}", headers=bearer(provider, clinician))
    assert after.status_code == 200, "a token signed with the new key is verified after fetching the keys"


async def test_waymark_s_own_tokens_still_work_beside_the_provider_s(
    sso: Client, auth: TokenFactory, clinician_case: tuple[str, str]
) -> None:
    clinician, case_id = clinician_case
    assert (await sso.get(f"/cases/{case_id}", headers=auth("clinician", clinician))).status_code == 200
