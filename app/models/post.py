from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, created_at_column, uuid_pk

POST_STATUSES = ("pending", "posting", "posted", "failed", "blocked", "cancelled")


class SocialPost(Base):
    """One post of a campaign on one platform (the seed's social_media_post_tracking)."""

    __tablename__ = "social_media_post_tracking"
    __table_args__ = (
        CheckConstraint(f"status IN {POST_STATUSES}", name="status"),
        CheckConstraint("retry_count >= 0", name="retry_count_non_negative"),
        Index("ix_posts_campaign_platform", "campaign_id", "platform"),
        Index("ix_posts_status", "status"),
        Index("ix_posts_connection_status", "connection_id", "status"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    campaign_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("campaigns.id", ondelete="CASCADE"), nullable=False
    )
    platform: Mapped[str] = mapped_column(String(32), nullable=False)
    # The account it goes out through; set when the post is scheduled or published by eventops.
    connection_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("platform_connections.id", ondelete="SET NULL")
    )
    content: Mapped[str] = mapped_column(Text, nullable=False)
    image_url: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), nullable=False, server_default="pending")
    platform_post_id: Mapped[str | None] = mapped_column(Text)
    post_url: Mapped[str | None] = mapped_column(Text)
    error_type: Mapped[str | None] = mapped_column(String(32))
    error_message: Mapped[str | None] = mapped_column(Text)
    error_details: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    retry_count: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    posted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Publishing pipeline (app/services/publishing.py).
    scheduled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    next_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    first_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # What find_post looks for when an attempt's outcome is unknown.
    attempt_marker: Mapped[str | None] = mapped_column(Text)
    # The last attempt may have published (answer lost, worker died): look before publishing again.
    outcome_unknown: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=text("false"))
    # The worker holding the post in status 'posting', until when (a dead worker's claim lapses).
    claimed_by: Mapped[str | None] = mapped_column(Text)
    claimed_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Bumped on every (re)scheduling; part of the arq job id, so each scheduling queues a new job.
    schedule_seq: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    impressions: Mapped[int] = mapped_column(BigInteger, nullable=False, server_default="0")
    reach: Mapped[int] = mapped_column(BigInteger, nullable=False, server_default="0")
    engagement: Mapped[int] = mapped_column(BigInteger, nullable=False, server_default="0")
    clicks: Mapped[int] = mapped_column(BigInteger, nullable=False, server_default="0")
    shares: Mapped[int] = mapped_column(BigInteger, nullable=False, server_default="0")
    comments: Mapped[int] = mapped_column(BigInteger, nullable=False, server_default="0")
    likes: Mapped[int] = mapped_column(BigInteger, nullable=False, server_default="0")
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now(), onupdate=func.now()
    )
