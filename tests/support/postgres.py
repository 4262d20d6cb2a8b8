"""Fresh PostgreSQL databases for tests, from the server BOOCODE_TEST_DATABASE_URL names.

Without it (or with it unreachable) the PostgreSQL tests are skipped with the reason, unless
BOOCODE_REQUIRE_POSTGRES is set (CI), when they fail.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest


@contextmanager
def fresh_database() -> Iterator[str]:
    """A new, empty database's `postgresql://` URL; dropped on exit."""
    admin_url = os.environ.get("BOOCODE_TEST_DATABASE_URL")
    required = os.environ.get("BOOCODE_REQUIRE_POSTGRES")
    if not admin_url:
        if required:
            pytest.fail("BOOCODE_REQUIRE_POSTGRES is set but BOOCODE_TEST_DATABASE_URL is not")
        pytest.skip("set BOOCODE_TEST_DATABASE_URL to run the PostgreSQL tests")
    import psycopg

    name = f"boocode_test_{uuid.uuid4().hex[:10]}"
    admin = admin_url.replace("postgresql+asyncpg://", "postgresql://")
    try:
        with psycopg.connect(admin, autocommit=True, connect_timeout=5) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.OperationalError as exc:
        if required:
            raise
        reason = str(exc).splitlines()[0]
        pytest.skip(f"PostgreSQL at BOOCODE_TEST_DATABASE_URL is unreachable: {reason}")
    try:
        yield f"{admin.rsplit('/', 1)[0]}/{name}"
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
