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

from app.database import driver_connection
from app.errors import NotFound, ValidationFailed
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


def _total_performance(row: Any, rules: ScoreRules) -> TotalPerformance:
    totals = _totals(row)
    return TotalPerformance(
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


def _day(r: Any, rules: ScoreRules) -> DayPerformance:
    t = _totals(r)
    return DayPerformance(
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
    if start is None and end is None:
        return await _whole_life(session, rules, campaign_id, error_limit)
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
    total = _total_performance(row, rules)

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
    over_time = [_day(r, rules) for r in (await session.execute(day_stmt)).all()]

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


def _rollup_exprs(alias: str) -> str:
    """The rollup columns in the order of _DAY_FIELDS[1:], and the average score."""
    cols = (
        ("views", "views"),
        ("clicks", "clicks"),
        ("new_signups", "signups"),
        ("new_organizers", "organizers"),
        ("new_events_created", "events"),
        ("tickets_sold", "tickets"),
        ("social_shares", "shares"),
        ("social_likes", "likes"),
        ("gross_revenue", "gross"),
        ("net_revenue", "net"),
        ("ad_spend", "ad_spend"),
        ("ai_generation_cost", "ai_cost"),
        ("total_cost", "cost"),
    )
    out = [f"{alias}.{col}" for col, _ in cols]
    out.append(f"{alias}.score_sum::numeric / nullif({alias}.scored, 0)")
    return ", ".join(out)


_DAY_FIELDS = (
    "day",
    "views",
    "clicks",
    "signups",
    "organizers",
    "events",
    "tickets",
    "shares",
    "likes",
    "gross",
    "net",
    "ad_spend",
    "ai_cost",
    "cost",
    "avg_score",
)
_TOTAL_FIELDS = ("records", "best_roi", "worst_roi", *_DAY_FIELDS[1:])
_CAMPAIGN_COLUMNS = tuple(c.key for c in Campaign.__table__.columns)
_ERROR_COLUMNS = tuple(c.key for c in OperationError.__table__.columns)
# The whole-life analytics in one round trip (a from/to window takes the general path): the campaign row,
# its rollup totals, and the per-day, per-platform, per-source and error lists as arrays of rows. Rows
# keep PostgreSQL's exact types (numeric -> Decimal, date, timestamptz), which JSON aggregation would not.
# The row fields are positional (anonymous records): _TOTAL_FIELDS and _DAY_FIELDS name them.
_WHOLE_LIFE_SQL = f"""
SELECT c.*,
  (SELECT row(t.records, t.max_roi, t.min_roi, {_rollup_exprs("t")})
     FROM campaign_totals t WHERE t.campaign_id = c.id) AS totals,
  ARRAY(SELECT row(d.day, {_rollup_exprs("d")})
        FROM campaign_daily_totals d WHERE d.campaign_id = c.id ORDER BY d.day) AS days,
  ARRAY(SELECT row(platform, count(*), count(*) FILTER (WHERE status = 'posted'),
                   count(*) FILTER (WHERE status = 'failed'), coalesce(sum(impressions), 0),
                   coalesce(sum(engagement), 0))
        FROM social_media_post_tracking WHERE campaign_id = c.id GROUP BY platform ORDER BY platform) AS posts,
  ARRAY(SELECT row(source, coalesce(sum(new_signups), 0))
        FROM campaign_performance_metrics WHERE campaign_id = c.id GROUP BY source) AS signups,
  ARRAY(SELECT e FROM autonomous_operation_errors e WHERE e.campaign_id = c.id
        ORDER BY e.created_at DESC, e.id DESC LIMIT $2) AS errors
FROM campaigns c WHERE c.id = $1
"""


async def _whole_life(
    session: AsyncSession, rules: ScoreRules, campaign_id: uuid.UUID, error_limit: int
) -> CampaignAnalytics:
    conn = await driver_connection(session)
    row = await conn.fetchrow(_WHOLE_LIFE_SQL, campaign_id, error_limit)
    if row is None:
        raise NotFound(f"campaign {campaign_id} (campaignId) does not exist", field="campaignId")
    campaign = Campaign(**{name: row[name] for name in _CAMPAIGN_COLUMNS})
    totals_row: Any = (
        _Row(_ZERO_TOTALS) if row["totals"] is None else _Row(dict(zip(_TOTAL_FIELDS, row["totals"], strict=True)))
    )
    total = _total_performance(totals_row, rules)
    over_time = [_day(_Row(dict(zip(_DAY_FIELDS, d, strict=True))), rules) for d in row["days"]]
    signups = {source: int(n) for source, n in row["signups"]}
    social = [
        PlatformPerformance(
            platform=platform,
            total_posts=int(n),
            successful_posts=int(ok),
            failed_posts=int(failed),
            total_impressions=int(impressions),
            total_engagement=int(engagement),
            signups_attributed=signups.get(platform, 0),
        )
        for platform, n, ok, failed, impressions, engagement in row["posts"]
    ]
    errors = [OperationError(**{name: e[name] for name in _ERROR_COLUMNS}) for e in row["errors"]]
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
