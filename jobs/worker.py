"""The arq worker: its settings, and the runtime each job finds in ctx["runtime"]."""

from __future__ import annotations

import dataclasses
import logging
import uuid
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

from arq.connections import RedisSettings
from arq.cron import CronJob, cron
from arq.worker import Function, Worker, create_worker, func

from app.clock import SYSTEM_CLOCK
from app.metrics import counted_job
from app.runtime import Endpoints, Runtime, open_runtime, queue_name, redis_settings
from app.settings import Settings
from jobs.analysis import analyze_campaign_roi
from jobs.maintenance import ping
from jobs.monitoring import monitor_active_campaigns
from jobs.publishing import http_client, publish_post, requeue_stale_posts
from jobs.webhooks import deliver_webhook

log = logging.getLogger(__name__)

FUNCTIONS: list[Any] = [
    ping,
    publish_post,
    analyze_campaign_roi,
    monitor_active_campaigns,
    # Attempts are bounded by WEBHOOK_MAX_ATTEMPTS inside the job (it gives up and alerts); arq's own cap
    # only has to stay above it.
    func(deliver_webhook, name="deliver_webhook", max_tries=1000),
]


def cron_jobs(settings: Settings) -> list[CronJob]:
    """Scheduled jobs. unique=True (arq's default) gives each tick one job id, so it runs once however
    many workers are up."""
    return [
        cron(requeue_stale_posts, minute=set(range(0, 60, 10)), run_at_startup=False, unique=True),
        cron(
            analyze_campaign_roi,
            hour={settings.roi_report_hour},
            minute={settings.roi_report_minute},
            run_at_startup=False,
            unique=True,
        ),
        # Every hour at MONITOR_MINUTE (the worker's time zone; whole-hour offsets keep it hourly in UTC).
        cron(monitor_active_campaigns, minute={settings.monitor_minute}, run_at_startup=False, unique=True),
    ]


def build_worker(settings: Settings, endpoints: Endpoints, **overrides: Any) -> Worker:
    """A worker on the given endpoints; the tests build theirs the same way, passing ctx={"clock": ManualClock}
    to control time."""
    runtime_cm: dict[str, Any] = {}

    async def startup(ctx: dict[str, Any]) -> None:
        cm = open_runtime(settings, endpoints)
        runtime_cm["cm"] = cm
        ctx["runtime"] = await cm.__aenter__()
        ctx["worker_id"] = uuid.uuid4().hex[:8]
        ctx.setdefault("clock", SYSTEM_CLOCK)
        # One HTTP client for every platform call this worker makes (connection pooling, timeouts).
        ctx["http"] = http_client(settings)

    async def shutdown(ctx: dict[str, Any]) -> None:
        client = ctx.pop("http", None)
        if client is not None:
            await client.aclose()
        cm = runtime_cm.pop("cm", None)
        if cm is not None:
            await cm.__aexit__(None, None, None)

    options: dict[str, Any] = {
        "functions": FUNCTIONS,
        "cron_jobs": cron_jobs(settings),
        # Cron hours are local to the report time zone.
        "timezone": ZoneInfo(settings.report_timezone),
        "redis_settings": redis_settings(endpoints.redis_url),
        "queue_name": queue_name(settings),
        "on_startup": startup,
        "on_shutdown": shutdown,
        "max_jobs": 10,
        "job_timeout": 300,
        "keep_result": 3600,
        "handle_signals": True,
    }
    options.update(overrides)
    options["functions"] = [_counted(f) for f in options["functions"]]
    return create_worker(_Settings, **options)  # type: ignore[arg-type]


def _counted(f: Any) -> Function:
    """The job, counted started/succeeded/failed per function for /metrics (app.metrics)."""
    if isinstance(f, Function):
        return dataclasses.replace(f, coroutine=counted_job(f.coroutine, f.name))  # type: ignore[arg-type]
    name = f.__qualname__
    return func(counted_job(f, name), name=name)  # type: ignore[arg-type]


class _Settings:
    """arq wants a settings class; build_worker passes everything as overrides."""

    functions: ClassVar[list[Any]] = FUNCTIONS


class WorkerSettings:
    """For `arq jobs.worker.WorkerSettings` users; `eventops worker` is the supported way to start one."""

    functions: ClassVar[list[Any]] = FUNCTIONS
    redis_settings: ClassVar[RedisSettings] = RedisSettings()


__all__ = ["Runtime", "WorkerSettings", "build_worker"]
