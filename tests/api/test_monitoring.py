"""campaignMonitoring, monitoringRuns and runMonitoring over GraphQL."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime

import httpx
import pytest
from sqlalchemy import select

from app.clock import ManualClock
from app.database import transaction
from app.models import MonitoringRun, OutboxJob
from app.platforms.registry import build_http_client
from app.runtime import Runtime
from app.services.monitoring import HOUR, hour_of
from app.settings import Settings
from tests.conftest import GraphQLClient
from tests.fake_platforms import FakePlatforms
from tests.publishing import fake_settings
from tests.services.test_monitoring import T0, monitor, portfolio

MONITORING = """
query ($id: ID!) {
  campaignMonitoring(campaignId: $id) {
    campaign { title }
    status
    totals { views clicks likes shares comments reach }
    lastHour { views clicks likes shares comments reach }
    lastHourAt
    roi
    performanceScore
    lastUpdated
    latestRun { hour status campaignsChecked postsUpdated errors durationMs attempts }
  }
}
"""


@pytest.fixture(scope="module")
def fake() -> Iterator[FakePlatforms]:
    with FakePlatforms() as server:
        yield server


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with build_http_client(connect_timeout=2, read_timeout=2) as c:
        yield c


async def test_campaign_monitoring_shows_totals_and_the_last_hours_change(
    gql: GraphQLClient, runtime: Runtime, settings: Settings, fake: FakePlatforms, http: httpx.AsyncClient
) -> None:
    fake.reset()
    msettings = fake_settings(settings, fake)
    p = await portfolio(runtime, fake)
    fb1 = p["posts"]["fb1"][1]
    clock = ManualClock(T0)
    m = monitor(runtime, msettings, http, clock)
    fake.set_metrics(fb1, impressions=14_500, clicks=300, likes=40, shares=4, comments=3, reach=9000)
    await m.run()
    clock.advance(HOUR)
    fake.set_metrics(fb1, impressions=15_000, clicks=320, likes=42, shares=4, comments=5, reach=9100)
    await m.run()

    data = (await gql.ok(MONITORING, {"id": str(p["a"])}, role="viewer"))["campaignMonitoring"]
    assert data["campaign"] == {"title": "A"} and data["status"] == "ACTIVE"
    assert data["totals"] == {
        "views": 15_000,
        "clicks": 320,
        "likes": 42,
        "shares": 4,
        "comments": 5,
        "reach": 9100,
    }
    # "Views: 15,000 (+500 last hour)"
    assert data["lastHour"] == {"views": 500, "clicks": 20, "likes": 2, "shares": 0, "comments": 2, "reach": 100}
    assert data["lastHourAt"] == "2026-12-02T11:00:00+00:00"
    assert data["lastUpdated"] == (T0 + HOUR).isoformat()
    assert data["roi"] is None  # nothing spent yet
    # CTR 320 / 15,000 = 2.133 % of the 5 % target, conversion 0 signups / 320 clicks, ROI undefined (left
    # out): 100 × (0.25 × 0.4267 + 0.25 × 0) / 0.5 = 21.3.
    assert data["performanceScore"] == 21
    run = data["latestRun"]
    assert run["hour"] == "2026-12-02T11:00:00+00:00"
    assert (run["status"], run["campaignsChecked"], run["postsUpdated"], run["errors"], run["attempts"]) == (
        "succeeded",
        2,
        4,
        0,
        1,
    )
    assert isinstance(run["durationMs"], int)

    runs = (await gql.ok("{ monitoringRuns(limit: 5) { hour status } }", role="viewer"))["monitoringRuns"]
    assert runs == [
        {"hour": "2026-12-02T11:00:00+00:00", "status": "succeeded"},
        {"hour": "2026-12-02T10:00:00+00:00", "status": "succeeded"},
    ]
    bad = await gql("{ monitoringRuns(limit: 0) { hour } }", role="viewer")
    assert bad["errors"][0]["extensions"] == {"code": "VALIDATION_ERROR", "field": "limit"}
    missing = await gql(MONITORING, {"id": "00000000-0000-0000-0000-000000000000"}, role="viewer")
    assert missing["errors"][0]["extensions"]["code"] == "NOT_FOUND"


async def test_run_monitoring_queues_the_job_for_admins_once_per_hour(gql: GraphQLClient, runtime: Runtime) -> None:
    forbidden = await gql("mutation { runMonitoring { jobId } }", role="service")
    assert forbidden["errors"][0]["extensions"]["code"] == "FORBIDDEN"

    queued = (await gql.ok("mutation { runMonitoring { jobId hour } }"))["runMonitoring"]
    hour = hour_of(datetime.now(UTC))
    assert datetime.fromisoformat(queued["hour"]) == hour
    async with runtime.sessionmaker() as s:
        job = await s.scalar(select(OutboxJob).where(OutboxJob.job_id == queued["jobId"]))
    assert job is not None and job.function == "monitor_active_campaigns"

    # Once the hour's run has finished, running it again is refused with the reason.
    async with transaction(runtime.sessionmaker) as s:
        s.add(MonitoringRun(hour=hour, status="succeeded", started_at=hour, finished_at=hour, lease_until=hour))
    again = await gql("mutation { runMonitoring { jobId } }")
    assert again["errors"][0]["extensions"]["code"] == "CONFLICT"
    assert "already finished (succeeded)" in again["errors"][0]["message"]
