"""The daily ROI analysis (seed 4.2, 8.3): top performers, underperformers, insufficient data, portfolio.

Thresholds follow shared/spec/metrics.md and are configuration: a campaign whose total cost is below
ROI_MIN_SPEND is "insufficient data" (so a campaign with no cost, whose ROI is not defined, is never a top
performer); above ROI_SCALE_THRESHOLD it is a top performer; below 0 % an underperformer. Money in different
currencies is never added: the portfolio is given per currency.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import NotFound
from app.models import Campaign, PerformanceRecord, RoiReport
from app.services import notifications
from app.services.metrics import money, ratio, roi
from app.settings import Settings

P = PerformanceRecord


@dataclass
class CampaignRoi:
    campaign_id: str
    title: str
    currency: str
    roi: Decimal | None
    total_signups: int
    total_organizers: int
    net_revenue: Decimal
    total_cost: Decimal


@dataclass
class CurrencyPortfolio:
    currency: str
    campaigns: int
    gross_revenue: Decimal
    net_revenue: Decimal
    total_cost: Decimal
    roi: Decimal | None


@dataclass
class RoiAnalysis:
    report_date: date
    timezone: str
    window_start: datetime | None
    window_end: datetime
    top_performers: list[CampaignRoi] = field(default_factory=list)
    underperformers: list[CampaignRoi] = field(default_factory=list)
    insufficient_data: list[CampaignRoi] = field(default_factory=list)
    portfolio: list[CurrencyPortfolio] = field(default_factory=list)
    recommendations: list[str] = field(default_factory=list)


def _pct(value: Decimal | None) -> str:
    return "not defined" if value is None else f"{value.quantize(Decimal('1'))}%"


async def analyze(session: AsyncSession, settings: Settings, *, now: datetime) -> RoiAnalysis:
    """Analyse every active campaign's records up to `now` (within the lookback window, if set)."""
    tz = ZoneInfo(settings.report_timezone)
    report_date = now.astimezone(tz).date()
    window_start = None if settings.roi_lookback_days is None else now - timedelta(days=settings.roi_lookback_days)
    joined = (P.campaign_id == Campaign.id) & (P.period_start < now)
    if window_start is not None:
        joined = joined & (P.period_start >= window_start)
    stmt = (
        select(
            Campaign.id,
            Campaign.title,
            Campaign.currency,
            func.coalesce(func.sum(P.new_signups), 0).label("signups"),
            func.coalesce(func.sum(P.new_organizers), 0).label("organizers"),
            func.coalesce(func.sum(P.gross_revenue), 0).label("gross"),
            func.coalesce(func.sum(P.net_revenue), 0).label("net"),
            func.coalesce(func.sum(P.total_cost), 0).label("cost"),
        )
        .join(P, joined, isouter=True)
        .where(Campaign.status == "active")
        .group_by(Campaign.id)
        .order_by(Campaign.id)
    )
    result = RoiAnalysis(report_date, settings.report_timezone, window_start, now)
    per_currency: dict[str, dict[str, Any]] = {}
    for r in (await session.execute(stmt)).all():
        net, cost, gross = Decimal(r.net), Decimal(r.cost), Decimal(r.gross)
        c = CampaignRoi(
            campaign_id=str(r.id),
            title=r.title,
            currency=r.currency,
            roi=ratio(roi(net, cost)),
            total_signups=int(r.signups),
            total_organizers=int(r.organizers),
            net_revenue=money(net),
            total_cost=money(cost),
        )
        pc = per_currency.setdefault(
            r.currency, {"campaigns": 0, "gross": Decimal(0), "net": Decimal(0), "cost": Decimal(0)}
        )
        pc["campaigns"] += 1
        pc["gross"] += gross
        pc["net"] += net
        pc["cost"] += cost
        if cost < settings.roi_min_spend or c.roi is None:
            result.insufficient_data.append(c)
        elif c.roi > settings.roi_scale_threshold:
            result.top_performers.append(c)
        elif c.roi < 0:
            result.underperformers.append(c)

    def roi_key(x: CampaignRoi) -> tuple[Decimal, str]:
        return (x.roi if x.roi is not None else Decimal(0), x.campaign_id)

    result.top_performers.sort(key=lambda x: (-roi_key(x)[0], x.campaign_id))
    result.underperformers.sort(key=roi_key)
    for currency in sorted(per_currency):
        pc = per_currency[currency]
        result.portfolio.append(
            CurrencyPortfolio(
                currency=currency,
                campaigns=pc["campaigns"],
                gross_revenue=money(pc["gross"]),
                net_revenue=money(pc["net"]),
                total_cost=money(pc["cost"]),
                roi=ratio(roi(pc["net"], pc["cost"])),
            )
        )
    for c in result.top_performers:
        result.recommendations.append(f"🚀 Scale up {c.title!r} (ROI: {_pct(c.roi)})")
    for c in result.underperformers:
        result.recommendations.append(f"⚠️ Pause {c.title!r} (ROI: {_pct(c.roi)})")
    for p in result.portfolio:
        result.recommendations.append(
            f"📊 Portfolio average ROI ({p.currency}): {_pct(p.roi)} — revenue {p.net_revenue} {p.currency}, "
            f"cost {p.total_cost} {p.currency}"
        )
    if result.insufficient_data:
        result.recommendations.append(
            f"ℹ️ {len(result.insufficient_data)} campaign(s) spent less than {settings.roi_min_spend}: "
            "not enough data yet"
        )
    return result


