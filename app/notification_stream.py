"""Live notifications for subscribers: one LISTEN connection per process, fanned out in memory.

The notifications table is the truth; a NOTIFY (sent by PostgreSQL at commit, from any API process or
worker) is only the wake-up. On a wake-up the hub reads the rows after the last id it has seen — one query
per process, however many subscribers — and hands them to every local subscriber. It also re-reads every
ALERTS_RECHECK_SECONDS and after its LISTEN connection comes back (a PostgreSQL restart), so a missed
NOTIFY only delays a notification, never loses it.

A subscriber resuming from a cursor first reads the rows after its cursor from the table, then continues
with what the hub hands it, skipping ids it already sent: because notification ids become visible in id
order (app/services/notifications.py), "everything after id N" has no gap and the seam no duplicate. A
subscriber that falls more than ALERTS_SUBSCRIBER_BUFFER rows behind drops its buffer and re-reads from
the table.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import AsyncIterator, Sequence
from typing import Any

import asyncpg
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.database import asyncpg_dsn
from app.models import Notification
from app.models.notification import SEVERITIES
from app.services.notifications import CHANNEL

log = logging.getLogger(__name__)

SEVERITY_RANK = {name: rank for rank, name in enumerate(SEVERITIES)}
PAGE = 500
LISTENER_APPLICATION_NAME = "eventops-alerts-listener"


class Subscriber:
    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self.buffer: deque[Notification] = deque()
        self.ready = asyncio.Event()
        self.overflowed = False

    def push(self, rows: Sequence[Notification]) -> None:
        if len(self.buffer) + len(rows) > self.capacity:
            self.buffer.clear()
            self.overflowed = True
        else:
            self.buffer.extend(rows)
        self.ready.set()


class NotificationHub:
    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        database_url: str,
        *,
        recheck_seconds: float = 5.0,
        subscriber_buffer: int = 1000,
        max_backoff_seconds: float = 10.0,
    ) -> None:
        self._sessionmaker = sessionmaker
        self._dsn = asyncpg_dsn(database_url)
        self._recheck = recheck_seconds
        self._capacity = subscriber_buffer
        self._max_backoff = max_backoff_seconds
        self._subscribers: set[Subscriber] = set()
        self._wake = asyncio.Event()
        self._last_id: int | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self.listening = asyncio.Event()
        self.listens = 0  # how many times the LISTEN connection was (re)established

    # -- lifecycle -------------------------------------------------------------------------------------
    async def start(self) -> None:
        self._tasks = [
            asyncio.create_task(self._listen_forever(), name="alerts-listener"),
            asyncio.create_task(self._fetch_forever(), name="alerts-fetcher"),
        ]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []

    def wake(self) -> None:
        self._wake.set()

    @property
    def subscriber_count(self) -> int:
        return len(self._subscribers)

    # -- subscribers ------------------------------------------------------------------------------------
    async def stream(self, *, after: int | None, min_severity: str = "info") -> AsyncIterator[Notification]:
        """Notifications of at least min_severity with id > after (or, without after, from now on), in
        id order, each once, forever."""
        sub = Subscriber(self._capacity)
        self._subscribers.add(sub)  # before reading the table: nothing committed from now on is missed
        floor = SEVERITY_RANK[min_severity]
        try:
            last = after if after is not None else await self._max_id()
            catch_up = after is not None
            while True:
                if catch_up or sub.overflowed:
                    sub.overflowed = False
                    sub.buffer.clear()  # anything in it is in the table too, and re-read below
                    while True:
                        rows = await self._read_after(last)
                        for row in rows:
                            last = row.id
                            if SEVERITY_RANK[row.severity] >= floor:
                                yield row
                        if len(rows) < PAGE:
                            break
                    catch_up = False
                while sub.buffer and not sub.overflowed:
                    row = sub.buffer.popleft()
                    if row.id <= last:
                        continue  # already sent from the table at the seam
                    last = row.id
                    if SEVERITY_RANK[row.severity] >= floor:
                        yield row
                if sub.overflowed:
                    continue
                sub.ready.clear()
                await sub.ready.wait()
        finally:
            self._subscribers.discard(sub)

    # -- reading the table -----------------------------------------------------------------------------
    async def _max_id(self) -> int:
        async with self._sessionmaker() as session:
            return int(await session.scalar(select(func.coalesce(func.max(Notification.id), 0))) or 0)

    async def _read_after(self, after: int) -> list[Notification]:
        async with self._sessionmaker() as session:
            stmt = select(Notification).where(Notification.id > after).order_by(Notification.id).limit(PAGE)
            return list((await session.scalars(stmt)).all())

    async def fetch(self) -> int:
        """Read the rows after the last one seen and hand them to every subscriber; returns how many."""
        if self._last_id is None:
            self._last_id = await self._max_id()
            return 0
        total = 0
        while True:
            rows = await self._read_after(self._last_id)
            if not rows:
                return total
            self._last_id = rows[-1].id
            total += len(rows)
            for sub in list(self._subscribers):
                sub.push(rows)
            if len(rows) < PAGE:
                return total

    async def _fetch_forever(self) -> None:
        while True:
            try:
                await self.fetch()
            except Exception as exc:  # noqa: BLE001 - database away: the next round reads what was missed
                log.warning("alerts: reading notifications failed: %s: %s", type(exc).__name__, exc)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self._recheck)
            self._wake.clear()

    # -- the LISTEN connection -------------------------------------------------------------------------
    async def _listen_forever(self) -> None:
        backoff = 0.2
        while True:
            conn: Any = None
            try:
                conn = await asyncpg.connect(
                    self._dsn, server_settings={"application_name": LISTENER_APPLICATION_NAME}, timeout=10
                )
                lost = asyncio.Event()
                conn.add_termination_listener(lambda _conn, lost=lost: lost.set())
                await conn.add_listener(CHANNEL, self._on_notify)
                self.listens += 1
                self.listening.set()
                backoff = 0.2
                self.wake()  # read what was committed while we were not listening
                while not lost.is_set():
                    try:
                        await asyncio.wait_for(lost.wait(), timeout=self._recheck)
                    except TimeoutError:
                        # A half-open TCP connection would stay silent forever: prove it is alive.
                        await asyncio.wait_for(conn.fetchval("SELECT 1"), timeout=self._recheck)
                log.warning("alerts: the LISTEN connection was lost; reconnecting")
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - PostgreSQL restarting or unreachable: retry
                log.warning("alerts: LISTEN connection failed: %s: %s", type(exc).__name__, exc)
            finally:
                self.listening.clear()
                if conn is not None and not conn.is_closed():
                    conn.terminate()
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, self._max_backoff)

    def _on_notify(self, *_args: Any) -> None:
        self.wake()
