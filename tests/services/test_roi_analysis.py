"""The daily ROI analysis on a fixture portfolio, against hand-computed values."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal as D

import pytest

from app.database import transaction
from app.errors import NotFound
from app.runtime import Runtime
from app.services import campaigns, notifications, performance, roi_analysis
from app.settings import Settings

NOW = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)


async def portfolio(runtime: Runtime, settings: Settings, at: datetime | None = None) -> dict[str, str]:
    """A (EUR) ROI 600 %, B (EUR) -50 %, C (EUR) no cost, D (USD) 50 %, E (USD) cost below the minimum spend,
    F (EUR) paused with a huge ROI."""
    spec = {
        "A": ("EUR", "active", "700", "100"),
        "B": ("EUR", "active", "50", "100"),
        "C": ("EUR", "active", "100", "0"),
        "D": ("USD", "active", "300", "200"),
        "E": ("USD", "active", "100", "5"),
        "F": ("EUR", "paused", "9000", "10"),
    }
    ids = {}
    async with transaction(runtime.sessionmaker) as s:
        for title, (currency, status, net, cost) in spec.items():
            c = await campaigns.create_campaign(s, title=title, currency=currency, status=status)
            ids[title] = str(c.id)
            data = performance.PerformanceInput(
                gross_revenue=net,
                net_revenue=net,
                total_cost=cost,
                new_signups=3,
                new_organizers=1,
                period_start=at or datetime(2026, 12, 1, 10, tzinfo=UTC),
            )
            await performance.record_performance(s, settings, c.id, data)
    return ids


async def test_fixture_portfolio_matches_hand_computed_values(runtime: Runtime, settings: Settings) -> None:
    await portfolio(runtime, settings)
    async with transaction(runtime.sessionmaker) as s:
        a = await roi_analysis.run_daily_report(s, settings, now=NOW)
    assert a.report_date == date(2026, 12, 2)
    assert [(c.title, c.roi) for c in a.top_performers] == [("A", D("600.0000"))]
    assert [(c.title, c.roi) for c in a.underperformers] == [("B", D("-50.0000"))]
    # C has no cost (ROI not defined), E spent less than ROI_MIN_SPEND: neither is ranked, though E's ROI is 1900 %
    assert sorted((c.title, c.roi) for c in a.insufficient_data) == [("C", None), ("E", D("1900.0000"))]
    # never added across currencies: EUR = A + B + C (850 net, 200 cost), USD = D + E (400 net, 205 cost)
    assert [(p.currency, p.campaigns, p.net_revenue, p.total_cost, p.roi) for p in a.portfolio] == [
        ("EUR", 3, D("850.00"), D("200.00"), D("325.0000")),
        ("USD", 2, D("400.00"), D("205.00"), D("95.1220")),
    ]
    assert a.recommendations[:2] == ["🚀 Scale up 'A' (ROI: 600%)", "⚠️ Pause 'B' (ROI: -50%)"]
    assert any(r.startswith("📊 Portfolio average ROI (EUR): 325%") for r in a.recommendations)


async def test_the_report_is_stored_and_notified_once_per_day(runtime: Runtime, settings: Settings) -> None:
    await portfolio(runtime, settings)
    for _ in range(2):  # a rerun the same day replaces the report and notifies nobody again
        async with transaction(runtime.sessionmaker) as s:
            await roi_analysis.run_daily_report(s, settings, now=NOW)
    async with runtime.sessionmaker() as s:
        stored = await roi_analysis.get_report(s, date(2026, 12, 2))
        latest = await roi_analysis.get_report(s, None)
        notes = await notifications.list_notifications(s)
    assert stored == latest and [c.title for c in stored.top_performers] == ["A"]
    assert stored.portfolio[1].roi == D("95.1220")
    assert [(n.type, n.severity) for n in notes] == [("roi_report", "info")]
    assert "Top performer: 'A' - ROI: 600%" in notes[0].message


async def test_report_date_is_the_local_day_of_the_report_time_zone(runtime: Runtime, settings: Settings) -> None:
    tokyo = settings.model_copy(update={"report_timezone": "Asia/Tokyo"})
    async with transaction(runtime.sessionmaker) as s:
        a = await roi_analysis.run_daily_report(s, tokyo, now=datetime(2026, 12, 2, 20, 0, tzinfo=UTC))
    assert a.report_date == date(2026, 12, 3) and a.timezone == "Asia/Tokyo"


async def test_no_report_yet_is_a_clear_not_found(runtime: Runtime) -> None:
    async with runtime.sessionmaker() as s:
        with pytest.raises(NotFound, match="no ROI report"):
            await roi_analysis.get_report(s, None)
