"""The per-campaign and per-day rollups equal the records' sums at every commit, whoever writes."""

from __future__ import annotations

import asyncio
import random
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from sqlalchemy import delete, text, update

from app.database import transaction
from app.models import PerformanceRecord
from app.runtime import Runtime
from app.services import analytics, campaigns, importer, performance
from app.services.performance import PerformanceInput, score_rules
from app.settings import Settings

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "meta_ads_kag.csv"
SUMMED = (
    "views, clicks, new_signups, new_organizers, new_events_created, tickets_sold, social_shares, social_likes, "
    "gross_revenue, net_revenue, ad_spend, ai_generation_cost, total_cost"
)
SUMS = ", ".join(f"sum({c.strip()})" for c in SUMMED.split(",")) + (
    ", count(*), coalesce(sum(performance_score), 0), count(performance_score)"
)
ROLLUP = SUMMED + ", records, score_sum, scored"
DAY = "date(timezone('UTC', period_start))"


async def assert_rollups_equal_records(runtime: Runtime) -> int:
    """Compare every rollup row with the sums computed from the records; returns the campaigns compared."""
    async with runtime.sessionmaker() as s:
        expected = {
            r[0]: tuple(r[1:])
            for r in await s.execute(
                text(f"SELECT campaign_id, {SUMS}, max(roi), min(roi) FROM campaign_performance_metrics GROUP BY 1")
            )
        }
        got = {
            r[0]: tuple(r[1:])
            for r in await s.execute(text(f"SELECT campaign_id, {ROLLUP}, max_roi, min_roi FROM campaign_totals"))
        }
        assert got == expected
        expected_days = {
            (r[0], r[1]): tuple(r[2:])
            for r in await s.execute(
                text(f"SELECT campaign_id, {DAY}, {SUMS} FROM campaign_performance_metrics GROUP BY 1, 2")
            )
        }
        got_days = {
            (r[0], r[1]): tuple(r[2:])
            for r in await s.execute(text(f"SELECT campaign_id, day, {ROLLUP} FROM campaign_daily_totals"))
        }
        assert got_days == expected_days
    return len(expected)


def _input(rng: random.Random, day: datetime) -> PerformanceInput:
    spend = Decimal(rng.randint(0, 50_000)) / 100
    return PerformanceInput(
        views=rng.randint(0, 10_000),
        clicks=rng.randint(0, 500),
        new_signups=rng.randint(0, 40),
        new_organizers=rng.randint(0, 5),
        social_likes=rng.randint(0, 100),
        gross_revenue=str(Decimal(rng.randint(0, 90_000)) / 100),
        ad_spend=str(spend),
        ai_generation_cost=str(Decimal(rng.randint(0, 900)) / 100),
        period_start=day + timedelta(hours=rng.randint(0, 23)),
    )


async def _new_campaigns(runtime: Runtime, n: int) -> list[uuid.UUID]:
    async with transaction(runtime.sessionmaker) as s:
        return [(await campaigns.create_campaign(s, title=f"rollup {i}", currency="EUR")).id for i in range(n)]


async def test_concurrent_writers_into_the_same_campaigns_lose_no_update(runtime: Runtime, settings: Settings) -> None:
    ids = await _new_campaigns(runtime, 3)
    base = datetime(2026, 11, 1, tzinfo=UTC)

    async def writer(n: int) -> int:
        rng = random.Random(n)
        stored = 0
        for i in range(25):
            cid = ids[rng.randrange(len(ids))]
            day = base + timedelta(days=rng.randrange(3))
            async with transaction(runtime.sessionmaker) as s:
                if i % 5 == 4:
                    # a multi-row statement across campaigns, as the importer writes
                    rows = []
                    for j, c in enumerate(ids):
                        values = performance.build_values(_input(rng, day), settings, now=day)
                        rows.append({**values, "campaign_id": c, "idempotency_key": f"w{n}-{i}-{j}"})
                    stored += await performance.record_many(s, rows)
                else:
                    _, created = await performance.record_performance(
                        s, settings, cid, _input(rng, day), idempotency_key=f"w{n}-{i}"
                    )
                    stored += created
        return stored

    stored = await asyncio.gather(*(writer(n) for n in range(8)))
    assert sum(stored) == 8 * (20 + 5 * 3)
    assert await assert_rollups_equal_records(runtime) == 3
    async with runtime.sessionmaker() as s:
        records = await s.scalar(text("SELECT sum(records) FROM campaign_totals"))
    assert records == sum(stored)


