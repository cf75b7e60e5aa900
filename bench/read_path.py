"""2. Read path: campaignAnalytics and topPerformingCampaigns on a generated portfolio (10,000 campaigns,
1,000,000 performance records, generated with COPY).

Baseline: the plain aggregate SQL through asyncpg (one campaign's totals; top 10 by pooled ROI with a
GROUP BY over every record). eventops answers from the rollups, end to end over HTTP with authentication.
"""

from __future__ import annotations

import asyncio
import random
import time

import httpx

from bench.harness import Bench, Result, eventops_api, p50

GENERATE = """
SELECT ids[1 + (g % n)], 'bench', ts, ts, v, cl, su, gross, round(gross * 0.95, 2), spend, spend,
       CASE WHEN v > 0 THEN round(cl * 100.0 / v, 4) END,
       round((round(gross * 0.95, 2) - spend) * 100 / spend, 4),
       round(gross / spend, 4),
       (g % 101)::smallint
FROM (
    SELECT g, ids, n,
           timestamptz '2026-01-01' + make_interval(days => (g % 90)::int, hours => (g % 24)::int) AS ts,
           1000 + (g * 7919) % 9000 AS v, (g * 104729) % 400 AS cl, (g * 31) % 40 AS su,
           (((g * 7727) % 90000) / 100.0)::numeric(16, 2) AS gross,
           (((g * 4391) % 50000) / 100.0 + 1)::numeric(16, 2) AS spend
    FROM generate_series(1::bigint, {records}) g,
         (SELECT array_agg(id ORDER BY id) AS ids, count(*)::int AS n FROM campaigns WHERE title LIKE 'read bench %') c
) s
"""
COLUMNS = [
    "campaign_id",
    "source",
    "period_start",
    "period_end",
    "views",
    "clicks",
    "new_signups",
    "gross_revenue",
    "net_revenue",
    "ad_spend",
    "total_cost",
    "ctr",
    "roi",
    "roas",
    "performance_score",
]
ONE_CAMPAIGN_SQL = """
SELECT sum(views), sum(clicks), sum(new_signups), sum(new_organizers), sum(gross_revenue), sum(net_revenue),
       sum(ad_spend), sum(total_cost), count(*), max(roi), min(roi), avg(performance_score)
FROM campaign_performance_metrics WHERE campaign_id = $1
"""
TOP_SQL = """
SELECT campaign_id, (sum(net_revenue) - sum(total_cost)) * 100 / nullif(sum(total_cost), 0) AS roi
FROM campaign_performance_metrics GROUP BY campaign_id
HAVING sum(total_cost) <> 0 ORDER BY roi DESC, campaign_id LIMIT 10
"""
ANALYTICS = """query($c: ID!) { campaignAnalytics(campaignId: $c) {
  currency
  totalPerformance { records totalViews totalClicks ctr totalSignups grossRevenue netRevenue totalCost roi roas
    bestRoi worstRoi avgPerformanceScore }
  socialMediaPerformance { platform totalPosts }
  errors { errorType }
  performanceOverTime { date views clicks signups revenue roi ctr performanceScore }
} }"""
TOP = "query { topPerformingCampaigns(metric: ROI, limit: 10) { campaignTitle metricValue currency roi } }"


async def generate(bench: Bench) -> dict[str, float]:
    """The portfolio: campaigns and records both with COPY (the records streamed out of a generating query)."""
    s = bench.scale
    conn = await bench.connect()
    try:
        t0 = time.perf_counter()
        await conn.copy_records_to_table(
            "campaigns", columns=["title", "currency"], records=((f"read bench {i}", "EUR") for i in range(s.campaigns))
        )
        path = bench.workdir / "records.bin"
        await conn.copy_from_query(GENERATE.format(records=s.records), output=str(path), format="binary")
        t1 = time.perf_counter()
        await conn.copy_to_table("campaign_performance_metrics", source=str(path), columns=COLUMNS, format="binary")
        t2 = time.perf_counter()
        path.unlink()
        await conn.execute(
            "ANALYZE campaign_performance_metrics; ANALYZE campaign_totals; ANALYZE campaign_daily_totals"
        )
        count = await conn.fetchval("SELECT count(*) FROM campaign_performance_metrics")
        ids = [str(r[0]) for r in await conn.fetch("SELECT id FROM campaigns WHERE title LIKE 'read bench %'")]
    finally:
        await conn.close()
    bench.facts["read_portfolio"] = {
        "campaigns": len(ids),
        "records": count,
        "copy_in_seconds_with_rollup_triggers": round(t2 - t1, 2),
    }
    bench.facts["_read_campaigns"] = ids
    return {"generate": t1 - t0, "copy": t2 - t1}


