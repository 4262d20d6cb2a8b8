"""Throwaway PostgreSQL databases for tests, on the server BOOCODE_TEST_DATABASE_URL names."""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator

import pytest

PG_ADMIN_URL = os.environ.get("BOOCODE_TEST_DATABASE_URL")


@contextlib.contextmanager
def fresh_postgres_database() -> Iterator[str]:
    """A new, empty PostgreSQL database, dropped afterwards; skips without PostgreSQL."""
    if not PG_ADMIN_URL:
        if os.environ.get("BOOCODE_REQUIRE_POSTGRES"):
            pytest.fail("BOOCODE_REQUIRE_POSTGRES is set but BOOCODE_TEST_DATABASE_URL is not")
        pytest.skip("set BOOCODE_TEST_DATABASE_URL to run the PostgreSQL tests")
    import psycopg

    name = f"boocode_test_{uuid.uuid4().hex[:10]}"
    admin = PG_ADMIN_URL.replace("postgresql+asyncpg://", "postgresql://")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base = admin.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
