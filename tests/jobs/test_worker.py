"""The arq worker runs jobs from the queue eventops enqueues to, with the runtime in ctx."""

from __future__ import annotations

from app.runtime import Endpoints, Runtime
from app.settings import Settings
from jobs.worker import build_worker


async def test_a_real_worker_answers_the_ping_job(runtime: Runtime, settings: Settings, endpoints: Endpoints) -> None:
    job = await runtime.enqueue("ping")
    assert job is not None
    worker = build_worker(settings, endpoints, burst=True, handle_signals=False, poll_delay=0.05)
    try:
        await worker.main()
    finally:
        await worker.close()
    result = await job.result(timeout=5)
    assert result["status"] == "ok"
    assert worker.jobs_complete == 1 and worker.jobs_failed == 0
