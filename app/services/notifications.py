"""Admin notifications: rows written in the same transaction as the event that causes them.

The row is the truth; a NOTIFY on the channel below is delivered by PostgreSQL only when that transaction
commits, so a rolled-back event never alerts anyone.
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

CHANNEL = "eventops_notifications"
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
