"""The async SQLAlchemy engine and sessions (asyncpg underneath)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

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


def url_without_query_key(url: str, key: str) -> str:
    parts = urlsplit(url)
    query = urlencode([(k, v) for k, v in parse_qsl(parts.query) if k != key])
    return urlunsplit(parts._replace(query=query))


def create_engine(settings: Settings, url: str) -> AsyncEngine:
    return create_async_engine(
        sqlalchemy_url(url),
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        # A connection that died with a PostgreSQL restart is noticed and replaced instead of failing
        # the next request.
        pool_pre_ping=True,
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


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


@asynccontextmanager
async def transaction(sessionmaker: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    """A session in one transaction: committed when the block ends, rolled back on any exception."""
    async with sessionmaker() as session, session.begin():
        yield session
