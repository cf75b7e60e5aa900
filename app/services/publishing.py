"""Publishing posts to social platforms: scheduling, one attempt, its outcome, retries and account halts.

An attempt runs in three steps so no database transaction stays open during a platform call:

1. claim: one atomic UPDATE moves the post from pending (and due) to posting for this worker, so two
   workers never both publish it. A claim whose worker died lapses after publish_claim_seconds; whoever
   takes it over marks the outcome unknown, because the dead worker may have published.
2. the platform call: when the outcome is unknown, first ask the platform whether the post exists
   (find_post); publish only when it does not.
3. record: posted (id, URL), or the failure with its classification: backoff retries (1 h, 2 h, 4 h ...),
   a rate limit waits for the platform's reset, a token or permission error halts the whole account
   (its waiting posts become blocked, keeping their retry budget; one urgent notification per halt).
   The next attempt is written to the job outbox in the same transaction, so no retry is lost when
   Redis is briefly away.
"""

from __future__ import annotations

import logging
import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.clock import SYSTEM_CLOCK, Clock
from app.database import transaction
from app.errors import Conflict, ValidationFailed
from app.models import PlatformConnection, SocialPost
from app.models.connection import HALTED_STATUSES
from app.platforms.base import AccountCredentials, PlatformAdapter, PlatformError, PublishedPost, PublishRequest
from app.platforms.classification import exponential_backoff
from app.services import connections, errors, job_outbox, notifications
from app.services.posts import get_post
from app.settings import Settings

log = logging.getLogger(__name__)

JOB = "publish_post"
OPERATION = "social_posting"
HALT_STATUS = {"token_expired": "expired", "permission_denied": "permission_missing"}
# A post scheduled this far in the past is a mistake in the input, not "as soon as possible".
PAST_TOLERANCE = timedelta(minutes=5)


def job_id(post: SocialPost) -> str:
    return f"publish:{post.id}:{post.schedule_seq}"


def marker_for(post: SocialPost) -> str:
    return f"ev{post.id.hex[:12]}"


async def enqueue_attempt(session: AsyncSession, post: SocialPost, at: datetime, now: datetime) -> str:
    """Make the post due at `at` and queue its job (through the outbox, in this transaction)."""
    post.schedule_seq += 1
    post.status = "pending"
    post.next_attempt_at = at
    post.claimed_by = None
    post.claimed_until = None
    if post.attempt_marker is None:
        post.attempt_marker = marker_for(post)
    return await job_outbox.enqueue(
        session, JOB, str(post.id), job_id=job_id(post), defer_until=at if at > now else None
    )


def is_halted(conn: PlatformConnection) -> bool:
    return conn.status in HALTED_STATUSES or conn.halted_at is not None


# --------------------------------------------------------------------------------------------------
# the API's operations


async def _assign_connection(session: AsyncSession, post: SocialPost, account_id: str | None) -> PlatformConnection:
    if account_id is None and post.connection_id is not None:
        return await connections.get_connection(session, post.connection_id)
    conn = await connections.find_connection(session, post.platform, account_id)
    post.connection_id = conn.id
    return conn


async def schedule_post(
    session: AsyncSession,
    settings: Settings,
    post_id: uuid.UUID,
    *,
    at: datetime | None,
    account_id: str | None = None,
    clock: Clock = SYSTEM_CLOCK,
) -> SocialPost:
    """Queue a pending post for `at` (now when None) through the given (or the platform's only) account.

    A post whose account is halted waits blocked until the account is reconnected.
    """
    now = clock.now()
    if at is not None:
        at = connections.check_aware(at, "scheduled_at")
        assert at is not None
        if at < now - PAST_TOLERANCE:
            raise ValidationFailed(f"scheduled_at is in the past ({at.isoformat()})", field="scheduled_at")
    post = await get_post(session, post_id, for_update=True)
    if post.status != "pending":
        hint = {"failed": "; use retryPost", "blocked": "; reconnect its account first"}.get(post.status, "")
        raise Conflict(f"post {post_id} is {post.status}; only pending posts can be scheduled{hint}", field="postId")
    conn = await _assign_connection(session, post, account_id)
    post.scheduled_at = at
    due = max(at or now, now)
    if is_halted(conn):
        post.status = "blocked"
        post.next_attempt_at = due
        if post.attempt_marker is None:
            post.attempt_marker = marker_for(post)
    else:
        await enqueue_attempt(session, post, due, now)
    await session.flush()
    await session.refresh(post)  # server-side values (updated_at) for the caller
    return post


