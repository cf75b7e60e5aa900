from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, CheckConstraint, DateTime, ForeignKey, Index, Integer, String, Text, func
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
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    campaign_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("campaigns.id", ondelete="CASCADE"), nullable=False
    )
    platform: Mapped[str] = mapped_column(String(32), nullable=False)
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
