"""Waymark as the Dockerfile installs it: the wheel built from the sources the Dockerfile copies,
installed (not editable) into a fresh virtual environment, serving a fresh database. Every file under
the packages is in the wheel, and no GET route of the served OpenAPI document answers 5xx."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from events.values import Role
from service.database import DatabaseAddress
from service.settings import Settings
from service.tools.processes import free_port
from tests.api.helpers import MEASURE, REVIEW, opening
from tests.support.processes import Server
from tests.support.tokens import TokenFactory

pytestmark = pytest.mark.slow  # builds and installs a wheel in a new virtual environment: about 35 s

ROOT = Path(__file__).parents[2]
PACKAGES = ("events", "service", "projections")
SOURCES = (*PACKAGES, "pyproject.toml", "README.md")
"""What the Dockerfile copies before ``pip install .``."""

NOW = datetime.now(UTC)
WINDOW = {
    "from": (NOW - timedelta(days=365)).isoformat(),
    "to": (NOW + timedelta(days=1)).isoformat(),
    "recorded_after": (NOW - timedelta(days=30)).isoformat(),  # what was learned in the last month
}
"""Values for the required parameters of the routes: the last year for `from` and `to`, a month ago for
`recorded_after`."""


def _run(command: list[str], cwd: Path | None = None) -> str:
    """Run a command to completion; fail the test with its output if it fails."""
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=900, check=False)
    assert done.returncode == 0, f"{' '.join(command)}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done.stdout


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel, built from a copy of what the Dockerfile copies (a build inside the repository would
    pick up whatever an earlier build left in build/)."""
    source = tmp_path_factory.mktemp("source")
    for name in SOURCES:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, source / name)
        else:
            shutil.copy2(ROOT / name, source / name)
    out = tmp_path_factory.mktemp("dist")
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), str(source)])
    (built,) = out.glob("waymark-*.whl")
    return built


@pytest.fixture(scope="module")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtual environment with the wheel installed as the Dockerfile does (not editable,
    dependencies constrained by the lock); its bin directory."""
    venv = tmp_path_factory.mktemp("venv")
    _run([sys.executable, "-m", "venv", str(venv)])
    bin_dir = venv / "bin"
    lock = str(ROOT / "requirements.lock")
    _run([str(bin_dir / "python"), "-m", "pip", "install", "-q", "-c", lock, str(wheel)])
    return bin_dir


@pytest.fixture
def server(
    installed: Path, empty_database: DatabaseAddress, settings: Settings, tmp_path: Path
) -> Iterator[Server]:
    """``waymark serve`` from the installed wheel on an empty database (so it sets up every table and view
    from the files it ships), trusting the session's tokens."""
    assert settings.jwt_secret
    env = {name: value for name, value in os.environ.items() if name != "PYTHONPATH"}
    env |= {
        "DATABASE_URL": empty_database.url,
        "WAYMARK_JWT_SECRET": settings.jwt_secret,
        "WAYMARK_DATA_DIR": str(tmp_path / "data"),
    }
    port = free_port()
    log = tmp_path / "waymark.log"
    with log.open("wb") as sink:
        # Started outside the repository, so nothing can import the packages from the working tree.
        process = subprocess.Popen(
            [str(installed / "waymark"), "serve", "--no-demo", "--port", str(port)],
            cwd=tmp_path,
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    started = Server(process, port, log)
    try:
        started.wait_ready()
        yield started
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=60)


def _repository_files() -> set[str]:
    """Every file under the packages in the working tree, bytecode aside."""
    return {
        path.relative_to(ROOT).as_posix()
        for package in PACKAGES
        for path in (ROOT / package).rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    }


