"""Checks every FHIR Bundle Waymark produces must pass: the fhir.resources R4B models (structure,
cardinality, types: R4B leaves every resource Waymark uses as R4 had it), and what those models do
not check: required code bindings, unique fullUrls, references that resolve inside the Bundle, and no
empty or null values (FHIR JSON has none)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from fhir.resources.R4B.bundle import Bundle

__all__ = ["REQUIRED_CODES", "by_type", "references", "validate_bundle"]

REQUIRED_CODES: dict[tuple[str, str], frozenset[str]] = {
    ("Goal", "lifecycleStatus"): frozenset(
        {
            "proposed",
            "planned",
            "accepted",
            "active",
            "on-hold",
            "completed",
            "cancelled",
            "entered-in-error",
            "rejected",
        }
    ),
    ("Observation", "status"): frozenset(
        {
            "registered",
            "preliminary",
            "final",
            "amended",
            "corrected",
            "cancelled",
            "entered-in-error",
            "unknown",
        }
    ),
    ("QuestionnaireResponse", "status"): frozenset(
        {"in-progress", "completed", "amended", "entered-in-error", "stopped"}
    ),
    ("EpisodeOfCare", "status"): frozenset(
        {"planned", "waitlist", "active", "onhold", "finished", "cancelled", "entered-in-error"}
    ),
    ("CarePlan", "status"): frozenset(
        {"draft", "active", "on-hold", "revoked", "completed", "entered-in-error", "unknown"}
    ),
    ("CarePlan", "intent"): frozenset({"proposal", "plan", "order", "option"}),
    ("CareTeam", "status"): frozenset({"proposed", "active", "suspended", "inactive", "entered-in-error"}),
    ("ClinicalImpression", "status"): frozenset({"in-progress", "completed", "entered-in-error"}),
    ("Communication", "status"): frozenset(
        {
            "preparation",
            "in-progress",
            "not-done",
            "on-hold",
            "stopped",
            "completed",
            "entered-in-error",
            "unknown",
        }
    ),
    ("Questionnaire", "status"): frozenset({"draft", "active", "retired", "unknown"}),
}
"""Codes of the R4 value sets bound ``required`` to the elements Waymark fills (fhir.resources checks
only that a code is a code)."""
ENTITY_ROLES = frozenset({"derivation", "revision", "quotation", "source", "removal"})
ACTIVITY_STATUS = frozenset(
    {
        "not-started",
        "scheduled",
        "in-progress",
        "on-hold",
        "completed",
        "cancelled",
        "stopped",
        "unknown",
        "entered-in-error",
    }
)
EPISODE_STATUS = REQUIRED_CODES[("EpisodeOfCare", "status")]


def validate_bundle(bundle: dict[str, Any]) -> Bundle:
    """Validate a Bundle as R4B models and by the rules they leave out; return the parsed model."""
    parsed = Bundle.model_validate(bundle)
    assert bundle["type"] == "collection"
    urls = [entry["fullUrl"] for entry in bundle["entry"]]
    assert len(urls) == len(set(urls)), "every fullUrl is unique (bdl-7)"
    assert all(entry["fullUrl"] == f"urn:uuid:{entry['resource']['id']}" for entry in bundle["entry"])
    dangling = set(references(bundle)) - set(urls)
    assert not dangling, f"references to nothing in the Bundle: {dangling}"
    for entry in bundle["entry"]:
        _check_codes(entry["resource"])
    empty = list(_empty_values(bundle, "Bundle"))
    assert not empty, f"FHIR JSON has no null, empty string, array or object: {empty}"
    return parsed


def _empty_values(value: Any, path: str) -> Iterator[str]:
    if value is None or value in ("", [], {}):
        yield path
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _empty_values(item, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _empty_values(item, f"{path}[{index}]")


def _check_codes(resource: dict[str, Any]) -> None:
    kind = resource["resourceType"]
    for (rtype, element), allowed in REQUIRED_CODES.items():
        if rtype == kind and element in resource:
            assert resource[element] in allowed, (kind, element, resource[element])
    if kind == "Provenance":
        assert {e["role"] for e in resource.get("entity", [])} <= ENTITY_ROLES
    if kind == "CarePlan":
        assert {a["detail"]["status"] for a in resource.get("activity", [])} <= ACTIVITY_STATUS
    if kind == "EpisodeOfCare":
        assert {h["status"] for h in resource.get("statusHistory", [])} <= EPISODE_STATUS


def references(value: Any) -> Iterator[str]:
    """Every literal reference anywhere in a resource or Bundle."""
    if isinstance(value, dict):
        if isinstance(value.get("reference"), str):
            yield value["reference"]
        for item in value.values():
            yield from references(item)
    elif isinstance(value, list):
        for item in value:
            yield from references(item)


def by_type(bundle: dict[str, Any], resource_type: str) -> list[dict[str, Any]]:
    """The Bundle's resources of one type, in order."""
    return [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == resource_type]
