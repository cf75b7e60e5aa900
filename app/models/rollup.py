"""Per-campaign and per-campaign-day totals of the performance records, kept current by the database.

Statement-level triggers on campaign_performance_metrics (migration 0005) add every inserted statement's
sums in the same transaction (`INSERT ... ON CONFLICT DO UPDATE SET x = x + EXCLUDED.x`, which row-locks,
so concurrent writers cannot lose an update) and recompute the touched campaigns on UPDATE or DELETE.
Triggers rather than service code so the importer, COPY and any plain SQL insert are covered too.
Analytics read these instead of aggregating the records: one row per campaign, whatever the record count.
"""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal

from sqlalchemy import BigInteger, Computed, Date, ForeignKey, Index, Numeric
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base

# The pooled ROI (ratio of sums, percent) analytics ranks by; null where nothing was spent.
POOLED_ROI_SQL = "(net_revenue - total_cost) * 100 / NULLIF(total_cost, 0)"


def _count() -> Mapped[int]:
    return mapped_column(BigInteger, nullable=False, server_default="0")


def _money() -> Mapped[Decimal]:
    # Unconstrained NUMERIC: a sum of NUMERIC(16,2) values keeps scale 2 and can never overflow.
    return mapped_column(Numeric, nullable=False, server_default="0")


def _campaign_fk(primary_key: bool = True) -> Mapped[uuid.UUID]:
    return mapped_column(UUID(as_uuid=True), ForeignKey("campaigns.id", ondelete="CASCADE"), primary_key=primary_key)


class _Sums:
    """The sums both rollups keep: every count and money field, the record count and the score parts."""

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
    records: Mapped[int] = _count()
    # avg(performance_score) = score_sum / scored (records with a score), as PostgreSQL's avg computes it.
    score_sum: Mapped[int] = _count()
    scored: Mapped[int] = _count()


class CampaignTotals(_Sums, Base):
    __tablename__ = "campaign_totals"
    campaign_id: Mapped[uuid.UUID] = _campaign_fk()
    max_roi: Mapped[Decimal | None] = mapped_column(Numeric)
    min_roi: Mapped[Decimal | None] = mapped_column(Numeric)
    pooled_roi: Mapped[Decimal | None] = mapped_column(Numeric, Computed(POOLED_ROI_SQL, persisted=True))


# topPerformingCampaigns(metric: ROI) orders by pooled ROI descending, ties by campaign id: the first rows
# of this index are the answer, whatever the number of campaigns.
Index("ix_campaign_totals_pooled_roi", CampaignTotals.pooled_roi.desc(), CampaignTotals.campaign_id)


class CampaignDailyTotals(_Sums, Base):
    """Per UTC day of period_start, as campaignAnalytics' overTime groups them."""

    __tablename__ = "campaign_daily_totals"

    campaign_id: Mapped[uuid.UUID] = _campaign_fk()
    day: Mapped[date] = mapped_column(Date, primary_key=True)
