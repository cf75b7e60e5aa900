"""roiAnalysis, runRoiAnalysis and weeklyReview through GraphQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from app.runtime import Runtime
from app.settings import Settings
from tests.conftest import GraphQLClient
from tests.services.test_roi_analysis import portfolio

REPORT = """{ roiAnalysis { date timezone recommendations
  topPerformers { title roi totalRevenue totalCost currency }
  underperformers { title roi } insufficientData { title roi }
  portfolio { currency campaigns totalRevenue totalCost roi } } }"""


async def test_admin_runs_the_analysis_and_viewers_read_it(
    gql: GraphQLClient, runtime: Runtime, settings: Settings
) -> None:
    missing = await gql(REPORT, role="viewer")
    assert missing["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    await portfolio(runtime, settings)
    forbidden = await gql("mutation { runRoiAnalysis { date } }", role="service")
    assert forbidden["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    ran = (await gql.ok("mutation { runRoiAnalysis { date topPerformers { title } } }"))["runRoiAnalysis"]
    assert ran["topPerformers"] == [{"title": "A"}]
    report = (await gql.ok(REPORT, role="viewer"))["roiAnalysis"]
    assert report["date"] == ran["date"]
    assert report["topPerformers"] == [
        {"title": "A", "roi": "600.0000", "totalRevenue": "700.00", "totalCost": "100.00", "currency": "EUR"}
    ]
    assert report["portfolio"] == [
        {"currency": "EUR", "campaigns": 3, "totalRevenue": "850.00", "totalCost": "200.00", "roi": "325.0000"},
        {"currency": "USD", "campaigns": 2, "totalRevenue": "400.00", "totalCost": "205.00", "roi": "95.1220"},
    ]
    dated = await gql.ok("query($d: Date!) { roiAnalysis(date: $d) { date } }", {"d": ran["date"]}, role="viewer")
    assert dated["roiAnalysis"]["date"] == ran["date"]


async def test_weekly_review_shape(gql: GraphQLClient, runtime: Runtime, settings: Settings) -> None:
    await portfolio(runtime, settings, at=datetime.now(UTC) - timedelta(days=2))
    review = (
        await gql.ok(
            "{ weeklyReview { activeCampaigns operations errors errorRatePer100 "
            "portfolio { currency roi } topCampaigns { title } bottomCampaigns { title } tokenWarnings { platform } } }",
            role="viewer",
        )
    )["weeklyReview"]
    assert review["activeCampaigns"] == 5 and review["errors"] == 0 and review["errorRatePer100"] == "0.0000"
    assert review["operations"] == 6
    assert review["tokenWarnings"] == []