def to_json(a: RoiAnalysis) -> dict[str, Any]:
    def conv(v: Any) -> Any:
        if isinstance(v, Decimal):
            return str(v)
        if isinstance(v, (date, datetime)):
            return v.isoformat()
        if isinstance(v, dict):
            return {k: conv(x) for k, x in v.items()}
        if isinstance(v, list):
            return [conv(x) for x in v]
        return v

    return conv(asdict(a))  # type: ignore[no-any-return]


def from_json(body: dict[str, Any]) -> RoiAnalysis:
    def d(v: str | None) -> Decimal | None:
        return None if v is None else Decimal(v)

    def campaign(x: dict[str, Any]) -> CampaignRoi:
        return CampaignRoi(
            x["campaign_id"],
            x["title"],
            x["currency"],
            d(x["roi"]),
            x["total_signups"],
            x["total_organizers"],
            Decimal(x["net_revenue"]),
            Decimal(x["total_cost"]),
        )

    return RoiAnalysis(
        report_date=date.fromisoformat(body["report_date"]),
        timezone=body["timezone"],
        window_start=None if body["window_start"] is None else datetime.fromisoformat(body["window_start"]),
        window_end=datetime.fromisoformat(body["window_end"]),
        top_performers=[campaign(x) for x in body["top_performers"]],
        underperformers=[campaign(x) for x in body["underperformers"]],
        insufficient_data=[campaign(x) for x in body["insufficient_data"]],
        portfolio=[
            CurrencyPortfolio(
                p["currency"],
                p["campaigns"],
                Decimal(p["gross_revenue"]),
                Decimal(p["net_revenue"]),
                Decimal(p["total_cost"]),
                d(p["roi"]),
            )
            for p in body["portfolio"]
        ],
        recommendations=list(body["recommendations"]),
    )


async def run_daily_report(session: AsyncSession, settings: Settings, *, now: datetime | None = None) -> RoiAnalysis:
    """Analyse, store as the day's report (a rerun of the same day replaces it) and notify once per day."""
    now = now or datetime.now(UTC)
    analysis = await analyze(session, settings, now=now)
    body = to_json(analysis)
    await session.execute(
        insert(RoiReport)
        .values(report_date=analysis.report_date, timezone=analysis.timezone, body=body, generated_at=now)
        .on_conflict_do_update(
            index_elements=[RoiReport.report_date],
            set_={"body": body, "generated_at": now, "timezone": analysis.timezone},
        )
    )
    top = analysis.top_performers[0] if analysis.top_performers else None
    under = analysis.underperformers[0] if analysis.underperformers else None
    lines = []
    if top:
        lines.append(f"Top performer: {top.title!r} - ROI: {_pct(top.roi)} → consider scaling budget")
    if under:
        lines.append(f"Underperformer: {under.title!r} - ROI: {_pct(under.roi)} → consider pausing")
    for p in analysis.portfolio:
        lines.append(
            f"Portfolio ({p.currency}): ROI {_pct(p.roi)}, "
            f"revenue {p.net_revenue} {p.currency}, cost {p.total_cost} {p.currency}"
        )
    await notifications.create_notification(
        session,
        notifications.NewNotification(
            type="roi_report",
            severity="info",
            title=f"Daily ROI Report {analysis.report_date.isoformat()}",
            message="\n".join(lines) or "No active campaigns with recorded performance.",
            action="Review the daily ROI report",
            data={"report_date": analysis.report_date.isoformat(), "recommendations": analysis.recommendations},
            dedup_key=f"roi-report:{analysis.report_date.isoformat()}",
        ),
    )
    return analysis


async def get_report(session: AsyncSession, report_date: date | None) -> RoiAnalysis:
    stmt = select(RoiReport)
    stmt = (
        stmt.where(RoiReport.report_date == report_date) if report_date else stmt.order_by(RoiReport.report_date.desc())
    )
    row = await session.scalar(stmt.limit(1))
    if row is None:
        what = f"for {report_date.isoformat()}" if report_date else "yet"
        raise NotFound(f"there is no ROI report {what}", field="date")
    return from_json(row.body)