async def retry_post(
    session: AsyncSession, settings: Settings, post_id: uuid.UUID, *, clock: Clock = SYSTEM_CLOCK
) -> SocialPost:
    """Try again now: a failed post gets a fresh retry budget; a pending one stops waiting for its backoff."""
    now = clock.now()
    post = await get_post(session, post_id, for_update=True)
    if post.status not in ("failed", "pending", "blocked"):
        raise Conflict(f"post {post_id} is {post.status}; only failed or pending posts can be retried", field="postId")
    conn = await _assign_connection(session, post, None)
    if is_halted(conn):
        label = errors.platform_label(conn.platform)
        raise Conflict(f"the {label} account {conn.account_id} is halted; reconnect {label} first", field="postId")
    if post.status == "failed":
        post.retry_count = 0
    await enqueue_attempt(session, post, now, now)
    await session.flush()
    await session.refresh(post)  # server-side values (updated_at) for the caller
    return post


async def cancel_post(session: AsyncSession, post_id: uuid.UUID, *, clock: Clock = SYSTEM_CLOCK) -> SocialPost:
    post = await get_post(session, post_id, for_update=True)
    if post.status == "cancelled":
        return post
    if post.status == "posting":
        raise Conflict(f"post {post_id} is being published right now; it cannot be cancelled", field="postId")
    if post.status == "posted":
        raise Conflict(f"post {post_id} is already posted", field="postId")
    # Its queued job finds the post cancelled and does nothing.
    post.status = "cancelled"
    post.next_attempt_at = None
    await session.flush()
    await session.refresh(post)  # server-side values (updated_at) for the caller
    return post


async def reconnect(
    session: AsyncSession,
    settings: Settings,
    *,
    platform: str,
    account_id: str | None,
    token: connections.NewToken,
    resolved_by: str,
    clock: Clock = SYSTEM_CLOCK,
) -> tuple[PlatformConnection, int]:
    """Store a new token, lift the halt and queue the account's blocked posts; returns (connection, requeued)."""
    now = clock.now()
    conn = await connections.find_connection(session, platform, account_id, for_update=True)
    connections.apply_token(settings, conn, token, now)
    was_halted = conn.halted_at is not None
    conn.halted_at = None
    conn.halt_reason = None
    conn.halt_notified = False
    limited = conn.rate_limited_until is not None and conn.rate_limited_until > now
    conn.status = "rate_limited" if limited else "connected"
    blocked = (
        await session.scalars(
            select(SocialPost)
            .where(SocialPost.connection_id == conn.id, SocialPost.status == "blocked")
            .order_by(SocialPost.next_attempt_at, SocialPost.created_at)
            .with_for_update()
        )
    ).all()
    for post in blocked:
        await enqueue_attempt(session, post, max(post.scheduled_at or now, now), now)
    if was_halted:
        for error_type in HALT_STATUS:
            await errors.resolve_matching(
                session,
                platform=conn.platform,
                error_type=error_type,
                resolved_by=resolved_by,
                note=f"{errors.platform_label(conn.platform)} account {conn.account_id} reconnected",
            )
    await session.flush()
    await session.refresh(conn)
    return conn, len(blocked)


# --------------------------------------------------------------------------------------------------
# one attempt