def test_wheel_holds_every_file_under_the_packages(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        shipped = set(archive.namelist())
    assert "projections/thresholds.json" in _repository_files()
    assert sorted(_repository_files() - shipped) == []
    assert [name for name in shipped if "__pycache__" in name or name.endswith(".pyc")] == []


def test_installed_wheel_serves_every_get_route(server: Server, installed: Path, auth: TokenFactory) -> None:
    # Outside the repository, as the server runs, so the working tree is not on the path.
    where = _run(
        [str(installed / "python"), "-c", "import projections; print(projections.__file__)"],
        cwd=installed.parent,
    )
    assert where.startswith(str(installed.parent)), where
    with httpx.Client(base_url=server.url, timeout=30) as http:
        case_id, position = _case_with_entries(http, auth)
        schema = http.get("/schema/openapi.json")
        assert schema.status_code == 200, schema.text
        components = schema.json()["components"]["schemas"]
        routes = [
            (path, operation)
            for path, item in schema.json()["paths"].items()
            if (operation := item.get("get"))
        ]
        assert "/cases/{case_id}/trajectory" in dict(routes)
        failures: list[str] = []
        for path, operation in routes:
            for url, params in _requests(path, operation, components, case_id, position):
                failures += _call_in_every_role(http, auth, url, params)
    assert failures == [], server.output()


def _case_with_entries(http: httpx.Client, auth: TokenFactory) -> tuple[str, int]:
    """A case opened by the clinician, with a review and a measure; its id and the last write's position."""
    clinician = auth("clinician", "wheel-clinician")
    opened = http.post("/cases", json=opening(), headers=clinician)
    assert opened.status_code == 201, opened.text
    case_id = str(opened.json()["case_id"])
    position = 0
    for route, body in (("reviews", REVIEW), ("measures", MEASURE)):
        written = http.post(f"/cases/{case_id}/{route}", json=body, headers=clinician)
        assert written.status_code == 201, written.text
        position = int(written.json()["position"])
    return case_id, position


def _requests(
    path: str, operation: dict[str, Any], components: dict[str, Any], case_id: str, position: int
) -> list[tuple[str, dict[str, str]]]:
    """The requests that call a GET operation: each value of an enumerated path parameter (inline or
    a component), the case for
    a case id, the last year for ``from`` and ``to``, the last write's position to wait for, and a
    purpose of use where one may be stated."""
    urls = [path]
    params: dict[str, str] = {}
    for parameter in operation.get("parameters", []):
        name, schema = parameter["name"], parameter.get("schema", {})
        if ref := schema.get("$ref"):  # an enumeration of its own, such as ExportView
            schema = components[ref.rsplit("/", 1)[-1]]
        if parameter["in"] == "path":
            values = schema.get("enum") or ([case_id] if schema.get("format") == "uuid" else [])
            assert values, f"no value for the path parameter {name} of {path}"
            urls = [url.replace(f"{{{name}}}", str(value)) for url in urls for value in values]
        elif name == "min_position":
            params[name] = str(position)
        elif name == "purpose":  # governance states one on every read naming people
            params[name] = "audit"
        elif parameter.get("required"):
            assert name in WINDOW, f"no value for the required parameter {name} of {path}"
            params[name] = WINDOW[name]
    return [(url, params) for url in urls]


def _call_in_every_role(
    http: httpx.Client, auth: TokenFactory, url: str, params: dict[str, str]
) -> list[str]:
    """GET a URL with a token of each role; the failures: any 5xx, or no role that it serves."""
    statuses: dict[Role, int] = {}
    failures = []
    for role in Role:
        response = _get(http, url, params, auth(role.value, f"wheel-{role.value}"))
        statuses[role] = response.status_code
        if response.status_code >= 500:
            failures.append(f"{url} as {role}: {response.status_code} {response.text[:500]}")
    if 200 not in statuses.values():
        failures.append(f"{url}: no role is served ({statuses})")
    return failures


def _get(http: httpx.Client, url: str, params: dict[str, str], headers: dict[str, str]) -> httpx.Response:
    """GET, waiting out the documented 503 for a min_position the projections have not reached yet."""
    for _ in range(20):
        response = http.get(url, params=params, headers=headers)
        if response.status_code != 503 or "retry-after" not in response.headers:
            return response
        time.sleep(float(response.headers["retry-after"]))
    return response
