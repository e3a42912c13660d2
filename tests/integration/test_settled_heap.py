"""A serving process keeps what start-up made out of the garbage collector's full collections
(``service.http.app.settle_heap``): each full collection walked all of it, about 40 ms every third of
a second under load, which was the whole p99 of service-level reads."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from service.database import DatabaseAddress

BUILD_AS_A_SERVER_DOES = """
import gc
import service.http.asgi
before = gc.get_freeze_count()
service.http.asgi.app()
print(before, gc.get_freeze_count())
"""


@pytest.mark.slow  # a Python process building the whole app
def test_the_served_app_leaves_what_start_up_made_frozen(fresh_database: DatabaseAddress) -> None:
    env = os.environ | {
        "DATABASE_URL": fresh_database.url,
        "WAYMARK_JWT_SECRET": "a-secret-for-this-test-only-of-40-chars!",
        "WAYMARK_PROJECTOR": "off",
    }
    done = subprocess.run(
        [sys.executable, "-c", BUILD_AS_A_SERVER_DOES],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    before, after = map(int, done.stdout.split()[-2:])
    assert before == 0
    # The modules, routes and schemas of the app: hundreds of thousands of objects.
    assert after > 100_000
