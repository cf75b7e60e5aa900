from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Numeric,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, created_at_column, uuid_pk

COUNT_FIELDS = (
    "views",
    "clicks",
    "new_signups",
    "new_organizers",
    "new_events_created",
    "tickets_sold",
    "social_shares",
    "social_likes",
)
MONEY_FIELDS = ("gross_revenue", "net_revenue", "ad_spend", "ai_generation_cost", "total_cost")


def _count() -> Mapped[int]:
    return mapped_column(BigInteger, nullable=False, server_default="0")


def _money() -> Mapped[Decimal]:
    return mapped_column(Numeric(16, 2), nullable=False, server_default="0")


class PerformanceRecord(Base):
    """What a campaign did in one period from one source. Records are increments; analytics sum them."""

    __tablename__ = "campaign_performance_metrics"
    __table_args__ = (
        UniqueConstraint("campaign_id", "idempotency_key", name="uq_performance_campaign_idempotency"),
        Index("ix_performance_campaign_period", "campaign_id", "period_start"),
        *(CheckConstraint(f"{f} >= 0", name=f"{f}_non_negative") for f in COUNT_FIELDS + MONEY_FIELDS),
        CheckConstraint("total_cost >= ad_spend + ai_generation_cost", name="total_cost_covers_parts"),
        CheckConstraint("net_revenue <= gross_revenue", name="net_not_above_gross"),
        CheckConstraint("period_end >= period_start", name="period_order"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    campaign_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("campaigns.id", ondelete="CASCADE"), nullable=False
    )
    source: Mapped[str] = mapped_column(String(32), nullable=False)
    period_start: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    period_end: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    idempotency_key: Mapped[str | None] = mapped_column(Text)

    views: Mapped[int] = _count()
    clicks: Mapped[int] = _count()
    new_signups: Mapped[int] = _count()
    new_organizers: Mapped[int] = _count()
    new_events_created: Mapped[int] = _count()
    tickets_sold: Mapped[int] = _count()
    social_shares: Mapped[int] = _count()
    social_likes: Mapped[int] = _count()
    gross_revenue: Mapped[Decimal] = _money()
    net_revenue: Mapped[Decimal] = _money()
    ad_spend: Mapped[Decimal] = _money()
    ai_generation_cost: Mapped[Decimal] = _money()
    total_cost: Mapped[Decimal] = _money()

    # Derived by the server (app/services/metrics.py), stored rounded; null where not defined.
    ctr: Mapped[Decimal | None] = mapped_column(Numeric)
    roi: Mapped[Decimal | None] = mapped_column(Numeric)
    roas: Mapped[Decimal | None] = mapped_column(Numeric)
    cost_per_signup: Mapped[Decimal | None] = mapped_column(Numeric)
    cost_per_organizer: Mapped[Decimal | None] = mapped_column(Numeric)
    performance_score: Mapped[int | None] = mapped_column(SmallInteger)
    created_at: Mapped[datetime] = created_at_column()
