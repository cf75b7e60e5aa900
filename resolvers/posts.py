from __future__ import annotations

from typing import Any, cast

import strawberry
from strawberry.scalars import JSON

from app.services import posts
from app.services.api_keys import Role
from resolvers.context import Info, require
from schema.enums import ErrorType, PostOutcome, PostStatus
from schema.types import SocialPost, parse_id


async def track_social_post(
    info: Info, campaign_id: strawberry.ID, platform: str, content: str, image_url: str | None = None
) -> SocialPost:
    ctx = require(info, Role.SERVICE)
    async with ctx.transaction() as session:
        post = await posts.track_post(
            session,
            ctx.settings,
            campaign_id=parse_id(campaign_id, "campaignId"),
            platform=platform,
            content=content,
            image_url=image_url,
        )
    return SocialPost.from_model(post)


async def update_post_status(
    info: Info,
    post_id: strawberry.ID,
    status: PostOutcome,
    platform_post_id: str | None = None,
    post_url: str | None = None,
    error_type: ErrorType | None = None,
    error_message: str | None = None,
    error_details: JSON | None = None,
) -> SocialPost:
    ctx = require(info, Role.SERVICE)
    upd = posts.StatusUpdate(
        status=status.value,
        platform_post_id=platform_post_id,
        post_url=post_url,
        error_type=None if error_type is None else error_type.value,
        error_message=error_message,
        error_details=cast("dict[str, Any] | None", error_details),
    )
    async with ctx.transaction() as session:
        post = await posts.update_post_status(session, ctx.settings, parse_id(post_id, "postId"), upd)
    return SocialPost.from_model(post)


async def social_posts(
    info: Info,
    campaign_id: strawberry.ID | None = None,
    platform: str | None = None,
    status: PostStatus | None = None,
    connection_id: strawberry.ID | None = None,
    limit: int = 50,
    offset: int = 0,
) -> list[SocialPost]:
    ctx = require(info, Role.VIEWER)
    limit = ctx.page_size(limit)
    async with ctx.transaction() as session:
        rows = await posts.list_posts(
            session,
            campaign_id=None if campaign_id is None else parse_id(campaign_id, "campaignId"),
            platform=platform,
            status=None if status is None else status.value,
            connection_id=None if connection_id is None else parse_id(connection_id, "connectionId"),
            limit=limit,
            offset=max(0, offset),
        )
    return [SocialPost.from_model(p) for p in rows]
