"""Admin notifications: rows written in the same transaction as the event that causes them.

The row is the truth; a NOTIFY on the channel below is delivered by PostgreSQL only when that transaction
commits, so a rolled-back event never alerts anyone.

The id is the subscribers' cursor ("everything after id N"), so rows must become visible in id order.
An identity value is taken at insert time, not at commit time: without care, transaction A could take
id 5, transaction B id 6, B commit first, and a reader that saw 6 would never look at 5 again. So every
notification insert first takes one transaction-scoped advisory lock: the next insert waits until the
previous inserting transaction has committed or rolled back (PostgreSQL releases the lock only after the
commit is visible), hence ids are visible in order. The price is that notification-writing transactions
are serialised from their insert to their commit; noise control keeps such writes rare, and the insert is
the last step of the transactions that write one. (A commit-ordered sequence would need a second write
after commit; the lock keeps the outbox one row, one transaction.)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import Notification
from app.models.notification import SEVERITIES
from app.services import webhooks

CHANNEL = "eventops_notifications"
# pg_advisory_xact_lock key of the notification insert order (any constant unique within eventops).
INSERT_ORDER_LOCK = 0x656F_6E6F_7469  # "eonoti"
SEVERITY_RANK = {name: rank for rank, name in enumerate(SEVERITIES)}


@dataclass
class NewNotification:
    type: str
    severity: str
    title: str
    message: str
    action: str | None = None
    data: dict[str, Any] = field(default_factory=dict)
    dedup_key: str | None = None


async def create_notification(session: AsyncSession, n: NewNotification) -> Notification | None:
    """Insert the notification; None when one with the same dedup key already exists."""
    if n.severity not in SEVERITY_RANK:
        raise ValueError(f"unknown severity {n.severity!r}")
    await session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": INSERT_ORDER_LOCK})
    stmt = (
        insert(Notification)
        .values(
            type=n.type,
            severity=n.severity,
            title=n.title[:300],
            message=n.message,
            action=n.action,
            data=n.data,
            dedup_key=n.dedup_key,
        )
        .on_conflict_do_nothing(index_elements=[Notification.dedup_key])
        .returning(Notification)
    )
    created = (await session.scalars(stmt)).one_or_none()
    if created is not None:
        await session.execute(
            text("SELECT pg_notify(:channel, :payload)"), {"channel": CHANNEL, "payload": str(created.id)}
        )
        await webhooks.enqueue_deliveries(session, created)
    return created


async def list_notifications(
    session: AsyncSession,
    *,
    unread_only: bool = False,
    min_severity: str | None = None,
    before: int | None = None,
    after: int | None = None,
    limit: int = 50,
) -> list[Notification]:
    stmt = select(Notification)
    if unread_only:
        stmt = stmt.where(Notification.read_at.is_(None))
    if min_severity is not None:
        allowed = [s for s in SEVERITIES if SEVERITY_RANK[s] >= SEVERITY_RANK[min_severity]]
        stmt = stmt.where(Notification.severity.in_(allowed))
    if after is not None:
        stmt = stmt.where(Notification.id > after).order_by(Notification.id.asc())
    else:
        if before is not None:
            stmt = stmt.where(Notification.id < before)
        stmt = stmt.order_by(Notification.id.desc())
    return list((await session.scalars(stmt.limit(limit))).all())


async def mark_read(session: AsyncSession, ids: Sequence[int] | None, *, now: datetime | None = None) -> int:
    """Mark the given notifications (or all, when ids is None) read; returns how many changed."""
    stmt = update(Notification).where(Notification.read_at.is_(None)).values(read_at=now or datetime.now(UTC))
    if ids is not None:
        stmt = stmt.where(Notification.id.in_(list(ids)))
    result = await session.execute(stmt)
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def unread_count(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.count()).where(Notification.read_at.is_(None))) or 0)
