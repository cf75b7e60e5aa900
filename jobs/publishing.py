"""The publish_post job: one publishing attempt of one post (app.services.publishing does the work).

The worker holds one shared httpx client for all platform calls (ctx["http"]); a test may put a clock
(ctx["clock"]) and a jitter source (ctx["rng"]) into the worker's ctx to control backoff time.
"""

from __future__ import annotations

import random
import uuid
from datetime import timedelta
from typing import Any

import httpx

from app.clock import SYSTEM_CLOCK, Clock
from app.database import transaction
from app.platforms.base import Platform, PlatformAdapter
from app.platforms.registry import build_http_client, get_adapter
from app.runtime import Runtime
from app.services import publishing
from app.settings import Settings

# Posts pending this long past their due time have lost their job (see publishing.requeue_stale).
STALE_GRACE = timedelta(minutes=15)


def base_urls(settings: Settings) -> dict[Platform, str]:
    """The configured platform addresses; a platform left unset uses the real API (registry default)."""
    urls: dict[Platform, str] = {}
    for platform in Platform:
        url = getattr(settings, f"platform_base_url_{platform.value}")
        if url:
            urls[platform] = url
    return urls


def http_client(settings: Settings) -> httpx.AsyncClient:
    return build_http_client(
        connect_timeout=settings.platform_connect_timeout, read_timeout=settings.platform_read_timeout
    )


def adapter_factory(settings: Settings, client: httpx.AsyncClient) -> Any:
    urls = base_urls(settings)

    def adapter_for(platform: str) -> PlatformAdapter:
        return get_adapter(platform, client, urls)

    return adapter_for


def publisher(ctx: dict[str, Any]) -> publishing.Publisher:
    runtime: Runtime = ctx["runtime"]
    client: httpx.AsyncClient | None = ctx.get("http")
    if client is None:
        client = ctx["http"] = http_client(runtime.settings)
    clock: Clock = ctx.get("clock") or SYSTEM_CLOCK
    rng: random.Random | None = ctx.get("rng")
    return publishing.Publisher(
        settings=runtime.settings,
        sessionmaker=runtime.sessionmaker,
        adapter_for=ctx.get("adapter_for") or adapter_factory(runtime.settings, client),
        worker_id=f"{ctx.get('worker_id', 'job')}:{ctx.get('job_id', uuid.uuid4().hex[:8])}",
        clock=clock,
        rng=rng,
    )


async def publish_post(ctx: dict[str, Any], post_id: str) -> dict[str, Any]:
    """One attempt at publishing post `post_id`; returns what happened (posted, retry_scheduled, ...)."""
    runtime: Runtime = ctx["runtime"]
    result = await publisher(ctx).attempt(uuid.UUID(post_id))
    if result.outcome in ("retry_scheduled", "rate_limited", "blocked", "failed"):
        runtime.kick_outbox()  # the next attempt was written to the outbox with the outcome
    return result.as_dict()


async def requeue_stale_posts(ctx: dict[str, Any]) -> int:
    """Cron: queue posts whose job was lost (crashed job, dead worker)."""
    runtime: Runtime = ctx["runtime"]
    clock: Clock = ctx.get("clock") or SYSTEM_CLOCK
    async with transaction(runtime.sessionmaker) as session:
        count = await publishing.requeue_stale(session, clock.now(), grace=STALE_GRACE)
    if count:
        runtime.kick_outbox()
    return count
