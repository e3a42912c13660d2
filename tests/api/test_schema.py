"""The OpenAPI document and its browsable UI, and the health and readiness probes, all without a token."""

from __future__ import annotations

import re
from typing import Any

import pytest

from service.http.routes.entries import ROUTES
from tests.api.helpers import Client

HTTP_METHODS = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}
CASE_OPERATIONS = {  # every entry route from the route table, which test_registry checks covers every kind
    ("post", "/cases"): "openCase",
    ("get", "/cases/{case_id}"): "getCase",
    ("get", "/cases/{case_id}/history"): "getCaseHistory",
    ("put", "/cases/{case_id}/care-team"): "changeCareTeam",
    **{
        ("post", "/cases/{case_id}" + re.sub(r":\w+}", "}", route.path)): route.operation_id
        for route in ROUTES
    },
    ("get", "/health"): "health",
    ("get", "/ready"): "ready",
}


async def openapi(client: Client) -> dict[str, Any]:
    response = await client.get("/schema/openapi.json")
    assert response.status_code == 200
    document: dict[str, Any] = response.json()
    return document


def operations(document: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {
        (method, path): operation
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method in HTTP_METHODS
    }


async def test_the_openapi_document_is_served_without_a_token(client: Client) -> None:
    response = await client.get("/schema/openapi.json")
    assert response.status_code == 200
    assert "json" in response.headers["content-type"]
    document = response.json()
    assert document["openapi"].startswith("3.")
    assert document["info"]["title"] == "Waymark"
    assert document["components"]["securitySchemes"]["BearerToken"]["scheme"].lower() == "bearer"


async def test_every_operation_has_a_unique_operation_id(client: Client) -> None:
    found = operations(await openapi(client))
    assert len(found) >= len(CASE_OPERATIONS)
    ids = [operation.get("operationId") for operation in found.values()]
    assert all(ids), [key for key, op in found.items() if not op.get("operationId")]
    assert len(set(ids)) == len(ids)


async def test_every_case_route_is_documented_under_its_operation_id(client: Client) -> None:
    found = operations(await openapi(client))
    assert {key: found[key]["operationId"] for key in CASE_OPERATIONS if key in found} == CASE_OPERATIONS


async def test_request_bodies_carry_the_entry_fields_but_not_the_server_fields(client: Client) -> None:
    document = await openapi(client)
    schemas = document["components"]["schemas"]

    def body_of(path: str) -> dict[str, Any]:
        content = document["paths"][path]["post"]["requestBody"]["content"]["application/json"]["schema"]
        ref: str = content["$ref"]
        schema: dict[str, Any] = schemas[ref.rsplit("/", 1)[1]]
        return schema

    goal = body_of("/cases/{case_id}/goals")
    assert set(goal["required"]) == {"domain", "in_own_words"}
    assert "occurred_at" in goal["properties"]
    assert "entry_id" not in goal["properties"]
    assert "actor" not in goal["properties"]
    assert "goal_id" not in body_of("/cases/{case_id}/goals/{entry_id}/revisions")["properties"]
    assert "score" not in body_of("/cases/{case_id}/measures")["properties"]
    assert "corrected" not in body_of("/cases/{case_id}/corrections")["properties"]


async def test_health_and_ready_are_documented_as_needing_no_token(client: Client) -> None:
    document = await openapi(client)
    assert document["security"] == [{"BearerToken": []}]
    for path in ("/health", "/ready"):
        assert document["paths"][path]["get"]["security"] == [{}]
    assert "security" not in document["paths"]["/cases"]["post"]  # the document-wide bearer applies


@pytest.mark.parametrize("path", ["/schema", "/schema/scalar"])
async def test_a_browsable_ui_is_served_without_a_token(client: Client, path: str) -> None:
    response = await client.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "<html" in response.text.lower()
    assert "openapi.json" in response.text
    assert "scalar" in response.text.lower()


@pytest.mark.parametrize(("path", "status"), [("/health", "ok"), ("/ready", "ready")])
async def test_health_and_ready_answer_200_without_a_token(client: Client, path: str, status: str) -> None:
    response = await client.get(path)
    assert response.status_code == 200
    assert response.json() == {"status": status}
