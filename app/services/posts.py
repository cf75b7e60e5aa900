"""Tracking social posts (seed 3.1, 7.3): create a pending post, record what happened to it."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import Conflict, NotFound, ValidationFailed
from app.models import SocialPost
from app.services import campaigns, errors
from app.services.validation import check_identifier, check_json, check_text
from app.settings import Settings

SETTABLE_STATUSES = ("pending", "posted", "failed")
MAX_URL = 2048


def check_url(value: str | None, field: str) -> str | None:
    if value is None:
        return None
    url = check_text(value, field, MAX_URL, required=True)
    if not (url.startswith("https://") or url.startswith("http://")):
        raise ValidationFailed(f"{field} must be an http(s) URL", field=field)
    return url


async def track_post(
    session: AsyncSession,
    settings: Settings,
    *,
    campaign_id: uuid.UUID,
    platform: str,
    content: str,
    image_url: str | None = None,
) -> SocialPost:
    await campaigns.get_campaign(session, campaign_id)
    post = SocialPost(
        campaign_id=campaign_id,
        platform=check_identifier(platform, "platform", 32),
        content=check_text(content, "content", settings.max_content_length, required=True),
        image_url=check_url(image_url, "image_url"),
        status="pending",
    )
    session.add(post)
    await session.flush()
    await session.refresh(post)
    return post


async def get_post(session: AsyncSession, post_id: uuid.UUID, *, for_update: bool = False) -> SocialPost:
    stmt = select(SocialPost).where(SocialPost.id == post_id)
    if for_update:
        stmt = stmt.with_for_update()
    post = await session.scalar(stmt)
    if post is None:
        raise NotFound(f"post {post_id} (postId) does not exist", field="postId")
    return post


@dataclass
class StatusUpdate:
    status: str
    platform_post_id: str | None = None
    post_url: str | None = None
    error_type: str | None = None
    error_message: str | None = None
    error_details: dict[str, Any] | None = None


async def update_post_status(
    session: AsyncSession, settings: Settings, post_id: uuid.UUID, upd: StatusUpdate, *, now: datetime | None = None
) -> SocialPost:
    """Record an outcome. A failure increments retry_count and logs the error (notifying the admin on
    token and permission errors, and when the retries are used up)."""
    if upd.status not in SETTABLE_STATUSES:
        raise ValidationFailed(
            f"status must be one of {', '.join(SETTABLE_STATUSES)}, got {upd.status!r}", field="status"
        )
    post = await get_post(session, post_id, for_update=True)
    now = now or datetime.now(UTC)
    if upd.status == "posted":
        if not upd.platform_post_id:
            raise ValidationFailed("platform_post_id is required when status is posted", field="platform_post_id")
        platform_post_id = check_text(upd.platform_post_id, "platform_post_id", 200, required=True)
        if post.status == "posted":
            if post.platform_post_id == platform_post_id:
                return post  # the same outcome reported twice
            raise Conflict(
                f"post {post_id} is already posted as {post.platform_post_id}; refusing a second platform post id",
                field="platformPostId",
            )
        post.status = "posted"
        post.platform_post_id = platform_post_id
        post.post_url = check_url(upd.post_url, "post_url")
        post.posted_at = now
        post.error_type = post.error_message = None
        post.error_details = None
    elif upd.status == "failed":
        if post.status == "posted":
            raise Conflict(f"post {post_id} is already posted; it cannot fail afterwards", field="status")
        error_type = upd.error_type or "api_error"
        message = upd.error_message or f"posting to {post.platform} failed"
        details = check_json(upd.error_details, "error_details", settings.max_details_bytes)
        post.status = "failed"
        post.retry_count += 1
        error = await errors.log_error(
            session,
            settings,
            errors.ErrorInput(
                operation_type="social_posting",
                error_type=error_type,
                error_message=message,
                error_details={**details, "post_id": str(post.id), "retry_count": post.retry_count},
                campaign_id=post.campaign_id,
                platform=post.platform,
                notify_admin=error_type in ("token_expired", "permission_denied")
                or post.retry_count >= settings.max_retries,
            ),
        )
        post.error_type = error.error_type
        post.error_message = error.error_message
        post.error_details = details
    else:  # pending: queued for another attempt
        if post.status == "posted":
            raise Conflict(f"post {post_id} is already posted", field="status")
        post.status = "pending"
    await session.flush()
    await session.refresh(post)
    return post


async def list_posts(
    session: AsyncSession,
    *,
    campaign_id: uuid.UUID | None = None,
    platform: str | None = None,
    status: str | None = None,
    connection_id: uuid.UUID | None = None,
    limit: int = 50,
    offset: int = 0,
) -> list[SocialPost]:
    stmt = select(SocialPost).order_by(SocialPost.created_at.desc(), SocialPost.id.desc()).limit(limit).offset(offset)
    if campaign_id:
        stmt = stmt.where(SocialPost.campaign_id == campaign_id)
    if platform:
        stmt = stmt.where(SocialPost.platform == platform)
    if status:
        stmt = stmt.where(SocialPost.status == status)
    if connection_id:
        stmt = stmt.where(SocialPost.connection_id == connection_id)
    return list((await session.scalars(stmt)).all())
