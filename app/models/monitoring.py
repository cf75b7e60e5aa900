"""Hourly campaign monitoring (app/services/monitoring.py): one row per run, and what each hour added.

A run is identified by its hour (the tick's hour, UTC): the unique hour is how a second run of the same
tick, or a crashed run's retry, finds out whether the hour is already done. Each campaign's increments
are stored per (campaign, source, hour) once; the primary key is what keeps a retried hour from being
recorded twice.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, CheckConstraint, DateTime, ForeignKey, Integer, String, Text, text
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, created_at_column, uuid_pk

# running: claimed (until lease_until); succeeded: every campaign checked without an adapter error;
# partial: finished, some posts could not be read (see errors); failed: the run itself broke (retried).
RUN_STATUSES = ("running", "succeeded", "partial", "failed")


class MonitoringRun(Base):
    __tablename__ = "monitoring_runs"
    __table_args__ = (CheckConstraint(f"status IN {RUN_STATUSES}", name="status"),)

    id: Mapped[uuid.UUID] = uuid_pk()
    # The tick's hour; the readings taken then are recorded for the hour that ended, [hour - 1 h, hour).
    hour: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, unique=True)
    status: Mapped[str] = mapped_column(String(16), nullable=False)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # A running run's claim; a run whose worker died may be taken over once it has passed.
    lease_until: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    worker_id: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, server_default="1")
    campaigns_checked: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    posts_updated: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    errors: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    duration_ms: Mapped[int | None] = mapped_column(Integer)
    detail: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False, server_default=text("'{}'::jsonb"))
    created_at: Mapped[datetime] = created_at_column()


def _count() -> Mapped[int]:
    return mapped_column(BigInteger, nullable=False, server_default="0")


class MonitoringIncrement(Base):
    """What one campaign's posts on one platform gained during one hour (the dashboard's "last hour").

    The performance record of the same hour carries views/clicks/likes/shares into analytics; comments
    and reach have no performance column, so they are kept here.
    """

    __tablename__ = "monitoring_increments"

    campaign_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("campaigns.id", ondelete="CASCADE"), primary_key=True
    )
    source: Mapped[str] = mapped_column(String(32), primary_key=True)
    # The run's hour (when the readings were taken); the increments happened in [hour - 1 h, hour).
    hour: Mapped[datetime] = mapped_column(DateTime(timezone=True), primary_key=True)
    posts: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    views: Mapped[int] = _count()
    clicks: Mapped[int] = _count()
    likes: Mapped[int] = _count()
    shares: Mapped[int] = _count()
    comments: Mapped[int] = _count()
    reach: Mapped[int] = _count()
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
