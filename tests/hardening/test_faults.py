"""Faults, each against servers of its own (the machine's PostgreSQL and Redis are never restarted):
PostgreSQL restarted under load, Redis away, a worker killed in the middle of a job."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from arq import create_pool
from arq.jobs import Job, JobStatus
from sqlalchemy import func, select

from app.database import transaction
from app.migrate import upgrade
from app.models import OutboxJob, PerformanceRecord
from app.runtime import Endpoints, open_database, queue_name, redis_settings
from app.services import api_keys, campaigns, job_outbox
from app.settings import Settings
from jobs.worker import build_worker
from tests.hardening.fault_jobs import record_then_wait
from tests.live import REPO, RedisServer, api_server, server_env
from tests.servers import ServerSet

pytestmark = pytest.mark.slow

CAMPAIGNS = {"query": "{ campaigns(limit: 5) { id } }"}


async def _admin_key(settings: Settings, url: str) -> str:
    async with open_database(settings, url) as sm, transaction(sm) as s:
        _, key = await api_keys.create_key(
            s, name="faults", role="admin", secret=settings.secret_key.get_secret_value()
        )
    return key


async def _campaign(settings: Settings, url: str) -> str:
    async with open_database(settings, url) as sm, transaction(sm) as s:
        return str((await campaigns.create_campaign(s, title="fault campaign", currency="EUR", status="active")).id)


def _graphql(base: str, key: str, body: dict[str, Any]) -> httpx.Response:
    return httpx.post(f"{base}/graphql", json=body, headers={"Authorization": f"Bearer {key}"}, timeout=30)


def test_postgres_restart_fails_requests_clearly_and_the_server_recovers_by_itself(
    settings: Settings, tmp_path: Path
) -> None:
    import pgserver
    from pgserver._commands import pg_ctl

    # Not under pytest's tmp_path: its root is private to root and pgserver runs postgres as another user.
    pg_dir = Path(tempfile.mkdtemp(prefix="eventops-faults-pg-"))
    pg = pgserver.get_server(str(pg_dir / "pg"), cleanup_mode="delete")
    try:
        url = pg.get_uri()
        upgrade(url)
        key = asyncio.run(_admin_key(settings, url))
        own = settings.model_copy(update={"database_url": url, "redis_prefix": f"faults-{uuid.uuid4().hex[:8]}"})
        socket_dir = parse_qs(urlsplit(url).query)["host"][0]
        results: list[tuple[int, list[str]]] = []
        stop = threading.Event()
        with api_server(own, tmp_path / "api.log", DB_STATEMENT_TIMEOUT_MS="5000") as base:
            assert _graphql(base, key, CAMPAIGNS).json() == {"data": {"campaigns": []}}

            def load() -> None:
                while not stop.is_set():
                    for body in (CAMPAIGNS, {"query": 'mutation { createCampaign(input: {title: "during"}) { id } }'}):
                        r = _graphql(base, key, body)
                        codes = [e["extensions"]["code"] for e in r.json().get("errors", [])]
                        results.append((r.status_code, codes))
                    time.sleep(0.02)

            worker = threading.Thread(target=load)
            worker.start()
            time.sleep(0.5)
            pg_ctl(["-w", "-m", "fast", "stop"], pgdata=pg.pgdata, user=pg.system_user, timeout=30)
            time.sleep(1.5)  # requests keep coming while PostgreSQL is away
            during = len(results)
            ready_during = httpx.get(f"{base}/readyz", timeout=10)
            pg_ctl(
                ["-w", "-o", '-h ""', "-o", f"-k {socket_dir}", "-l", str(pg.log), "start"],
                pgdata=pg.pgdata,
                user=pg.system_user,
                timeout=30,
            )
            time.sleep(1.5)
            stop.set()
            worker.join(timeout=60)
            # Recovered without a restart of the API: new requests succeed.
            after = [_graphql(base, key, CAMPAIGNS) for _ in range(5)]
            ready_after = httpx.get(f"{base}/readyz", timeout=10)
        failed = [codes for status, codes in results if codes]
        assert all(status == 200 for status, _ in results), results  # never a 5xx
        assert failed, "no request ran while PostgreSQL was down"
        assert all(codes == ["SERVICE_UNAVAILABLE"] for codes in failed), failed
        assert during > 0 and ready_during.status_code == 503 and ready_after.status_code == 200
        assert all(r.status_code == 200 and "errors" not in r.json() for r in after)
        # Unavailability is logged as a warning, never as an unexpected error.
        assert '"level": "error"' not in (tmp_path / "api.log").read_text()
    finally:
        pg.cleanup()
        shutil.rmtree(pg_dir, ignore_errors=True)


def test_redis_down_keeps_postgres_requests_working_and_outbox_jobs_are_queued_once_back(
    settings: Settings, servers: ServerSet, tmp_path: Path
) -> None:
    db = servers.new_database_url("faults")
    upgrade(db)
    redis = RedisServer(tmp_path / "redis")
    redis.start()
    own = settings.model_copy(
        update={"database_url": db, "redis_url": redis.url, "redis_prefix": f"faults-{uuid.uuid4().hex[:8]}"}
    )
    key = asyncio.run(_admin_key(own, db))
    try:
        # The rate limiter is on here: it must fail open while Redis is away.
        with api_server(own, tmp_path / "api.log", RATE_LIMIT_REQUESTS="1000") as base:
            assert httpx.get(f"{base}/readyz").status_code == 200
            redis.stop()
            created = _graphql(base, key, {"query": 'mutation { createCampaign(input: {title: "no redis"}) { id } }'})
            assert created.status_code == 200 and "errors" not in created.json(), created.text
            listed = _graphql(base, key, CAMPAIGNS)
            assert [c["id"] for c in listed.json()["data"]["campaigns"]] == [
                created.json()["data"]["createCampaign"]["id"]
            ]
            ready = httpx.get(f"{base}/readyz")
            assert ready.status_code == 503 and ready.json()["redis"].startswith("unavailable")

            async def record_job() -> None:
                async with open_database(own, db) as sm, transaction(sm) as s:
                    await job_outbox.enqueue(s, "ping", job_id="fault-ping")

            asyncio.run(record_job())
            time.sleep(3)  # the API's relay runs every 2 s and cannot queue it

            async def outbox_row() -> OutboxJob:
                async with open_database(own, db) as sm, sm() as s:
                    return (await s.scalars(select(OutboxJob).where(OutboxJob.job_id == "fault-ping"))).one()

            pending = asyncio.run(outbox_row())
            assert pending.enqueued_at is None and pending.attempts >= 1 and pending.last_error

            redis.start()  # same address
            deadline = time.monotonic() + 20
            while asyncio.run(outbox_row()).enqueued_at is None:
                assert time.monotonic() < deadline, "the relay did not queue the job after Redis came back"
                time.sleep(0.3)
            assert httpx.get(f"{base}/readyz").status_code == 200

        async def run_worker() -> tuple[int, Any]:
            endpoints = Endpoints(database_url=db, redis_url=redis.url)
            w = build_worker(own, endpoints, burst=True, handle_signals=False, poll_delay=0.05)
            try:
                await w.main()
            finally:
                await w.close()
            pool = await create_pool(redis_settings(redis.url))
            try:
                return w.jobs_complete, await Job("fault-ping", pool, _queue_name=queue_name(own)).result(timeout=5)
            finally:
                await pool.aclose()

        complete, result = asyncio.run(run_worker())
        assert complete == 1 and result["status"] == "ok"  # queued once, run once
    finally:
        redis.stop()
        servers.drop_database(db)


def test_a_worker_killed_mid_job_runs_it_again_without_repeating_its_side_effect(
    settings: Settings, servers: ServerSet, tmp_path: Path
) -> None:
    db = servers.new_database_url("faults")
    upgrade(db)
    redis = RedisServer(tmp_path / "redis")
    redis.start()
    own = settings.model_copy(
        update={"database_url": db, "redis_url": redis.url, "redis_prefix": f"faults-{uuid.uuid4().hex[:8]}"}
    )
    campaign_id = asyncio.run(_campaign(own, db))

    async def records() -> int:
        async with open_database(own, db) as sm, sm() as s:
            return int(await s.scalar(select(func.count()).select_from(PerformanceRecord)) or 0)

    async def enqueue() -> str:
        pool = await create_pool(redis_settings(redis.url))
        try:
            job = await pool.enqueue_job("record_then_wait", campaign_id, _queue_name=queue_name(own))
            assert job is not None
            return job.job_id
        finally:
            await pool.aclose()

    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.hardening.fault_jobs"],
        env=server_env(own),
        cwd=REPO,
        stdout=open(tmp_path / "worker.log", "wb"),  # noqa: SIM115 - closed with the process
        stderr=subprocess.STDOUT,
    )
    try:
        job_id = asyncio.run(enqueue())
        deadline = time.monotonic() + 30
        while asyncio.run(records()) == 0:  # the side effect is stored; the job now waits
            assert time.monotonic() < deadline and proc.poll() is None, (tmp_path / "worker.log").read_text()
            time.sleep(0.1)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()

        async def second_worker() -> tuple[int, Any]:
            w = build_worker(
                own,
                Endpoints(database_url=db, redis_url=redis.url),
                functions=[record_then_wait],
                job_timeout=2,
                burst=True,
                handle_signals=False,
                poll_delay=0.2,
            )
            try:
                await w.main()  # waits until the dead worker's claim expires, then runs the job again
            finally:
                await w.close()
            pool = await create_pool(redis_settings(redis.url))
            try:
                job = Job(job_id, pool, _queue_name=queue_name(own))
                return w.jobs_complete, (await job.status(), await job.result(timeout=5))
            finally:
                await pool.aclose()

        complete, (status, job_try) = asyncio.run(second_worker())
        assert complete == 1 and status == JobStatus.complete and job_try == 2  # it ran again
        assert asyncio.run(records()) == 1  # the side effect is not repeated
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        redis.stop()
        servers.drop_database(db)
