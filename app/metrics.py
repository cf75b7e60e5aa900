"""Prometheus metrics, served by the API at /metrics.

Request counters and latency live in this process. Job counters are kept in Redis (the worker runs
elsewhere; `HINCRBY` on <prefix>:metrics:jobs), and queue depth and pending outbox jobs are read when
/metrics is scraped, so one scrape of the API shows the whole deployment.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Coroutine, Iterable, Iterator
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import func, select

log = logging.getLogger(__name__)

REGISTRY = CollectorRegistry(auto_describe=True)

HTTP_REQUESTS = Counter(
    "eventops_http_requests_total", "HTTP requests by route and status.", ["route", "status"], registry=REGISTRY
)
HTTP_LATENCY = Histogram(
    "eventops_http_request_duration_seconds", "HTTP request latency by route.", ["route"], registry=REGISTRY
)
GRAPHQL_OPERATIONS = Counter(
    "eventops_graphql_operations_total",
    "GraphQL operations by name, type and outcome (ok or error).",
    ["operation", "type", "outcome"],
    registry=REGISTRY,
)
GRAPHQL_LATENCY = Histogram(
    "eventops_graphql_operation_duration_seconds",
    "GraphQL operation latency by name.",
    ["operation"],
    registry=REGISTRY,
)
GRAPHQL_ERRORS = Counter(
    "eventops_graphql_errors_total", "GraphQL errors by extensions.code.", ["code"], registry=REGISTRY
)
RATE_LIMITED = Counter("eventops_rate_limited_total", "Requests refused by the rate limit.", registry=REGISTRY)


def jobs_key(prefix: str) -> str:
    return f"{prefix}:metrics:jobs"


class _Snapshot(Collector):
    """Values read from Redis and PostgreSQL at scrape time (see `refresh`)."""

    def __init__(self) -> None:
        self.jobs: dict[tuple[str, str], int] = {}
        self.queue_depth: int | None = None
        self.outbox_pending: int | None = None

    def collect(self) -> Iterator[Metric]:
        jobs = CounterMetricFamily(
            "eventops_jobs", "Background jobs by function and outcome.", labels=["function", "outcome"]
        )
        for (function, outcome), n in sorted(self.jobs.items()):
            jobs.add_metric([function, outcome], n)
        yield jobs
        if self.queue_depth is not None:
            yield GaugeMetricFamily("eventops_queue_depth", "Jobs waiting in the arq queue.", value=self.queue_depth)
        if self.outbox_pending is not None:
            yield GaugeMetricFamily(
                "eventops_outbox_pending", "Jobs recorded in the outbox, not yet queued.", value=self.outbox_pending
            )


SNAPSHOT = _Snapshot()
REGISTRY.register(SNAPSHOT)


async def refresh(runtime: Any) -> None:
    """Read job counters, queue depth and outbox backlog; a missing backend leaves its values out."""
    from app.models.job_outbox import OutboxJob

    try:
        raw = await runtime.redis.hgetall(jobs_key(runtime.settings.redis_prefix))
        jobs = {}
        for k, v in raw.items():
            function, _, outcome = (k.decode() if isinstance(k, bytes) else k).rpartition(":")
            jobs[(function, outcome)] = int(v)
        SNAPSHOT.jobs = jobs
        SNAPSHOT.queue_depth = int(await runtime.redis.zcard(runtime.queue_name))
    except Exception as exc:  # noqa: BLE001 - metrics must not fail because Redis is away
        log.warning("metrics: Redis unavailable (%s)", type(exc).__name__)
        SNAPSHOT.queue_depth = None
    try:
        async with runtime.sessionmaker() as session:
            SNAPSHOT.outbox_pending = int(
                await session.scalar(select(func.count()).select_from(OutboxJob).where(OutboxJob.enqueued_at.is_(None)))
                or 0
            )
    except Exception as exc:  # noqa: BLE001
        log.warning("metrics: database unavailable (%s)", type(exc).__name__)
        SNAPSHOT.outbox_pending = None


def render() -> bytes:
    return generate_latest(REGISTRY)


def counted_job(coroutine: Callable[..., Awaitable[Any]], name: str) -> Callable[..., Coroutine[Any, Any, Any]]:
    """Wrap a job so the worker counts started/succeeded/failed per function in Redis (best effort)."""

    async def job(ctx: dict[str, Any], *args: Any, **kwargs: Any) -> Any:
        await _count(ctx, name, "started")
        try:
            result = await coroutine(ctx, *args, **kwargs)
        except BaseException:
            await _count(ctx, name, "failed")
            raise
        await _count(ctx, name, "succeeded")
        return result

    job.__name__ = job.__qualname__ = name
    job.__doc__ = coroutine.__doc__
    return job


async def _count(ctx: dict[str, Any], name: str, outcome: str) -> None:
    try:
        runtime = ctx["runtime"]
        await runtime.redis.hincrby(jobs_key(runtime.settings.redis_prefix), f"{name}:{outcome}", 1)
    except Exception:  # noqa: BLE001 - counting must never fail a job
        pass


class Timer:
    def __init__(self) -> None:
        self.start = time.perf_counter()

    def elapsed(self) -> float:
        return time.perf_counter() - self.start


def error_codes(errors: Iterable[Any]) -> list[str]:
    return [str((getattr(e, "extensions", None) or {}).get("code", "UNKNOWN")) for e in errors]
