"""A job with a real side effect, for the worker-killed-mid-job scenario, and its worker process.

`python -m tests.hardening.fault_jobs` runs a worker (env: DATABASE_URL, REDIS_URL, REDIS_PREFIX,
SECRET_KEY) that executes record_then_wait; the test kills it with SIGKILL mid-job.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from app.database import transaction
from app.services import performance

JOB_TIMEOUT = 2  # arq lets another worker take an abandoned job after job_timeout + 10 s


async def record_then_wait(ctx: dict[str, Any], campaign_id: str) -> int:
    """Store one performance record keyed by the job id (the idempotent side effect), then, on the
    first try only, wait long enough to be killed."""
    runtime = ctx["runtime"]
    async with transaction(runtime.sessionmaker) as session:
        await performance.record_performance(
            session,
            runtime.settings,
            uuid.UUID(campaign_id),
            performance.PerformanceInput(views=100, clicks=5),
            idempotency_key=f"job:{ctx['job_id']}",
        )
    if ctx["job_try"] == 1:
        await asyncio.sleep(60)
    return int(ctx["job_try"])


def main() -> None:
    from app.runtime import Endpoints
    from app.settings import Settings
    from jobs.worker import build_worker

    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    endpoints = Endpoints(database_url=settings.database_url or "", redis_url=settings.redis_url or "")
    worker = build_worker(
        settings, endpoints, functions=[record_then_wait], job_timeout=JOB_TIMEOUT, poll_delay=0.1, handle_signals=False
    )
    worker.run()


if __name__ == "__main__":
    main()
