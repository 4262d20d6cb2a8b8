"""Storage: tables, the async engine and Alembic migrations."""
