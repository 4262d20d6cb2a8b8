"""A fresh machine: with no Chromium and no PostgreSQL, the suite skips what needs them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

TESTS = Path(__file__).resolve().parent
# Found, not listed: a browser suite added later is held to the same promise.
BROWSER_SUITES = sorted(
    {*TESTS.glob("**/test_*browser*.py"), *(TESTS / "browser").glob("test_*.py")}
)
_REQUIREMENTS = ("BOOCODE_REQUIRE_BROWSER", "BOOCODE_REQUIRE_POSTGRES")


def _pytest(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in _REQUIREMENTS}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider", *args],
        cwd=TESTS.parent,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_browser_and_postgresql_tests_skip_with_a_reason_without_them(tmp_path: Path) -> None:
    missing = tmp_path / "no-chromium"

    result = _pytest(
        *(str(suite.relative_to(TESTS.parent)) for suite in BROWSER_SUITES),
        "tests/server/test_pg_bus.py",
        BOOCODE_CHROMIUM=str(missing),
        BOOCODE_TEST_DATABASE_URL="postgresql://postgres@127.0.0.1:9/test",
    )

    assert result.returncode == 0, result.stdout[-3000:]
    assert f"{missing} is missing: install it with `apt-get install chromium`" in result.stdout
    assert "PostgreSQL at BOOCODE_TEST_DATABASE_URL is unreachable" in result.stdout
    assert " passed" not in result.stdout and "error" not in result.stdout


def test_browser_tests_fail_without_chromium_when_it_is_required(tmp_path: Path) -> None:
    missing = tmp_path / "no-chromium"

    result = _pytest(
        "-x",
        "tests/sessions/test_sessions_browser.py",
        BOOCODE_CHROMIUM=str(missing),
        BOOCODE_REQUIRE_BROWSER="1",
    )

    assert result.returncode == 1
    assert f"BOOCODE_REQUIRE_BROWSER is set but {missing} is missing" in result.stdout