async def test_analytics_from_the_rollups_equal_analytics_from_the_records(
    runtime: Runtime, settings: Settings
) -> None:
    ids = await _new_campaigns(runtime, 4)
    rng = random.Random(7)
    base = datetime(2026, 10, 1, tzinfo=UTC)
    async with transaction(runtime.sessionmaker) as s:
        for cid in ids[:3]:  # the fourth campaign has no records
            for _ in range(30):
                await performance.record_performance(
                    s, settings, cid, _input(rng, base + timedelta(days=rng.randrange(10)))
                )
    wide = (datetime(2000, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC))
    async with runtime.sessionmaker() as s:
        for cid in ids:
            from_rollup = await analytics.campaign_analytics(s, score_rules(settings), cid)
            # a from/to window aggregates the records themselves
            from_records = await analytics.campaign_analytics(s, score_rules(settings), cid, start=wide[0], end=wide[1])
            assert from_rollup.total == from_records.total
            assert from_rollup.over_time == from_records.over_time
        empty = await analytics.campaign_analytics(s, score_rules(settings), ids[3])
        assert empty.total.records == 0 and empty.total.gross_revenue == Decimal("0.00") and empty.over_time == []
        ranked = await analytics.top_performing(s, analytics.RankMetric.ROI, 10)
        # the ranking the records' own GROUP BY gives
        by_records = list(
            (
                await s.execute(
                    text(
                        "SELECT campaign_id FROM campaign_performance_metrics GROUP BY campaign_id"
                        " HAVING sum(total_cost) <> 0"
                        " ORDER BY (sum(net_revenue) - sum(total_cost)) * 100 / sum(total_cost) DESC, campaign_id"
                    )
                )
            ).scalars()
        )
    assert [r.campaign_id for r in ranked] == by_records and len(by_records) == 3


async def test_rollups_follow_the_importer(runtime: Runtime, settings: Settings) -> None:
    summary = await importer.import_meta_ads(runtime.sessionmaker, settings, FIXTURE)
    assert summary.imported == 1143
    assert await assert_rollups_equal_records(runtime) == 3
    again = await importer.import_meta_ads(runtime.sessionmaker, settings, FIXTURE)
    assert again.imported == 0
    assert await assert_rollups_equal_records(runtime) == 3


async def test_rollups_are_recomputed_after_update_and_delete(runtime: Runtime, settings: Settings) -> None:
    ids = await _new_campaigns(runtime, 3)
    rng = random.Random(3)
    base = datetime(2026, 9, 1, tzinfo=UTC)
    async with transaction(runtime.sessionmaker) as s:
        for cid in ids:
            for _ in range(10):
                await performance.record_performance(
                    s, settings, cid, _input(rng, base + timedelta(days=rng.randrange(4)))
                )
    assert await assert_rollups_equal_records(runtime) == 3
    async with transaction(runtime.sessionmaker) as s:
        # the record holding the campaign's best ROI goes: max_roi must fall back to the next best
        best = await s.scalar(
            text(
                "SELECT id FROM campaign_performance_metrics WHERE campaign_id = :c"
                " ORDER BY roi DESC NULLS LAST LIMIT 1"
            ),
            {"c": ids[0]},
        )
        await s.execute(delete(PerformanceRecord).where(PerformanceRecord.id == best))
        await s.execute(delete(PerformanceRecord).where(PerformanceRecord.campaign_id == ids[1]))
        await s.execute(
            update(PerformanceRecord)
            .where(PerformanceRecord.campaign_id == ids[2])
            .values(views=PerformanceRecord.views + 1)
        )
    assert await assert_rollups_equal_records(runtime) == 2
    async with runtime.sessionmaker() as s:
        gone = await s.scalar(text("SELECT count(*) FROM campaign_totals WHERE campaign_id = :c"), {"c": ids[1]})
        gone_days = await s.scalar(
            text("SELECT count(*) FROM campaign_daily_totals WHERE campaign_id = :c"), {"c": ids[1]}
        )
    assert (gone, gone_days) == (0, 0)
