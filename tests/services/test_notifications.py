"""The notification outbox: ids become visible in id order, NOTIFY only at commit, nothing on rollback."""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg
import pytest
from sqlalchemy import select, text

from app.database import asyncpg_dsn, transaction
from app.models import Notification
from app.runtime import Runtime
from app.services import notifications
from app.services.notifications import CHANNEL, INSERT_ORDER_LOCK, NewNotification


def note(title: str) -> NewNotification:
    return NewNotification(type="test", severity="info", title=title, message=title, dedup_key=title)


async def visible_after(runtime: Runtime, cursor: int) -> list[str]:
    async with runtime.sessionmaker() as s:
        rows = (await s.scalars(select(Notification).where(Notification.id > cursor).order_by(Notification.id))).all()
    return [r.title for r in rows]


async def wait_for_lock_waiter(runtime: Runtime) -> None:
    """Until some backend waits for the notification insert-order lock (polling the lock table)."""
    for _ in range(500):
        async with runtime.engine.connect() as conn:
            waiting = await conn.scalar(
                text(
                    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted "
                    "AND ((classid::bigint << 32) | objid::bigint) = :key"
                ),
                {"key": INSERT_ORDER_LOCK},
            )
        if waiting:
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the second insert never waited for the first")


async def test_a_later_insert_waits_so_ids_become_visible_in_order(runtime: Runtime) -> None:
    # Transaction A inserts and stays open; B's insert must wait for A's commit. Otherwise B could take
    # a larger id, commit first, and a subscriber that saw B would skip A for good.
    a_inserted = asyncio.Event()
    a_may_commit = asyncio.Event()
    ids: dict[str, int] = {}

    async def a() -> None:
        async with transaction(runtime.sessionmaker) as s:
            created = await notifications.create_notification(s, note("A"))
            assert created is not None
            ids["A"] = created.id
            a_inserted.set()
            await a_may_commit.wait()

    async def b() -> None:
        await a_inserted.wait()
        async with transaction(runtime.sessionmaker) as s:
            created = await notifications.create_notification(s, note("B"))
            assert created is not None
            ids["B"] = created.id

    task_a, task_b = asyncio.create_task(a()), asyncio.create_task(b())
    await a_inserted.wait()
    await wait_for_lock_waiter(runtime)
    assert not task_b.done() and await visible_after(runtime, 0) == []
    a_may_commit.set()
    await asyncio.gather(task_a, task_b)
    assert ids["A"] < ids["B"]
    assert await visible_after(runtime, 0) == ["A", "B"]


async def test_notify_is_sent_at_commit_and_never_for_a_rollback(runtime: Runtime) -> None:
    received: asyncio.Queue[str] = asyncio.Queue()
    conn = await asyncpg.connect(asyncpg_dsn(runtime.endpoints.database_url))

    def on_notify(*args: Any) -> None:
        received.put_nowait(args[3])

    await conn.add_listener(CHANNEL, on_notify)
    try:
        with pytest.raises(RuntimeError):
            async with transaction(runtime.sessionmaker) as s:
                await notifications.create_notification(s, note("rolled back"))
                raise RuntimeError("the event failed")
        async with transaction(runtime.sessionmaker) as s:
            kept = await notifications.create_notification(s, note("committed"))
        assert kept is not None
        # The first wake-up anyone gets is the committed one's: the rolled-back row never announced itself.
        assert await asyncio.wait_for(received.get(), 10) == str(kept.id)
        assert await visible_after(runtime, 0) == ["committed"]
    finally:
        await conn.close()


async def test_a_dedup_key_writes_one_notification(runtime: Runtime) -> None:
    async with transaction(runtime.sessionmaker) as s:
        first = await notifications.create_notification(s, note("same"))
        second = await notifications.create_notification(s, note("same"))
    assert first is not None and second is None
