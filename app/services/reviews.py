"""The weekly review (seed 8.2): what an admin checks once a week, computed on demand."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import Campaign, OperationError, PerformanceRecord, SocialPost
from app.services.metrics import money, ratio, roi
from app.services.roi_analysis import CampaignRoi, CurrencyPortfolio
from app.settings import Settings

P = PerformanceRecord


@dataclass
class TokenWarning:
    platform: str
    account: str | None
    status: str
    expires_at: datetime | None
    message: str


@dataclass
class WeeklyReview:
    window_start: datetime
    window_end: datetime
    active_campaigns: int
    portfolio: list[CurrencyPortfolio]
    operations: int
    errors: int
    error_rate_per_100: Decimal | None
    errors_by_type: dict[str, int]
    token_warnings: list[TokenWarning] = field(default_factory=list)
    top_campaigns: list[CampaignRoi] = field(default_factory=list)
    bottom_campaigns: list[CampaignRoi] = field(default_factory=list)


async def weekly_review(
    session: AsyncSession, settings: Settings, *, now: datetime, days: int = 7, size: int = 3
) -> WeeklyReview:
    start = now - timedelta(days=days)
    active = int(await session.scalar(select(func.count()).where(Campaign.status == "active")) or 0)

    rows = (
        await session.execute(
            select(
                Campaign.id,
                Campaign.title,
                Campaign.currency,
                func.sum(P.new_signups).label("signups"),
                func.sum(P.new_organizers).label("organizers"),
                func.sum(P.gross_revenue).label("gross"),
                func.sum(P.net_revenue).label("net"),
                func.sum(P.total_cost).label("cost"),
                func.count().label("records"),
            )
            .join(P, P.campaign_id == Campaign.id)
            .where(P.period_start >= start, P.period_start < now)
            .group_by(Campaign.id)
        )
    ).all()
    per_currency: dict[str, list[Decimal]] = {}
    ranked: list[CampaignRoi] = []
    records = 0
    for r in rows:
        gross, net, cost = Decimal(r.gross), Decimal(r.net), Decimal(r.cost)
        records += int(r.records)
        acc = per_currency.setdefault(r.currency, [Decimal(0), Decimal(0), Decimal(0), Decimal(0)])
        acc[0] += 1
        acc[1] += gross
        acc[2] += net
        acc[3] += cost
        value = ratio(roi(net, cost))
        # Too little spend says nothing about a campaign: same rule as the daily analysis.
        if value is not None and cost >= settings.roi_min_spend:
            ranked.append(
                CampaignRoi(
                    str(r.id), r.title, r.currency, value, int(r.signups), int(r.organizers), money(net), money(cost)
                )
            )
    portfolio = [
        CurrencyPortfolio(c, int(a[0]), money(a[1]), money(a[2]), money(a[3]), ratio(roi(a[2], a[3])))
        for c, a in sorted(per_currency.items())
    ]
    ranked.sort(key=lambda c: (-(c.roi or 0), c.campaign_id))

    by_type = dict(
        (
            await session.execute(
                select(OperationError.error_type, func.count())
                .where(OperationError.created_at >= start, OperationError.created_at < now)
                .group_by(OperationError.error_type)
            )
        ).all()
    )
    errors = sum(by_type.values())
    posts = int(
        await session.scalar(
            select(func.coalesce(func.sum(1 + SocialPost.retry_count), 0)).where(
                SocialPost.created_at >= start, SocialPost.created_at < now
            )
        )
        or 0
    )
    non_posting_errors = int(
        await session.scalar(
            select(func.count()).where(
                OperationError.created_at >= start,
                OperationError.created_at < now,
                OperationError.operation_type != "social_posting",
            )
        )
        or 0
    )
    # Operations: post attempts (each try of a tracked post), performance recordings, and the other
    # operations that failed (a failed post attempt is already counted as an attempt).
    operations = posts + records + non_posting_errors
    rate = None if operations == 0 else ratio(Decimal(errors) * 100 / Decimal(operations))
    review = WeeklyReview(
        window_start=start,
        window_end=now,
        active_campaigns=active,
        portfolio=portfolio,
        operations=operations,
        errors=errors,
        error_rate_per_100=rate,
        errors_by_type={str(k): int(v) for k, v in by_type.items()},
        top_campaigns=ranked[:size],
        bottom_campaigns=list(reversed(ranked[-size:])) if ranked else [],
    )
    review.token_warnings = await token_warnings(session, now=now)
    return review


async def token_warnings(session: AsyncSession, *, now: datetime) -> list[TokenWarning]:
    """Unresolved token and permission errors per platform (platform connections add expiry dates)."""
    rows = (
        await session.execute(
            select(OperationError.platform, OperationError.error_type, func.max(OperationError.created_at))
            .where(
                OperationError.resolved.is_(False),
                OperationError.error_type.in_(("token_expired", "permission_denied")),
            )
            .group_by(OperationError.platform, OperationError.error_type)
        )
    ).all()
    return [
        TokenWarning(
            platform=p or "unknown",
            account=None,
            status=t,
            expires_at=None,
            message=f"{p or 'a platform'}: unresolved {t.replace('_', ' ')} since {last:%Y-%m-%d %H:%M} UTC",
        )
        for p, t, last in rows
    ]
