"""campaignAnalytics and topPerformingCampaigns: sums, ratios of sums, per day and per platform."""

from __future__ import annotations

from tests.api.test_performance import RECORD, SEED_2_2, new_campaign
from tests.conftest import GraphQLClient

ANALYTICS = """query($c: ID!, $from: DateTime, $to: DateTime) { campaignAnalytics(campaignId: $c, from: $from, to: $to) {
  currency
  totalPerformance { records totalViews totalClicks ctr totalSignups totalOrganizers totalEventsCreated
    totalTicketsSold grossRevenue netRevenue totalRevenue totalAdSpend totalCost roi roas costPerSignup
    costPerOrganizer bestRoi worstRoi avgPerformanceScore }
  socialMediaPerformance { platform totalPosts successfulPosts failedPosts totalImpressions signupsAttributed }
  errors { errorType }
  performanceOverTime { date views clicks signups revenue roi ctr performanceScore }
} }"""


def day(d: str, **kw: object) -> dict[str, object]:
    return {**SEED_2_2, **kw, "periodStart": f"{d}T10:00:00Z", "periodEnd": f"{d}T11:00:00Z"}


async def test_seed_2_3_three_days_pooled(gql: GraphQLClient) -> None:
    cid = await new_campaign(gql)
    for d in ("2025-12-28", "2025-12-29", "2025-12-30"):
        await gql.ok(RECORD, {"cid": cid, "input": day(d)}, role="service")
    a = (await gql.ok(ANALYTICS, {"c": cid}))["campaignAnalytics"]
    t = a["totalPerformance"]
    assert (t["records"], t["totalViews"], t["totalClicks"], t["totalSignups"]) == (3, 15000, 750, 150)
    # seed 2.3 / metrics.md: 7125.00 net and 300.15 cost give a pooled ROI of 2273.8131 %
    assert (t["netRevenue"], t["totalRevenue"], t["totalCost"], t["roi"]) == (
        "7125.00",
        "7125.00",
        "300.15",
        "2273.8131",
    )
    assert (t["ctr"], t["roas"], t["costPerSignup"], t["costPerOrganizer"]) == ("5.0000", "25.0000", "2.00", "10.01")
    assert (t["bestRoi"], t["worstRoi"], t["avgPerformanceScore"]) == ("2273.8131", "2273.8131", "95.0000")
    assert [p["date"] for p in a["performanceOverTime"]] == ["2025-12-28", "2025-12-29", "2025-12-30"]
    assert a["performanceOverTime"][0]["revenue"] == "2375.00" and a["performanceOverTime"][0]["roi"] == "2273.8131"


async def test_ratios_are_ratios_of_sums_not_averages(gql: GraphQLClient) -> None:
    cid = await new_campaign(gql)
    await gql.ok(
        RECORD,
        {"cid": cid, "input": {"views": 100, "clicks": 10, "grossRevenue": "0", "totalCost": "10"}},
        role="service",
    )
    await gql.ok(
        RECORD,
        {
            "cid": cid,
            "input": {"views": 900, "clicks": 10, "grossRevenue": "300", "netRevenue": "300", "totalCost": "90"},
        },
        role="service",
    )
    t = (await gql.ok(ANALYTICS, {"c": cid}))["campaignAnalytics"]["totalPerformance"]
    # CTR 20/1000 = 2 %, not (10 % + 1.1111 %) / 2; ROI (300 - 100) / 100 = 200 %, not the mean of -100 % and 233 %
    assert t["ctr"] == "2.0000" and t["roi"] == "200.0000"
    assert (t["bestRoi"], t["worstRoi"]) == ("233.3333", "-100.0000")


async def test_empty_campaign_has_null_ratios(gql: GraphQLClient) -> None:
    cid = await new_campaign(gql)
    t = (await gql.ok(ANALYTICS, {"c": cid}))["campaignAnalytics"]["totalPerformance"]
    assert t["records"] == 0 and t["totalViews"] == 0 and t["totalCost"] == "0.00"
    assert t["ctr"] is None and t["roi"] is None and t["bestRoi"] is None and t["avgPerformanceScore"] is None


async def test_period_filter_and_platform_breakdown(gql: GraphQLClient) -> None:
    cid = await new_campaign(gql)
    await gql.ok(RECORD, {"cid": cid, "input": day("2025-12-28")}, role="service")
    await gql.ok(RECORD, {"cid": cid, "input": day("2025-12-29", source="instagram", newSignups=30)}, role="service")
    track = 'mutation($c: ID!, $p: String!) { trackSocialPost(campaignId: $c, platform: $p, content: "hi") { id } }'
    fb = (await gql.ok(track, {"c": cid, "p": "facebook"}, role="service"))["trackSocialPost"]["id"]
    await gql.ok(track, {"c": cid, "p": "instagram"}, role="service")
    await gql.ok(
        'mutation($id: ID!) { updatePostStatus(postId: $id, status: POSTED, platformPostId: "1") { id } }',
        {"id": fb},
        role="service",
    )
    a = (await gql.ok(ANALYTICS, {"c": cid, "from": "2025-12-29T00:00:00Z", "to": "2025-12-30T00:00:00Z"}))[
        "campaignAnalytics"
    ]
    assert a["totalPerformance"]["totalSignups"] == 30 and a["totalPerformance"]["records"] == 1
    full = (await gql.ok(ANALYTICS, {"c": cid}))["campaignAnalytics"]["socialMediaPerformance"]
    assert full == [
        {
            "platform": "facebook",
            "totalPosts": 1,
            "successfulPosts": 1,
            "failedPosts": 0,
            "totalImpressions": 0,
            "signupsAttributed": 50,
        },
        {
            "platform": "instagram",
            "totalPosts": 1,
            "successfulPosts": 0,
            "failedPosts": 0,
            "totalImpressions": 0,
            "signupsAttributed": 30,
        },
    ]