@dataclass
class Failure:
    """A failed attempt as the pipeline treats it (from a PlatformError, or detected locally)."""

    error_type: str
    message: str
    retry: str  # backoff | wait | never
    wait_seconds: int | None = None
    halt: bool = False
    outcome_unknown: bool = False
    details: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_platform(cls, exc: PlatformError, *, stage: str, unknown_before: bool) -> Failure:
        c = exc.classification
        raw = exc.raw
        # Only a publish can create the post; a failed lookup leaves the earlier doubt as it was.
        unknown = c.outcome_unknown if stage == "publish" else unknown_before
        details: dict[str, Any] = {
            "stage": stage,
            "platform_code": c.platform_code,
            "http_status": raw.http_status,
            "transport_error": raw.transport_error,
            "retry": c.retry,
            "wait_seconds": c.wait_seconds,
            "reason": c.reason,
        }
        if isinstance(raw.body, dict | list):
            details["response"] = raw.body
        elif isinstance(raw.body, str):
            details["response"] = raw.body[:1000]
        return cls(
            error_type=str(c.error_type),
            message=c.reason,
            retry=c.retry,
            wait_seconds=c.wait_seconds,
            halt=c.halt_account,
            outcome_unknown=unknown,
            details=details,
        )


@dataclass
class AttemptResult:
    """What one publish_post job did (also its arq result)."""

    post_id: str
    outcome: str  # posted | found | retry_scheduled | rate_limited | failed | blocked | skipped | lost_claim
    detail: str = ""
    next_attempt_at: datetime | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "post_id": self.post_id,
            "outcome": self.outcome,
            "detail": self.detail,
            "next_attempt_at": None if self.next_attempt_at is None else self.next_attempt_at.isoformat(),
        }


