"""The schema comes from Alembic migrations only: they match the models and round-trip."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.ext.asyncio import create_async_engine

from app.database import sqlalchemy_url
from app.migrate import downgrade, upgrade
from app.models import Base
from tests.servers import ServerSet


@pytest.fixture
def scratch_db(servers: ServerSet) -> Iterator[str]:
    url = servers.new_database_url("migrations")
    yield url
    servers.drop_database(url)


def _diff_and_tables(url: str) -> tuple[list[object], set[str]]:
    async def go() -> tuple[list[object], set[str]]:
        engine = create_async_engine(sqlalchemy_url(url))
        async with engine.connect() as conn:

            def inspect_sync(sync_conn):  # type: ignore[no-untyped-def]
                ctx = MigrationContext.configure(sync_conn, opts={"compare_server_default": True})
                return compare_metadata(ctx, Base.metadata), set(inspect(sync_conn).get_table_names())

            result = await conn.run_sync(inspect_sync)
        await engine.dispose()
        return result

    return asyncio.run(go())


def test_migrations_match_the_models_and_round_trip(scratch_db: str) -> None:
    upgrade(scratch_db)
    diff, tables = _diff_and_tables(scratch_db)
    assert diff == [], f"models and migrations differ: {diff}"
    assert {
        "campaigns",
        "autonomous_operation_errors",
        "campaign_performance_metrics",
        "social_media_post_tracking",
        "notifications",
        "api_keys",
    } <= tables

    downgrade(scratch_db, "base")
    _, tables = _diff_and_tables(scratch_db)
    assert tables <= {"alembic_version"}

    upgrade(scratch_db)
    diff, _ = _diff_and_tables(scratch_db)
    assert diff == []
