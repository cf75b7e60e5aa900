"""Campaign analytics (seed 2.3, 2.4): sums in SQL, ratios recomputed from the sums (ratio of sums).

Whole-life totals, the per-day series and rankings read the rollups (app/models/rollup.py), which the
database keeps equal to the records' sums; a from/to window aggregates the records themselves.
"""

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
from app.models import Campaign, CampaignDailyTotals, CampaignTotals, OperationError, PerformanceRecord, SocialPost
from app.services import campaigns
from app.services.metrics import Derived, ScoreRules, Totals, derive, money, ratio, roas, roi

P = PerformanceRecord
T = CampaignTotals
D = CampaignDailyTotals


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


def _rollup_sums(R: Any) -> tuple[Any, ...]:
    """The rollup columns under the labels SUMS uses, so _totals reads either."""
    return (
        R.views.label("views"),
        R.clicks.label("clicks"),
        R.new_signups.label("signups"),
        R.new_organizers.label("organizers"),
        R.new_events_created.label("events"),
        R.tickets_sold.label("tickets"),
        R.social_shares.label("shares"),
        R.social_likes.label("likes"),
        R.gross_revenue.label("gross"),
        R.net_revenue.label("net"),
        R.ad_spend.label("ad_spend"),
        R.ai_generation_cost.label("ai_cost"),
        R.total_cost.label("cost"),
    )


def _rollup_avg_score(R: Any) -> Any:
    # What avg(performance_score) over the records returns: numeric sum / count, null without scores.
    return (cast(R.score_sum, Numeric) / func.nullif(R.scored, 0)).label("avg_score")


_ZERO_TOTALS = {
    **{k: 0 for k in ("views", "clicks", "signups", "organizers", "events", "tickets", "shares", "likes", "records")},
    **{k: Decimal(0) for k in ("gross", "net", "ad_spend", "ai_cost", "cost")},
    "best_roi": None,
    "worst_roi": None,
    "avg_score": None,
}


def _period(stmt: Select[Any], start: datetime | None, end: datetime | None) -> Select[Any]:
    if start is not None:
        stmt = stmt.where(P.period_start >= start)
    if end is not None:
        stmt = stmt.where(P.period_start < end)
    return stmt


class _Row:
    """Attribute access over a dict, standing in for a result row."""

    def __init__(self, values: dict[str, Any]) -> None:
        self.__dict__.update(values)


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

    windowed = start is not None or end is not None
    row: Any
    if windowed:
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
    else:
        rollup_stmt = select(
            *_rollup_sums(T),
            T.records.label("records"),
            T.max_roi.label("best_roi"),
            T.min_roi.label("worst_roi"),
            _rollup_avg_score(T),
        ).where(T.campaign_id == campaign_id)
        row = (await session.execute(rollup_stmt)).one_or_none()
        if row is None:  # no records yet
            row = _Row(_ZERO_TOTALS)
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

    day_stmt: Select[Any]
    if windowed:
        day = func.date(func.timezone("UTC", P.period_start)).label("day")
        day_stmt = _period(
            select(day, *SUMS, func.avg(P.performance_score).label("avg_score"))
            .where(where)
            .group_by(day)
            .order_by(day),
            start,
            end,
        )
    else:
        day_stmt = (
            select(D.day.label("day"), *_rollup_sums(D), _rollup_avg_score(D))
            .where(D.campaign_id == campaign_id)
            .order_by(D.day)
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


async def top_performing(session: AsyncSession, metric: RankMetric, limit: int) -> list[RankedCampaign]:
    """Campaigns ranked by the aggregate of `metric`; null values left out; ties by campaign id.

    REVENUE ranks by net revenue, which is comparable only within one currency: the caller sees each
    campaign's currency beside its value.

    Reads the per-campaign rollup: one row per campaign; ROI (the default) walks an index on the pooled ROI.
    """
    value: Any
    if metric is RankMetric.ROI:
        value = T.pooled_roi
    elif metric is RankMetric.ROAS:
        value = T.gross_revenue / func.nullif(T.ad_spend, 0)
    elif metric is RankMetric.SIGNUPS:
        value = cast(T.new_signups, Numeric)
    elif metric is RankMetric.REVENUE:
        value = T.net_revenue
    else:
        value = cast(T.score_sum, Numeric) / func.nullif(T.scored, 0)
    stmt = (
        select(
            T.campaign_id.label("cid"),
            value.label("value"),
            T.new_signups.label("signups"),
            T.gross_revenue.label("gross"),
            T.net_revenue.label("net"),
            T.total_cost.label("cost"),
            T.ad_spend.label("ad_spend"),
            _rollup_avg_score(T),
            Campaign.title,
            Campaign.currency,
        )
        .join(Campaign, Campaign.id == T.campaign_id)
        .where(T.records > 0, value.is_not(None))
        .order_by(value.desc(), T.campaign_id)
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
