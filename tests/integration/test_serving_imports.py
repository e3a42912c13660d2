"""`waymark serve` imports no benchmark, tool or test code: not the benchmark suite, the demo
generator or the process helpers (service.tools), not the tests, and none of the libraries only
they use (httpx, schemathesis, hypothesis)."""

from __future__ import annotations

import subprocess
import sys

import pytest

KEPT_OUT = ("service.tools", "tests", "httpx", "schemathesis", "hypothesis")

IMPORT_WHAT_SERVE_IMPORTS = f"""
import sys
import service.cli
import service.cli.serve
import service.http.app
import service.http.asgi
import service.bootstrap
kept_out = {KEPT_OUT!r}
print("\\n".join(sorted(m for m in sys.modules if any(m == p or m.startswith(p + ".") for p in kept_out))))
"""


@pytest.mark.slow  # a Python process importing the whole app
def test_serving_imports_no_benchmark_tool_or_test_code() -> None:
    # A fresh interpreter: this one has imported the tests and their libraries already.
    done = subprocess.run(
        [sys.executable, "-c", IMPORT_WHAT_SERVE_IMPORTS],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert done.stdout.split() == []
