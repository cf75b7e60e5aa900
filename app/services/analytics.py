"""Campaign analytics (seed 2.3, 2.4): sums in SQL, ratios recomputed from the sums (ratio of sums)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import Numeric, Select, cast, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import ValidationFailed
from app.models import Campaign, OperationError, PerformanceRecord, SocialPost
from app.services import campaigns
from app.services.metrics import Derived, ScoreRules, Totals, derive, money, ratio, roas, roi

P = PerformanceRecord


@dataclass
class TotalPerformance:
    total_views: int
    total_clicks: int
    total_signups: int
    total_organizers: int
    total_events_created: int
    total_tickets_sold: int
    total_social_shares: int
    total_social_likes: int
    gross_revenue: Decimal
    net_revenue: Decimal
    total_ad_spend: Decimal
    total_ai_generation_cost: Decimal
    total_cost: Decimal
    records: int
    derived: Derived
    best_roi: Decimal | None
    worst_roi: Decimal | None
    avg_performance_score: Decimal | None


@dataclass
class PlatformPerformance:
    platform: str
    total_posts: int
    successful_posts: int
    failed_posts: int
    total_impressions: int
    total_engagement: int
    signups_attributed: int


@dataclass
class DayPerformance:
    date: date
    views: int
    clicks: int
    signups: int
    gross_revenue: Decimal
    net_revenue: Decimal
    total_cost: Decimal
    derived: Derived
    avg_performance_score: Decimal | None


@dataclass
class CampaignAnalytics:
    campaign: Campaign
    total: TotalPerformance
    social: list[PlatformPerformance]
    errors: list[OperationError]
    over_time: list[DayPerformance]


def _sum(col: Any) -> Any:
    return func.coalesce(func.sum(col), 0)


SUMS = (
    _sum(P.views).label("views"),
    _sum(P.clicks).label("clicks"),
    _sum(P.new_signups).label("signups"),
    _sum(P.new_organizers).label("organizers"),
    _sum(P.new_events_created).label("events"),
    _sum(P.tickets_sold).label("tickets"),
    _sum(P.social_shares).label("shares"),
    _sum(P.social_likes).label("likes"),
    _sum(P.gross_revenue).label("gross"),
    _sum(P.net_revenue).label("net"),
    _sum(P.ad_spend).label("ad_spend"),
    _sum(P.ai_generation_cost).label("ai_cost"),
    _sum(P.total_cost).label("cost"),
)


def _period(stmt: Select[Any], start: datetime | None, end: datetime | None) -> Select[Any]:
    if start is not None:
        stmt = stmt.where(P.period_start >= start)
    if end is not None:
        stmt = stmt.where(P.period_start < end)
    return stmt


def _totals(row: Any) -> Totals:
    return Totals(
        views=int(row.views),
        clicks=int(row.clicks),
        new_signups=int(row.signups),
        new_organizers=int(row.organizers),
        gross_revenue=Decimal(row.gross),
        net_revenue=Decimal(row.net),
        ad_spend=Decimal(row.ad_spend),
        total_cost=Decimal(row.cost),
    )


async def campaign_analytics(
    session: AsyncSession,
    rules: ScoreRules,
    campaign_id: uuid.UUID,
    *,
    start: datetime | None = None,
    end: datetime | None = None,
    error_limit: int = 50,
) -> CampaignAnalytics:
    if start is not None and end is not None and end <= start:
        raise ValidationFailed("to must be after from", field="to")
    campaign = await campaigns.get_campaign(session, campaign_id)
    where = P.campaign_id == campaign_id

    total_stmt = _period(
        select(
            *SUMS,
            func.count().label("records"),
            func.max(P.roi).label("best_roi"),
            func.min(P.roi).label("worst_roi"),
            func.avg(P.performance_score).label("avg_score"),
        ).where(where),
        start,
        end,
    )
    row = (await session.execute(total_stmt)).one()
    totals = _totals(row)
    total = TotalPerformance(
        total_views=totals.views,
        total_clicks=totals.clicks,
        total_signups=totals.new_signups,
        total_organizers=totals.new_organizers,
        total_events_created=int(row.events),
        total_tickets_sold=int(row.tickets),
        total_social_shares=int(row.shares),
        total_social_likes=int(row.likes),
        gross_revenue=money(totals.gross_revenue),
        net_revenue=money(totals.net_revenue),
        total_ad_spend=money(totals.ad_spend),
        total_ai_generation_cost=money(Decimal(row.ai_cost)),
        total_cost=money(totals.total_cost),
        records=int(row.records),
        derived=derive(totals, rules).rounded(),
        best_roi=row.best_roi,
        worst_roi=row.worst_roi,
        avg_performance_score=ratio(None if row.avg_score is None else Decimal(row.avg_score)),
    )

    day = func.date(func.timezone("UTC", P.period_start)).label("day")
    day_stmt = _period(
        select(day, *SUMS, func.avg(P.performance_score).label("avg_score")).where(where).group_by(day).order_by(day),
        start,
        end,
    )
    over_time = []
    for r in (await session.execute(day_stmt)).all():
        t = _totals(r)
        over_time.append(
            DayPerformance(
                date=r.day,
                views=t.views,
                clicks=t.clicks,
                signups=t.new_signups,
                gross_revenue=money(t.gross_revenue),
                net_revenue=money(t.net_revenue),
                total_cost=money(t.total_cost),
                derived=derive(t, rules).rounded(),
                avg_performance_score=ratio(None if r.avg_score is None else Decimal(r.avg_score)),
            )
        )

    social = await _social_performance(session, campaign_id, start, end)
    error_stmt = (
        select(OperationError)
        .where(OperationError.campaign_id == campaign_id)
        .order_by(OperationError.created_at.desc(), OperationError.id.desc())
        .limit(error_limit)
    )
    if start is not None:
        error_stmt = error_stmt.where(OperationError.created_at >= start)
    if end is not None:
        error_stmt = error_stmt.where(OperationError.created_at < end)
    errors = list((await session.scalars(error_stmt)).all())
    return CampaignAnalytics(campaign, total, social, errors, over_time)


async def _social_performance(
    session: AsyncSession, campaign_id: uuid.UUID, start: datetime | None, end: datetime | None
) -> list[PlatformPerformance]:
    S = SocialPost
    post_stmt = select(
        S.platform,
        func.count().label("total"),
        func.count().filter(S.status == "posted").label("ok"),
        func.count().filter(S.status == "failed").label("failed"),
        _sum(S.impressions).label("impressions"),
        _sum(S.engagement).label("engagement"),
    ).where(S.campaign_id == campaign_id)
    if start is not None:
        post_stmt = post_stmt.where(S.created_at >= start)
    if end is not None:
        post_stmt = post_stmt.where(S.created_at < end)
    post_rows = {r.platform: r for r in (await session.execute(post_stmt.group_by(S.platform))).all()}
    signup_stmt = _period(
        select(P.source, _sum(P.new_signups).label("signups")).where(P.campaign_id == campaign_id).group_by(P.source),
        start,
        end,
    )
    signups = {r.source: int(r.signups) for r in (await session.execute(signup_stmt)).all()}
    result = []
    for platform in sorted(post_rows):
        r = post_rows[platform]
        result.append(
            PlatformPerformance(
                platform=platform,
                total_posts=int(r.total),
                successful_posts=int(r.ok),
                failed_posts=int(r.failed),
                total_impressions=int(r.impressions),
                total_engagement=int(r.engagement),
                signups_attributed=signups.get(platform, 0),
            )
        )
    return result


class RankMetric(StrEnum):
    ROI = "roi"
    SIGNUPS = "signups"
    REVENUE = "revenue"
    ROAS = "roas"
    PERFORMANCE_SCORE = "performance_score"


@dataclass
class RankedCampaign:
    campaign_id: uuid.UUID
    title: str
    currency: str
    metric_value: Decimal
    total_signups: int
    gross_revenue: Decimal
    net_revenue: Decimal
    total_cost: Decimal
    roi: Decimal | None
    avg_performance_score: Decimal | None


def _pooled_roi() -> Any:
    cost = func.sum(P.total_cost)
    return (func.sum(P.net_revenue) - cost) * 100 / func.nullif(cost, 0)


async def top_performing(session: AsyncSession, metric: RankMetric, limit: int) -> list[RankedCampaign]:
    """Campaigns ranked by the aggregate of `metric`; null values left out; ties by campaign id.

    REVENUE ranks by net revenue, which is comparable only within one currency: the caller sees each
    campaign's currency beside its value.
    """
    value: Any
    if metric is RankMetric.ROI:
        value = _pooled_roi()
    elif metric is RankMetric.ROAS:
        value = func.sum(P.gross_revenue) / func.nullif(func.sum(P.ad_spend), 0)
    elif metric is RankMetric.SIGNUPS:
        value = cast(func.sum(P.new_signups), Numeric)
    elif metric is RankMetric.REVENUE:
        value = func.sum(P.net_revenue)
    else:
        value = func.avg(P.performance_score)
    grouped = (
        select(
            P.campaign_id.label("cid"),
            value.label("value"),
            func.sum(P.new_signups).label("signups"),
            func.sum(P.gross_revenue).label("gross"),
            func.sum(P.net_revenue).label("net"),
            func.sum(P.total_cost).label("cost"),
            func.sum(P.ad_spend).label("ad_spend"),
            func.avg(P.performance_score).label("avg_score"),
        )
        .group_by(P.campaign_id)
        .subquery()
    )
    stmt = (
        select(grouped, Campaign.title, Campaign.currency)
        .join(Campaign, Campaign.id == grouped.c.cid)
        .where(grouped.c.value.is_not(None))
        .order_by(grouped.c.value.desc(), grouped.c.cid)
        .limit(limit)
    )
    out = []
    for r in (await session.execute(stmt)).all():
        # SQL orders; the values shown are recomputed exactly from the sums, as everywhere else.
        net, cost = Decimal(r.net), Decimal(r.cost)
        pooled_roi = roi(net, cost)
        v: Decimal
        if metric is RankMetric.ROI:
            v = ratio(pooled_roi) or Decimal(0)
        elif metric is RankMetric.ROAS:
            v = ratio(roas(Decimal(r.gross), Decimal(r.ad_spend))) or Decimal(0)
        elif metric is RankMetric.REVENUE:
            v = money(net)
        elif metric is RankMetric.SIGNUPS:
            v = Decimal(int(r.value))
        else:
            v = ratio(Decimal(r.value)) or Decimal(0)
        out.append(
            RankedCampaign(
                campaign_id=r.cid,
                title=r.title,
                currency=r.currency,
                metric_value=v,
                total_signups=int(r.signups),
                gross_revenue=money(Decimal(r.gross)),
                net_revenue=money(Decimal(r.net)),
                total_cost=money(Decimal(r.cost)),
                roi=ratio(pooled_roi),
                avg_performance_score=ratio(None if r.avg_score is None else Decimal(r.avg_score)),
            )
        )
    return out