TOP = "query($m: RankMetric!) { topPerformingCampaigns(metric: $m, limit: 10) { campaignTitle metricValue currency roi } }"


async def test_top_performing_ranks_by_aggregate_and_leaves_out_undefined(gql: GraphQLClient) -> None:
    a = await new_campaign(gql, "A")
    b = await new_campaign(gql, "B")
    c = await new_campaign(gql, "C (no cost)")
    await gql.ok(
        RECORD,
        {"cid": a, "input": {"grossRevenue": "200", "netRevenue": "200", "totalCost": "100", "newSignups": 5}},
        role="service",
    )
    await gql.ok(
        RECORD,
        {"cid": b, "input": {"grossRevenue": "50", "netRevenue": "50", "totalCost": "100", "newSignups": 9}},
        role="service",
    )
    await gql.ok(
        RECORD, {"cid": c, "input": {"grossRevenue": "10", "netRevenue": "10", "newSignups": 1}}, role="service"
    )
    roi = (await gql.ok(TOP, {"m": "ROI"}))["topPerformingCampaigns"]
    assert [(r["campaignTitle"], r["metricValue"]) for r in roi] == [("A", "100.0000"), ("B", "-50.0000")]
    signups = (await gql.ok(TOP, {"m": "SIGNUPS"}))["topPerformingCampaigns"]
    assert [(r["campaignTitle"], r["metricValue"]) for r in signups] == [("B", "9"), ("A", "5"), ("C (no cost)", "1")]
    revenue = (await gql.ok(TOP, {"m": "REVENUE"}))["topPerformingCampaigns"]
    assert [(r["campaignTitle"], r["metricValue"], r["currency"]) for r in revenue][0] == ("A", "200.00", "EUR")


FULL = """query($c: ID!, $from: DateTime, $to: DateTime) { campaignAnalytics(campaignId: $c, from: $from, to: $to) {
  campaign { id title currency status }
  totalPerformance { records totalViews totalClicks ctr totalSignups totalOrganizers totalEventsCreated
    totalTicketsSold grossRevenue netRevenue totalRevenue totalAdSpend totalCost roi roas costPerSignup
    costPerOrganizer bestRoi worstRoi avgPerformanceScore }
  socialMediaPerformance { platform totalPosts successfulPosts failedPosts totalImpressions totalEngagement
    signupsAttributed }
  errors { id errorType errorMessage errorDetails campaignId platform notifyAdmin resolved createdAt }
  performanceOverTime { date views clicks signups revenue roi ctr performanceScore }
} }"""


async def test_whole_life_one_statement_equals_the_records_path(gql: GraphQLClient) -> None:
    """Without from/to the answer comes from one statement over the rollups; with a window covering
    everything, from the records themselves: both must agree on every field."""
    cid = await new_campaign(gql)
    await gql.ok(RECORD, {"cid": cid, "input": day("2025-12-28")}, role="service")
    await gql.ok(RECORD, {"cid": cid, "input": day("2025-12-28", source="facebook", clicks=7)}, role="service")
    await gql.ok(RECORD, {"cid": cid, "input": day("2025-12-30", source="x", grossRevenue="2400.10")}, role="service")
    track = 'mutation($c: ID!, $p: String!) { trackSocialPost(campaignId: $c, platform: $p, content: "hi") { id } }'
    for p in ("facebook", "x", "facebook"):
        await gql.ok(track, {"c": cid, "p": p}, role="service")
    log = """mutation($c: ID!, $t: ErrorType!) { logError(input: {operationType: "social_posting", errorType: $t,
      errorMessage: "boom", campaignId: $c, platform: "x", errorDetails: {code: 7}}) { id } }"""
    for t in ("API_ERROR", "RATE_LIMIT", "API_ERROR"):
        await gql.ok(log, {"c": cid, "t": t}, role="service")
    whole = (await gql.ok(FULL, {"c": cid}))["campaignAnalytics"]
    window = {"c": cid, "from": "2000-01-01T00:00:00Z", "to": "2100-01-01T00:00:00Z"}
    windowed = (await gql.ok(FULL, window))["campaignAnalytics"]
    assert whole == windowed
    assert len(whole["errors"]) == 3 and whole["errors"][0]["errorDetails"] == {"code": 7}
    assert [d["date"] for d in whole["performanceOverTime"]] == ["2025-12-28", "2025-12-30"]
    assert [(s["platform"], s["totalPosts"]) for s in whole["socialMediaPerformance"]] == [("facebook", 2), ("x", 1)]


async def test_whole_life_unknown_campaign_is_not_found(gql: GraphQLClient) -> None:
    r = await gql(FULL, {"c": "00000000-0000-0000-0000-000000000000"})
    assert r["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    assert r["errors"][0]["extensions"]["field"] == "campaignId"
