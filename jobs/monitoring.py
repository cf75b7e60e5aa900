"""The hourly monitoring cron (MONITOR_MINUTE past every hour) and its admin-triggered runs.

app.services.monitoring does the work. arq's cron gives each tick one job id, so with several workers a
tick runs once; the run's hour row and advisory lock keep a manual run and a cron run (or a crashed
run's retry) from both writing.
"""

from __future__ import annotations

import uuid
from typing import Any

import httpx
from arq.worker import Retry

from app.clock import SYSTEM_CLOCK, Clock
from app.runtime import Runtime
from app.services import monitoring
from jobs.publishing import adapter_factory, http_client


def monitor(ctx: dict[str, Any]) -> monitoring.Monitor:
    runtime: Runtime = ctx["runtime"]
    client: httpx.AsyncClient | None = ctx.get("http")
    if client is None:
        client = ctx["http"] = http_client(runtime.settings)
    clock: Clock = ctx.get("clock") or SYSTEM_CLOCK
    return monitoring.Monitor(
        settings=runtime.settings,
        sessionmaker=runtime.sessionmaker,
        adapter_for=ctx.get("adapter_for") or adapter_factory(runtime.settings, client),
        worker_id=f"{ctx.get('worker_id', 'job')}:{ctx.get('job_id', uuid.uuid4().hex[:8])}",
        clock=clock,
    )


async def monitor_active_campaigns(ctx: dict[str, Any]) -> dict[str, Any]:
    """Read every active campaign's post metrics and record the hour's increments; returns the summary.

    A run that broke (not a platform error: those are logged and the run goes on) is marked failed and
    retried by arq after MONITOR_RETRY_SECONDS, for the same hour, recording nothing twice.
    """
    runtime: Runtime = ctx["runtime"]
    try:
        summary = await monitor(ctx).run()
    except Exception as exc:
        raise Retry(defer=runtime.settings.monitor_retry_seconds) from exc
    return summary.as_dict()
