"""The daily ROI cron: with two workers, a tick runs once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from arq import create_pool
from sqlalchemy import func, select

from app.clock import ManualClock
from app.models import Notification, RoiReport
from app.runtime import Endpoints, Runtime, redis_settings
from app.settings import Settings
from jobs.worker import build_worker
from tests.services.test_roi_analysis import portfolio


async def test_two_workers_run_one_report_per_tick(runtime: Runtime, settings: Settings, endpoints: Endpoints) -> None:
    await portfolio(runtime, settings)
    clock = ManualClock(datetime(2026, 12, 2, 9, 0, tzinfo=UTC))
    workers = [
        build_worker(
            settings,
            endpoints,
            ctx={"clock": clock},
            burst=True,
            handle_signals=False,
            poll_delay=0.05,
            redis_pool=await create_pool(redis_settings(endpoints.redis_url)),
        )
        for _ in range(2)
    ]
    tick = datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=1)
    try:
        for w in workers:
            cron = next(c for c in w.cron_jobs if c.name == "cron:analyze_campaign_roi")
            cron.next_run = tick  # both workers reach the same tick
            await w.run_cron(tick, delay=0.5)
        for w in workers:
            await w.main()
    finally:
        for w in workers:
            await w.close()
    assert sum(w.jobs_complete for w in workers) == 1
    async with runtime.sessionmaker() as s:
        assert await s.scalar(select(func.count()).select_from(RoiReport)) == 1
        assert await s.scalar(select(func.count()).select_from(Notification)) == 1
