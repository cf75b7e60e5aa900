"""Background jobs through a transactional outbox.

`enqueue` writes the job in the caller's transaction: it exists exactly when the decision that caused it
was committed. `relay` moves pending rows to the arq queue; it runs right after commits (the caller's
`Runtime.kick_outbox()`) and every few seconds in the API and worker processes, so jobs decided while
Redis was down are queued once it is back. arq's job id makes a re-relay of the same row harmless.
"""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime
from typing import Any

from arq.connections import ArqRedis
from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.models.job_outbox import OutboxJob

log = logging.getLogger(__name__)
ENQUEUED = "job_outbox_enqueued"  # session.info flag set by enqueue


async def enqueue(
    session: AsyncSession,
    function: str,
    *args: Any,
    job_id: str | None = None,
    defer_until: datetime | None = None,
) -> str:
    """Record a job to run after this transaction commits; returns its job id. A job id already in the
    outbox is not recorded again (the same decision made twice queues one job)."""
    jid = job_id or uuid.uuid4().hex
    await session.execute(
        insert(OutboxJob)
        .values(function=function, args=list(args), job_id=jid, defer_until=defer_until)
        .on_conflict_do_nothing(index_elements=[OutboxJob.job_id])
    )
    session.info[ENQUEUED] = True
    return jid


def enqueued(session: AsyncSession) -> bool:
    """Whether this session wrote outbox jobs (the caller then kicks the relay after commit)."""
    return bool(session.info.get(ENQUEUED))


async def relay(
    sessionmaker: async_sessionmaker[AsyncSession], redis: ArqRedis, queue_name: str, *, batch: int = 100
) -> int:
    """Queue pending outbox rows in arq; returns how many were queued. Safe to run in many processes."""
    moved = 0
    while True:
        async with sessionmaker() as session, session.begin():
            rows = (
                await session.scalars(
                    select(OutboxJob)
                    .where(OutboxJob.enqueued_at.is_(None))
                    .order_by(OutboxJob.id)
                    .limit(batch)
                    .with_for_update(skip_locked=True)
                )
            ).all()
            if not rows:
                return moved
            done: list[int] = []
            for row in rows:
                try:
                    await redis.enqueue_job(
                        row.function,
                        *row.args,
                        _job_id=row.job_id,
                        _queue_name=queue_name,
                        _defer_until=row.defer_until,
                    )
                except Exception as exc:  # noqa: BLE001 - Redis down: leave the row for the next relay
                    await session.execute(
                        update(OutboxJob)
                        .where(OutboxJob.id == row.id)
                        .values(attempts=OutboxJob.attempts + 1, last_error=f"{type(exc).__name__}: {exc}"[:500])
                    )
                    log.warning("job outbox: could not queue %s (%s); will retry", row.function, type(exc).__name__)
                    break
                done.append(row.id)
            if done:
                await session.execute(
                    update(OutboxJob).where(OutboxJob.id.in_(done)).values(enqueued_at=datetime.now(UTC))
                )
            moved += len(done)
            if len(done) < len(rows):
                return moved
