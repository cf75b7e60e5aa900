"""Helpers for the publishing tests: a campaign, a connected account, a post, a Publisher on the fake."""

from __future__ import annotations

import random
import uuid
from typing import Any

from sqlalchemy import select

from app.clock import Clock
from app.database import transaction
from app.models import Campaign, OutboxJob, PlatformConnection, SocialPost
from app.platforms.base import Platform
from app.runtime import Runtime
from app.services import connections, posts, publishing
from app.settings import Settings
from jobs.publishing import adapter_factory
from tests.fake_platforms import FakePlatforms

ACCOUNTS = {
    Platform.FACEBOOK: "104500000000001",
    Platform.INSTAGRAM: "17841400000000001",
    Platform.X: "2244994945",
    Platform.LINKEDIN: "2414183",
    Platform.TIKTOK: "open-id-1",
}
IMAGE = "https://cdn.example.org/events/tallinn.jpg"


def fake_settings(settings: Settings, fake: FakePlatforms, **extra: Any) -> Settings:
    """The test settings with every platform pointed at the fake server."""
    urls = {f"platform_base_url_{p.value}": url for p, url in fake.base_urls.items()}
    return settings.model_copy(update={**urls, "platform_read_timeout": 2.0, **extra})


async def new_campaign(runtime: Runtime, title: str = "Tallinn music week") -> uuid.UUID:
    async with transaction(runtime.sessionmaker) as s:
        c = Campaign(title=title, currency="EUR", status="active")
        s.add(c)
        await s.flush()
        return c.id


async def new_connection(
    runtime: Runtime, platform: Platform = Platform.FACEBOOK, token: str | None = None
) -> uuid.UUID:
    async with transaction(runtime.sessionmaker) as s:
        conn = await connections.connect(
            s,
            runtime.settings,
            platform=platform,
            account_id=ACCOUNTS[platform],
            display_name=f"EventNexus on {platform}",
            token=connections.NewToken(token or f"token-{platform}"),
        )
        return conn.id


async def new_post(
    runtime: Runtime, campaign_id: uuid.UUID, platform: Platform = Platform.FACEBOOK, content: str | None = None
) -> uuid.UUID:
    async with transaction(runtime.sessionmaker) as s:
        post = await posts.track_post(
            s,
            runtime.settings,
            campaign_id=campaign_id,
            platform=platform,
            content=content or f"50 music events in Tallinn this week ({uuid.uuid4().hex[:6]})",
            image_url=IMAGE if platform in (Platform.INSTAGRAM, Platform.TIKTOK) else None,
        )
        return post.id


async def queue_now(runtime: Runtime, post_id: uuid.UUID, clock: Clock) -> SocialPost:
    async with transaction(runtime.sessionmaker) as s:
        return await publishing.schedule_post(s, runtime.settings, post_id, at=None, clock=clock)


async def load_post(runtime: Runtime, post_id: uuid.UUID) -> SocialPost:
    async with runtime.sessionmaker() as s:
        post = await s.get(SocialPost, post_id)
        assert post is not None
        return post


async def load_connection(runtime: Runtime, connection_id: uuid.UUID) -> PlatformConnection:
    async with runtime.sessionmaker() as s:
        conn = await s.get(PlatformConnection, connection_id)
        assert conn is not None
        return conn


async def outbox_jobs(runtime: Runtime, post_id: uuid.UUID) -> list[OutboxJob]:
    async with runtime.sessionmaker() as s:
        rows = await s.scalars(select(OutboxJob).where(OutboxJob.function == "publish_post").order_by(OutboxJob.id))
        return [r for r in rows if r.args == [str(post_id)]]


def publisher(
    runtime: Runtime, settings: Settings, client: Any, clock: Clock, worker_id: str = "w1"
) -> publishing.Publisher:
    return publishing.Publisher(
        settings=settings,
        sessionmaker=runtime.sessionmaker,
        adapter_for=adapter_factory(settings, client),
        worker_id=worker_id,
        clock=clock,
        rng=random.Random(0),
    )
