"""Publishing mutations: queue, retry and cancel posts (the worker's publish_post job does the posting)."""

from __future__ import annotations

import datetime as dt

import strawberry

from app.clock import SYSTEM_CLOCK, Clock
from app.services import publishing
from app.services.api_keys import Role
from resolvers.context import Context, Info, require
from schema.types import SocialPost, parse_id


def clock_of(ctx: Context) -> Clock:
    clock: Clock = ctx.runtime.extras.get("clock") or SYSTEM_CLOCK
    return clock


async def schedule_post(
    info: Info, post_id: strawberry.ID, scheduled_at: dt.datetime, account_id: str | None = None
) -> SocialPost:
    ctx = require(info, Role.SERVICE)
    async with ctx.transaction() as session:
        post = await publishing.schedule_post(
            session,
            ctx.settings,
            parse_id(post_id, "postId"),
            at=scheduled_at,
            account_id=account_id,
            clock=clock_of(ctx),
        )
    ctx.runtime.kick_outbox()
    return SocialPost.from_model(post)


async def publish_post(info: Info, post_id: strawberry.ID, account_id: str | None = None) -> SocialPost:
    ctx = require(info, Role.SERVICE)
    async with ctx.transaction() as session:
        post = await publishing.schedule_post(
            session, ctx.settings, parse_id(post_id, "postId"), at=None, account_id=account_id, clock=clock_of(ctx)
        )
    ctx.runtime.kick_outbox()
    return SocialPost.from_model(post)


async def retry_post(info: Info, post_id: strawberry.ID) -> SocialPost:
    ctx = require(info, Role.SERVICE)
    async with ctx.transaction() as session:
        post = await publishing.retry_post(session, ctx.settings, parse_id(post_id, "postId"), clock=clock_of(ctx))
    ctx.runtime.kick_outbox()
    return SocialPost.from_model(post)


async def cancel_post(info: Info, post_id: strawberry.ID) -> SocialPost:
    ctx = require(info, Role.SERVICE)
    async with ctx.transaction() as session:
        post = await publishing.cancel_post(session, parse_id(post_id, "postId"), clock=clock_of(ctx))
    return SocialPost.from_model(post)
