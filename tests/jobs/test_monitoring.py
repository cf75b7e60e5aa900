"""The hourly monitoring cron through real arq workers: one run per tick however many workers are up."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from arq import create_pool
from arq.worker import Retry, Worker
from sqlalchemy import select

from app.clock import ManualClock
from app.models import MonitoringRun
from app.platforms.base import AccountCredentials, PostMetrics
from app.platforms.registry import build_http_client
from app.runtime import Endpoints, Runtime, redis_settings
from app.settings import Settings
from jobs.monitoring import monitor_active_campaigns
from jobs.publishing import adapter_factory
from jobs.worker import build_worker, cron_jobs
from tests.fake_platforms import FakePlatforms
from tests.publishing import fake_settings
from tests.services.test_monitoring import T0, portfolio, records, sums

HOUR = timedelta(hours=1)
CRON = "cron:monitor_active_campaigns"


@pytest.fixture(scope="module")
def fake() -> Iterator[FakePlatforms]:
    with FakePlatforms() as server:
        yield server


@pytest.fixture(autouse=True)
def clean_fake(fake: FakePlatforms) -> None:
    fake.reset()


@pytest.fixture
def wsettings(settings: Settings, fake: FakePlatforms) -> Settings:
    return fake_settings(settings, fake)


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with build_http_client(connect_timeout=2, read_timeout=2) as c:
        yield c


async def one_tick(settings: Settings, endpoints: Endpoints, clock: ManualClock, tick: datetime) -> list[Worker]:
    """Two workers reach the same cron tick (arq's real run_cron), then work their queue empty."""
    workers = [
        build_worker(
            settings,
            endpoints,
            ctx={"clock": clock},
            cron_jobs=[c for c in cron_jobs(settings) if c.name == CRON],
            burst=True,
            handle_signals=False,
            poll_delay=0.05,
            redis_pool=await create_pool(redis_settings(endpoints.redis_url)),
        )
        for _ in range(2)
    ]
    try:
        for w in workers:
            cron = next(c for c in w.cron_jobs if c.name == CRON)
            cron.next_run = tick
            await w.run_cron(tick, delay=0.5)
        for w in workers:
            await w.main()
    finally:
        for w in workers:
            await w.close()
    return workers


async def test_monitoring_is_an_hourly_cron_at_the_configured_minute(wsettings: Settings) -> None:
    cron = next(c for c in cron_jobs(wsettings.model_copy(update={"monitor_minute": 7})) if c.name == CRON)
    assert (cron.minute, cron.hour, cron.unique, cron.run_at_startup) == ({7}, None, True, False)


async def test_three_ticks_on_two_workers_run_three_times_and_record_three_increments(
    runtime: Runtime, wsettings: Settings, endpoints: Endpoints, fake: FakePlatforms
) -> None:
    p = await portfolio(runtime, fake)
    x = p["posts"]["x"][1]
    clock = ManualClock(T0)
    # Distinct tick instants (arq's job id is the tick's time); the worker clock says which hour it is.
    base = datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=10)
    for i, (views, likes) in enumerate([(1000, 10), (1600, 25), (4000, 31)]):
        fake.set_metrics(x, impressions=views, likes=likes)
        workers = await one_tick(wsettings, endpoints, clock, base + timedelta(seconds=i))
        assert sum(w.jobs_complete for w in workers) == 1
        assert sum(w.jobs_failed for w in workers) == 0
        clock.advance(HOUR)
    rows = await records(runtime, p["a"], "x")
    assert len(rows) == 3
    assert sums(rows)[0::2] == (4000, 31)  # views, likes: the platform's final cumulative numbers
    async with runtime.sessionmaker() as s:
        runs = list((await s.scalars(select(MonitoringRun).order_by(MonitoringRun.hour))).all())
    assert [(r.hour, r.status, r.campaigns_checked, r.posts_updated) for r in runs] == [
        (datetime(2026, 12, 2, h, tzinfo=UTC), "succeeded", 2, 4) for h in (10, 11, 12)
    ]


async def test_a_job_whose_run_broke_is_retried_by_arq_and_records_each_hour_once(
    runtime: Runtime, wsettings: Settings, fake: FakePlatforms, http: httpx.AsyncClient
) -> None:
    p = await portfolio(runtime, fake)
    fake.set_metrics(p["posts"]["fb1"][1], impressions=100)
    fake.set_metrics(p["posts"]["li"][1], impressions=300)
    real = adapter_factory(wsettings, http)

    class Broken:
        async def fetch_metrics(self, creds: AccountCredentials, post_id: str) -> PostMetrics:
            raise ConnectionResetError("database connection lost")

    clock = ManualClock(T0)
    ctx: dict[str, Any] = {
        "runtime": runtime,
        "clock": clock,
        "http": http,
        "adapter_for": lambda pl: Broken() if pl == "linkedin" else real(pl),
    }
    with pytest.raises(Retry) as raised:
        await monitor_active_campaigns(ctx)
    assert raised.value.defer_score == runtime.settings.monitor_retry_seconds * 1000
    clock.advance(timedelta(seconds=runtime.settings.monitor_retry_seconds))
    ctx["adapter_for"] = real
    result = await monitor_active_campaigns(ctx)
    assert (result["status"], result["campaigns_checked"]) == ("succeeded", 2)
    assert [r.views for r in await records(runtime, p["a"], "facebook")] == [100]
    assert [r.views for r in await records(runtime, p["b"], "linkedin")] == [300]
    async with runtime.sessionmaker() as s:
        run = await s.scalar(select(MonitoringRun))
        assert run is not None and (run.status, run.attempts) == ("succeeded", 2)