@dataclass
class Publisher:
    """What an attempt needs besides the database: the adapters, the clock and the jitter source."""

    settings: Settings
    sessionmaker: async_sessionmaker[AsyncSession]
    adapter_for: Callable[[str], PlatformAdapter]
    worker_id: str
    clock: Clock = SYSTEM_CLOCK
    rng: random.Random | None = None

    async def attempt(self, post_id: uuid.UUID) -> AttemptResult:
        claimed = await self._claim(post_id)
        if isinstance(claimed, AttemptResult):
            return claimed
        platform, creds, request, since, unknown = claimed

        adapter = self.adapter_for(platform)
        published: PublishedPost | None = None
        found = False
        failure: Failure | None = None
        stage = "find" if unknown else "publish"
        try:
            if unknown:
                published = await adapter.find_post(creds, request, since)
                found = published is not None
                stage = "publish"
            if published is None:
                published = await adapter.publish(creds, request)
        except PlatformError as exc:
            failure = Failure.from_platform(exc, stage=stage, unknown_before=unknown)
        return await self._record(post_id, published, found, failure)

    # ---- step 1 -------------------------------------------------------------------------------

    async def _claim(
        self, post_id: uuid.UUID
    ) -> AttemptResult | tuple[str, AccountCredentials, PublishRequest, datetime, bool]:
        now = self.clock.now()
        lease = now + timedelta(seconds=self.settings.publish_claim_seconds)
        async with transaction(self.sessionmaker) as session:
            # One statement decides who publishes: PostgreSQL re-checks the WHERE on the locked row, so
            # of two workers racing for a post exactly one gets it back.
            stmt = (
                update(SocialPost)
                .where(
                    SocialPost.id == post_id,
                    or_(
                        (SocialPost.status == "pending")
                        & or_(SocialPost.next_attempt_at.is_(None), SocialPost.next_attempt_at <= now),
                        (SocialPost.status == "posting") & (SocialPost.claimed_until < now),
                    ),
                )
                .values(
                    # SET sees the row as it was: taking over a lapsed claim means the outcome is unknown.
                    outcome_unknown=SocialPost.outcome_unknown | (SocialPost.status == "posting"),
                    status="posting",
                    claimed_by=self.worker_id,
                    claimed_until=lease,
                    last_attempt_at=now,
                    first_attempt_at=func.coalesce(SocialPost.first_attempt_at, now),
                )
                .returning(SocialPost)
                .execution_options(populate_existing=True)
            )
            post = (await session.scalars(stmt)).one_or_none()
            if post is None:
                current = await session.scalar(select(SocialPost.status).where(SocialPost.id == post_id))
                what = "does not exist" if current is None else f"is {current} (or not due yet, or claimed)"
                return AttemptResult(str(post_id), "skipped", f"post {what}")
            conn = None if post.connection_id is None else await session.get(PlatformConnection, post.connection_id)
            if conn is None:
                failure = Failure("validation_error", f"no {post.platform} account is connected for this post", "never")
                return await self._fail(session, post, None, failure, now)
            if is_halted(conn):
                self._release(post, "blocked")
                return AttemptResult(str(post_id), "blocked", f"{conn.platform} account {conn.account_id} is halted")
            if conn.rate_limited_until is not None and conn.rate_limited_until > now:
                # Calling a rate-limited platform lengthens the block: wait without spending a retry.
                await enqueue_attempt(session, post, conn.rate_limited_until, now)
                return AttemptResult(str(post_id), "rate_limited", "account rate limited", conn.rate_limited_until)
            try:
                creds = connections.credentials(self.settings, conn)
            except connections.TokenUnreadable as exc:
                failure = Failure("token_expired", f"{exc}; reconnect the account", "never", halt=True)
                await session.refresh(conn, with_for_update=True)
                return await self._fail(session, post, conn, failure, now)
            request = PublishRequest(post.content, post.image_url, post.attempt_marker or marker_for(post))
            since = post.first_attempt_at or now
            return post.platform, creds, request, since, post.outcome_unknown

    @staticmethod
    def _release(post: SocialPost, status: str) -> None:
        post.status = status
        post.claimed_by = None
        post.claimed_until = None

    # ---- step 3 -------------------------------------------------------------------------------

    async def _record(
        self, post_id: uuid.UUID, published: PublishedPost | None, found: bool, failure: Failure | None
    ) -> AttemptResult:
        now = self.clock.now()
        async with transaction(self.sessionmaker) as session:
            post = await session.scalar(
                select(SocialPost)
                .where(SocialPost.id == post_id)
                .with_for_update()
                .execution_options(populate_existing=True)
            )
            if post is None or post.status != "posting" or post.claimed_by != self.worker_id:
                # Our claim lapsed and another worker took the post over; it looks before publishing.
                return AttemptResult(str(post_id), "lost_claim", "the claim lapsed before the outcome was recorded")
            conn = None
            if post.connection_id is not None:
                conn = await session.get(
                    PlatformConnection, post.connection_id, with_for_update=True, populate_existing=True
                )
            if published is not None:
                self._release(post, "posted")
                post.platform_post_id = published.platform_post_id
                post.post_url = published.url
                post.posted_at = now
                post.outcome_unknown = False
                post.next_attempt_at = None
                post.error_type = post.error_message = None
                post.error_details = None
                if conn is not None:
                    conn.last_success_at = now
                    if conn.status == "rate_limited" and (conn.rate_limited_until or now) <= now:
                        conn.status = "connected"
                return AttemptResult(str(post_id), "found" if found else "posted", published.platform_post_id)
            assert failure is not None
            return await self._fail(session, post, conn, failure, now)

    async def _fail(
        self, session: AsyncSession, post: SocialPost, conn: PlatformConnection | None, failure: Failure, now: datetime
    ) -> AttemptResult:
        settings = self.settings
        pid = str(post.id)
        post.error_type = failure.error_type
        post.error_message = failure.message[: settings.max_message_length]
        post.outcome_unknown = failure.outcome_unknown
        details = {**failure.details, "outcome_unknown": failure.outcome_unknown}
        post.error_details = details
        if failure.halt and conn is not None:
            # Not the post's fault: it keeps its retry budget and waits for the reconnect.
            self._release(post, "blocked")
            error = await self._log(session, post, failure, details)
            await halt_account(session, settings, conn, failure, now, error_id=error.id)
            return AttemptResult(pid, "blocked", f"{failure.error_type}: account halted")
        if failure.retry == "wait" and conn is not None:
            wait = (
                failure.wait_seconds if failure.wait_seconds is not None else settings.rate_limit_default_wait_seconds
            )
            until = now + timedelta(seconds=max(wait, 1))
            if conn.rate_limited_until is None or conn.rate_limited_until < until:
                conn.rate_limited_until = until
            if not is_halted(conn):
                conn.status = "rate_limited"
            await self._log(session, post, failure, details)
            await enqueue_attempt(session, post, conn.rate_limited_until or until, now)
            return AttemptResult(pid, "rate_limited", failure.message, post.next_attempt_at)
        post.retry_count += 1
        details["retry_count"] = post.retry_count
        post.error_details = details
        if failure.retry != "never" and post.retry_count <= settings.max_retries:
            delay = exponential_backoff(
                post.retry_count,
                base_seconds=settings.retry_base_seconds,
                factor=settings.retry_factor,
                max_seconds=settings.retry_max_seconds,
                jitter=settings.retry_jitter,
                rng=self.rng if self.rng is not None else random.Random(),
            )
            await self._log(session, post, failure, details)
            at = now + timedelta(seconds=delay)
            await enqueue_attempt(session, post, at, now)
            return AttemptResult(pid, "retry_scheduled", failure.message, at)
        # For good: retries used up, or an error retrying cannot fix.
        self._release(post, "failed")
        post.next_attempt_at = None
        error = await self._log(session, post, failure, details)
        await notifications.create_notification(session, final_failure_notification(post, failure, settings, error.id))
        error.notify_admin = True
        return AttemptResult(pid, "failed", failure.message)

    async def _log(self, session: AsyncSession, post: SocialPost, failure: Failure, details: dict[str, Any]) -> Any:
        log.warning(
            "publishing post %s to %s failed: %s (%s, retry %s)",
            post.id,
            post.platform,
            failure.error_type,
            failure.details.get("platform_code"),
            failure.retry,
        )
        return await errors.log_error(
            session,
            self.settings,
            errors.ErrorInput(
                operation_type=OPERATION,
                error_type=failure.error_type,
                error_message=failure.message[: self.settings.max_message_length]
                or f"posting to {post.platform} failed",
                error_details=_bounded({**details, "post_id": str(post.id)}, self.settings.max_details_bytes),
                campaign_id=post.campaign_id,
                platform=post.platform,
                notify_admin=False,  # the pipeline sends its own, richer notifications (one per halt / final failure)
            ),
        )


