"""The connection pool without a per-checkout ping still survives connections the server closed."""

from __future__ import annotations

import asyncio

import asyncpg
from sqlalchemy import text

from app.database import asyncpg_dsn, create_engine, create_sessionmaker, transaction
from app.runtime import Endpoints
from app.settings import Settings


async def _terminate(url: str, application_name: str) -> int:
    admin = await asyncpg.connect(asyncpg_dsn(url))
    try:
        return int(
            await admin.fetchval(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = current_database() AND application_name = $1 AND pid <> pg_backend_pid()",
                application_name,
            )
        )
    finally:
        await admin.close()


async def test_connections_closed_by_the_server_are_replaced_at_checkout(
    settings: Settings, endpoints: Endpoints
) -> None:
    """What a PostgreSQL restart does to idle pooled connections: the server closes them. The next
    requests must succeed on fresh connections (no pre-ping round trip needed to notice)."""
    engine = create_engine(settings, endpoints.database_url)
    sessionmaker = create_sessionmaker(engine)
    try:
        # Fill the pool with a few idle connections.
        async def one() -> int:
            async with transaction(sessionmaker) as s:
                return int(await s.scalar(text("SELECT pg_backend_pid()")) or 0)

        before = set(await asyncio.gather(*(one() for _ in range(4))))
        assert await _terminate(endpoints.database_url, "eventops") >= len(before)
        await asyncio.sleep(0.2)  # the event loop reads the servers' goodbyes: the sockets are closed
        after = [await one() for _ in range(6)]
        assert all(after) and not (set(after) & before)
    finally:
        await engine.dispose()
