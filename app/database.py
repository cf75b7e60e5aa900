"""The async SQLAlchemy engine and sessions (asyncpg underneath)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from sqlalchemy import event
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from app.settings import Settings


def sqlalchemy_url(url: str) -> str:
    """Any postgres URL, as SQLAlchemy's asyncpg dialect wants it."""
    parts = urlsplit(url)
    scheme = parts.scheme.split("+")[0]
    if scheme not in ("postgresql", "postgres"):
        raise ValueError(f"DATABASE_URL must be a postgresql:// URL, got scheme {parts.scheme!r}")
    return urlunsplit(parts._replace(scheme="postgresql+asyncpg"))


def asyncpg_dsn(url: str) -> str:
    """The same URL as plain asyncpg wants it (for LISTEN connections, COPY and benchmarks)."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(scheme="postgresql"))


def with_database(url: str, database: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/" + database))


def _discard_closed(dbapi_connection: Any, record: Any, proxy: Any) -> None:
    """Pool checkout: a connection the server closed while it sat idle in the pool (PostgreSQL restarted,
    or terminated it) is replaced before use, at no cost: asyncpg has already seen the socket close.
    Raising DisconnectionError makes the pool discard it and check out (or open) another."""
    driver = getattr(dbapi_connection, "driver_connection", None)
    if driver is None or driver.is_closed():
        raise DisconnectionError("connection closed while idle in the pool")


def create_engine(settings: Settings, url: str) -> AsyncEngine:
    engine = create_async_engine(
        sqlalchemy_url(url),
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        # No pool_pre_ping: with asyncpg it costs three round trips (BEGIN, ping, ROLLBACK) per checkout,
        # more than a whole logError. Recovery from a PostgreSQL restart instead: (1) the checkout hook
        # below replaces connections whose socket the server closed (a restart closes them all); (2) a
        # connection that dies silently (network cut) fails its statement once, and SQLAlchemy then
        # invalidates it and every older pooled connection, so the next checkout opens a fresh one;
        # (3) pool_recycle bounds a connection's age against idle-killing proxies.
        pool_pre_ping=False,
        pool_recycle=settings.db_pool_recycle_seconds,
        # Statement parameters (inputs, key hashes) stay out of exception messages and so out of logs.
        hide_parameters=True,
        connect_args={
            "server_settings": {
                "statement_timeout": str(settings.db_statement_timeout_ms),
                "timezone": "UTC",
                "application_name": "eventops",
            },
            "command_timeout": settings.db_statement_timeout_ms / 1000 + 5,
        },
    )
    event.listen(engine.sync_engine, "checkout", _discard_closed)
    return engine


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


@asynccontextmanager
async def transaction(sessionmaker: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    """A session in one transaction: committed when the block ends, rolled back on any exception."""
    async with sessionmaker() as session, session.begin():
        yield session


async def driver_connection(session: AsyncSession) -> Any:
    """The asyncpg connection under the session, inside the session's transaction, for hot paths that
    send one hand-written statement (no SQLAlchemy statement building, compiling or result processing).

    SQLAlchemy's asyncpg adapter issues BEGIN lazily on its first statement; a statement sent straight to
    the driver before that would run outside the transaction, so BEGIN is issued here when still due.
    """
    raw = await (await session.connection()).get_raw_connection()
    adapted: Any = raw.dbapi_connection
    if adapted._transaction is None and adapted.isolation_level != "autocommit":
        await adapted._start_transaction()
    return adapted.driver_connection