def _bounded(details: dict[str, Any], max_bytes: int) -> dict[str, Any]:
    """Error details within the size limit: a huge platform body is cut, never the error itself."""
    import json

    if len(json.dumps(details, default=str).encode()) <= max_bytes:
        return details
    trimmed = {k: v for k, v in details.items() if k != "response"}
    trimmed["response"] = json.dumps(details.get("response"), default=str)[: max_bytes // 4]
    return trimmed


def final_failure_notification(
    post: SocialPost, failure: Failure, settings: Settings, error_id: uuid.UUID
) -> notifications.NewNotification:
    label = errors.platform_label(post.platform)
    exhausted = failure.retry != "never"
    if exhausted:
        title = f"URGENT: {label} post failed after {settings.max_retries} retries"
        severity = "urgent"
    else:
        title = f"{label} post failed: {failure.error_type} (not retried)"
        severity = errors.ADMIN_ACTIONS[failure.error_type][0]
    unknown = (
        " The last attempt's outcome is unknown: check the account before retrying." if failure.outcome_unknown else ""
    )
    return notifications.NewNotification(
        type="system_alert",
        severity=severity,
        title=title,
        message=f"Post {post.id} of campaign {post.campaign_id} could not be published to {label}: "
        f"{failure.message}{unknown}",
        action="Review the post, then retry or cancel it",
        data={
            "post_id": str(post.id),
            "campaign_id": str(post.campaign_id),
            "platform": post.platform,
            "error_id": str(error_id),
            "error_type": failure.error_type,
            "retry_count": post.retry_count,
            "outcome_unknown": failure.outcome_unknown,
        },
        dedup_key=f"post-failed:{post.id}:{post.schedule_seq}",
    )


# --------------------------------------------------------------------------------------------------
# halting an account


async def halt_account(
    session: AsyncSession,
    settings: Settings,
    conn: PlatformConnection,
    failure: Failure,
    now: datetime,
    *,
    error_id: uuid.UUID | None = None,
) -> bool:
    """Stop all posting through the account; the first failure of a halt notifies. Returns True if it did.

    The caller holds the connection row locked (SELECT ... FOR UPDATE), so of two failures racing only
    one sees the account still running.
    """
    first = conn.halted_at is None
    if first:
        conn.status = HALT_STATUS.get(failure.error_type, "expired")
        conn.halted_at = now
        conn.halt_reason = f"{failure.error_type}: {failure.message}"[:1000]
    # Everything waiting for this account waits blocked, keeping its retry budget.
    await session.execute(
        update(SocialPost)
        .where(SocialPost.connection_id == conn.id, SocialPost.status == "pending")
        .values(status="blocked", claimed_by=None, claimed_until=None)
        .execution_options(synchronize_session=False)
    )
    if conn.halt_notified:
        return False
    await session.flush()
    posts, campaigns = (
        await session.execute(
            select(func.count(), func.count(func.distinct(SocialPost.campaign_id))).where(
                SocialPost.connection_id == conn.id, SocialPost.status.in_(("blocked", "posting"))
            )
        )
    ).one()
    last = conn.last_success_at or await session.scalar(
        select(func.max(SocialPost.posted_at)).where(SocialPost.connection_id == conn.id)
    )
    label = errors.platform_label(conn.platform)
    what = "token expired" if conn.status == "expired" else "permission missing"
    account = conn.display_name or conn.account_id
    last_text = "never" if last is None else f"{last.isoformat()} ({_ago(now, last)})"
    assert conn.halted_at is not None
    await notifications.create_notification(
        session,
        notifications.NewNotification(
            type="system_alert",
            severity="urgent",
            title=f"URGENT: {label} {what}",
            message=(
                f"All {label} posting for {account} has stopped ({failure.error_type}: {failure.message}). "
                f"Campaigns affected: {campaigns}. Posts waiting: {posts}. Last successful post: {last_text}. "
                "Campaigns stay active and other platforms keep posting."
            ),
            action=f"Reconnect {label}",
            data={
                "platform": conn.platform,
                "connection_id": str(conn.id),
                "account_id": conn.account_id,
                "error_type": failure.error_type,
                "error_id": None if error_id is None else str(error_id),
                "campaigns_affected": int(campaigns),
                "posts_affected": int(posts),
                "last_success_at": None if last is None else last.isoformat(),
                "action_url": f"/settings/integrations/{conn.platform}",
            },
            dedup_key=f"halt:{conn.id}:{conn.halted_at.isoformat()}",
        ),
    )
    conn.halt_notified = True
    return True


def _ago(now: datetime, then: datetime) -> str:
    seconds = max(0, int((now - then.astimezone(UTC)).total_seconds()))
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size:
            n = seconds // size
            return f"{n} {unit}{'s' if n != 1 else ''} ago"
    return "just now"


# --------------------------------------------------------------------------------------------------
# the safety net


async def requeue_stale(session: AsyncSession, now: datetime, *, grace: timedelta) -> int:
    """Queue posts whose job was lost (a job that crashed, a worker that died); returns how many.

    A post still 'posting' after its claim lapsed is taken over with the outcome unknown (see _claim).
    """
    stale = (
        await session.scalars(
            select(SocialPost)
            .where(
                SocialPost.connection_id.is_not(None),
                or_(
                    (SocialPost.status == "posting") & (SocialPost.claimed_until < now),
                    (SocialPost.status == "pending") & (SocialPost.next_attempt_at < now - grace),
                ),
            )
            .with_for_update(skip_locked=True)
            .limit(500)
        )
    ).all()
    for post in stale:
        post.schedule_seq += 1
        await job_outbox.enqueue(session, JOB, str(post.id), job_id=job_id(post))
    return len(stale)