async def _sql_campaign(bench: Bench, ids: list[str], n: int) -> list[float]:
    conn = await bench.connect()
    try:
        stmt = await conn.prepare(ONE_CAMPAIGN_SQL)
        out = []
        for cid in random.Random(1).sample(ids, min(n, len(ids))):
            t = time.perf_counter()
            await stmt.fetchrow(cid)
            out.append((time.perf_counter() - t) * 1000)
        return out
    finally:
        await conn.close()


async def _sql_top(bench: Bench, n: int) -> list[float]:
    conn = await bench.connect()
    try:
        out = []
        for _ in range(n):
            t = time.perf_counter()
            await conn.fetch(TOP_SQL)
            out.append((time.perf_counter() - t) * 1000)
        return out
    finally:
        await conn.close()


def _http(url: str, key: str, query: str, variables: list[dict[str, str]]) -> list[float]:
    out = []
    with httpx.Client(headers={"authorization": f"Bearer {key}"}, timeout=60) as c:
        c.post(url, json={"query": query, "variables": variables[0]})  # warm: parser cache, pool
        for v in variables:
            t = time.perf_counter()
            r = c.post(url, json={"query": query, "variables": v})
            out.append((time.perf_counter() - t) * 1000)
            if r.status_code != 200 or "errors" in r.json():
                raise RuntimeError(f"read benchmark request failed: {r.text[:300]}")
    return out


def run(bench: Bench) -> None:
    s = bench.scale
    asyncio.run(generate(bench))
    ids: list[str] = bench.facts.pop("_read_campaigns")
    sample = random.Random(2).sample(ids, min(s.read_samples, len(ids)))
    with eventops_api(bench, "api-read") as (api, _):
        ours_c: list[float] = []
        base_c: list[float] = []
        ours_t: list[float] = []
        base_t: list[float] = []
        half = max(1, len(sample) // s.rounds)
        for r in range(s.rounds):  # alternate baseline and eventops
            part = sample[r * half : (r + 1) * half] or sample
            base_c += asyncio.run(_sql_campaign(bench, part, len(part)))
            ours_c += _http(api, bench.service_key, ANALYTICS, [{"c": c} for c in part])
            base_t += asyncio.run(_sql_top(bench, max(1, s.group_by_samples // s.rounds)))
            ours_t += _http(api, bench.service_key, TOP, [{}] * max(1, s.read_samples // s.rounds // 2))
    records = bench.facts["read_portfolio"]["records"]
    bench.results.append(
        Result(
            benchmark=f"read: campaignAnalytics ({records:,} records)",
            metric="p50 latency",
            unit="ms",
            eventops=p50(ours_c),
            baseline=p50(base_c),
            baseline_name="that campaign's aggregate SQL via asyncpg",
            target="p50 < 5 ms end to end",
            met=p50(ours_c) < 5,
            extra={"samples": len(ours_c)},
        )
    )
    bench.results.append(
        Result(
            benchmark=f"read: topPerformingCampaigns ROI ({records:,} records)",
            metric="p50 latency",
            unit="ms",
            eventops=p50(ours_t),
            baseline=p50(base_t),
            baseline_name="GROUP BY over all records via asyncpg",
            target="p50 < 10 ms",
            met=p50(ours_t) < 10,
            extra={"samples": len(ours_t), "baseline_samples": len(base_t)},
        )
    )
