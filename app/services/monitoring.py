"""Hourly campaign monitoring (issue 5): read every active campaign's post metrics, record the hour's gains.

Platforms report cumulative numbers. Each run reads them, and per campaign and platform (the record's
source) stores what was gained since the post's last stored reading: one performance record (views,
clicks, social_likes, social_shares) for the hour that ended, [hour - 1 h, hour), plus a
monitoring_increments row with comments and reach too. Analytics sum records, so the records must be
increments, each counted once:

- a run is one per hour: it claims the hour's monitoring_runs row (a unique hour), and holds a PostgreSQL
  advisory lock for as long as it runs, so two runs never write at the same time, whichever workers or
  ticks they come from;
- one campaign's readings, increments and record are written in one transaction, and only when that
  (campaign, source, hour) has no increments row yet (its primary key is the idempotency key). A run that
  crashed half-way is re-run for the same hour: campaigns it finished are not recorded again; their gains
  since then stay in the posts' pending difference and go into the next hour.
- a platform number that goes down (a like taken back, views filtered as spam) records 0 and the post
  keeps its highest reading, so a like taken back and given again is counted once, and the records' sum
  always equals the posts' stored numbers.

An adapter error is classified and logged like a posting error (operation "monitoring", grouped per
platform, account and code) and the run goes on with the other posts and campaigns; a token or
permission error halts the account exactly as posting does (publishing.halt_account), a rate limit
makes the account wait. Halted and rate-limited accounts are not called.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.clock import SYSTEM_CLOCK, Clock
from app.database import transaction
from app.errors import Conflict
from app.models import Campaign, MonitoringIncrement, MonitoringRun, PlatformConnection, SocialPost
from app.platforms.base import PlatformAdapter, PlatformError, PostMetrics
from app.services import analytics, campaigns, connections, errors, publishing
from app.services.performance import PerformanceInput, record_performance, score_rules
from app.settings import Settings

log = logging.getLogger(__name__)

JOB = "monitor_active_campaigns"
OPERATION = "monitoring"
HOUR = timedelta(hours=1)
# pg_try_advisory_xact_lock key of "a monitoring run is writing" (advisory locks are per database).
LOCK_KEY = 0x65766D6F6E69746F  # "evmonito"
# The reading fields of a post row, as PostMetrics names them.
READINGS = ("impressions", "reach", "engagement", "clicks", "shares", "comments", "likes")
MAX_DETAIL_ERRORS = 50


def hour_of(at: datetime) -> datetime:
    """The UTC hour `at` falls in."""
    return at.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def run_hour(now: datetime, settings: Settings) -> datetime:
    """The hour a run started at `now` monitors: the hour of its tick (MONITOR_MINUTE past it), even when
    the job starts late or is retried after the clock has passed the next full hour."""
    return hour_of(now - timedelta(minutes=settings.monitor_minute))


def hour_label(hour: datetime) -> str:
    return hour.astimezone(UTC).strftime("%Y-%m-%dT%H:00Z")


def idempotency_key(source: str, hour: datetime) -> str:
    """The performance record's key; unique per campaign (uq_performance_campaign_idempotency)."""
    return f"monitor:{source}:{hour_label(hour)}"


@dataclass
class Numbers:
    views: int = 0
    clicks: int = 0
    likes: int = 0
    shares: int = 0
    comments: int = 0
    reach: int = 0

    def add(self, other: Numbers) -> None:
        for name in ("views", "clicks", "likes", "shares", "comments", "reach"):
            setattr(self, name, getattr(self, name) + getattr(other, name))


@dataclass
class RunSummary:
    """What one call of Monitor.run did (the job's result). status skipped: nothing was done (reason)."""

    hour: datetime
    status: str  # succeeded | partial | failed | skipped
    run_id: uuid.UUID | None = None
    campaigns_checked: int = 0
    posts_updated: int = 0
    errors: int = 0
    records: int = 0
    duration_ms: int = 0
    reason: str = ""
    skipped_posts: Counter[str] = field(default_factory=Counter)
    error_list: list[dict[str, Any]] = field(default_factory=list)

    def detail(self) -> dict[str, Any]:
        return {
            "records": self.records,
            "skipped_posts": dict(self.skipped_posts),
            "errors": self.error_list[:MAX_DETAIL_ERRORS],
            **({"reason": self.reason} if self.reason else {}),
        }

    def as_dict(self) -> dict[str, Any]:
        return {
            "hour": self.hour.isoformat(),
            "status": self.status,
            "run_id": None if self.run_id is None else str(self.run_id),
            "campaigns_checked": self.campaigns_checked,
            "posts_updated": self.posts_updated,
            "errors": self.errors,
            "records": self.records,
            "duration_ms": self.duration_ms,
            "reason": self.reason,
        }


@dataclass
class _Read:
    post_id: uuid.UUID
    platform: str
    metrics: PostMetrics


@dataclass
class _Failed:
    post: SocialPost
    conn: PlatformConnection
    failure: publishing.Failure


@dataclass
class Monitor:
    """One monitoring run's collaborators (the job builds it from the worker's ctx, tests directly)."""

    settings: Settings
    sessionmaker: async_sessionmaker[AsyncSession]
    adapter_for: Callable[[str], PlatformAdapter]
    worker_id: str = "monitor"
    clock: Clock = SYSTEM_CLOCK

    async def run(self) -> RunSummary:
        """Monitor every active campaign for the current hour, unless that hour is done or being done."""
        started = self.clock.now()
        hour = run_hour(started, self.settings)
        t0 = time.monotonic()
        summary = RunSummary(hour=hour, status="skipped")
        # The advisory lock lives as long as this (otherwise idle) transaction: a run that dies, however,
        # releases it with its connection.
        async with self.sessionmaker() as lock_session, lock_session.begin():
            if not await lock_session.scalar(select(func.pg_try_advisory_xact_lock(LOCK_KEY))):
                summary.reason = "another monitoring run is in progress"
                return summary
            claimed = await self._claim(hour, started)
            if isinstance(claimed, str):
                summary.reason = claimed
                return summary
            summary.run_id = claimed
            try:
                # A run must end within its claim, or a retry could take the hour over while it writes.
                async with asyncio.timeout(self.settings.monitor_lease_seconds):
                    await self._check_all(hour, summary)
            except (Exception, asyncio.CancelledError) as exc:
                summary.status = "failed"
                summary.reason = f"{type(exc).__name__}: {exc}"[:1000]
                summary.duration_ms = int((time.monotonic() - t0) * 1000)
                log.exception("monitoring run for %s failed", hour_label(hour))
                try:
                    await self._finish(summary)
                except Exception:  # the database may be what failed; the lease expires on its own
                    log.exception("could not record the failed monitoring run for %s", hour_label(hour))
                raise
            summary.status = "partial" if summary.errors else "succeeded"
            summary.duration_ms = int((time.monotonic() - t0) * 1000)
            await self._finish(summary)
        log.info(
            "monitoring %s: %s, %d campaigns, %d posts updated, %d errors, %d ms",
            hour_label(hour),
            summary.status,
            summary.campaigns_checked,
            summary.posts_updated,
            summary.errors,
            summary.duration_ms,
        )
        return summary

    # ---- the hour's row -------------------------------------------------------------------------

    async def _claim(self, hour: datetime, now: datetime) -> uuid.UUID | str:
        """Claim the hour (a new row, or a failed or expired run's); returns the run id or why not."""
        lease = now + timedelta(seconds=self.settings.monitor_lease_seconds)
        table = MonitoringRun.__table__
        async with transaction(self.sessionmaker) as session:
            ins = insert(MonitoringRun).values(
                hour=hour, status="running", started_at=now, lease_until=lease, worker_id=self.worker_id, attempts=1
            )
            stmt = ins.on_conflict_do_update(
                index_elements=[MonitoringRun.hour],
                set_={
                    "status": "running",
                    "started_at": now,
                    "finished_at": None,
                    "lease_until": lease,
                    "worker_id": self.worker_id,
                    "attempts": MonitoringRun.attempts + 1,
                },
                # A crashed run (failed, or still "running" past its lease) may be re-run for its hour.
                where=(table.c.status == "failed")
                | ((table.c.status == "running") & (table.c.lease_until <= ins.excluded.started_at)),
            ).returning(MonitoringRun.id)
            run_id = await session.scalar(stmt)
            if run_id is not None:
                return run_id
            existing = await session.scalar(select(MonitoringRun).where(MonitoringRun.hour == hour))
        assert existing is not None
        if existing.status == "running":
            return f"the run for {hour_label(hour)} is running (claimed until {existing.lease_until.isoformat()})"
        return f"the run for {hour_label(hour)} is already done ({existing.status})"

    async def _finish(self, summary: RunSummary) -> None:
        async with transaction(self.sessionmaker) as session:
            run = await session.get(MonitoringRun, summary.run_id, with_for_update=True)
            assert run is not None
            run.status = summary.status
            run.finished_at = self.clock.now()
            run.campaigns_checked = summary.campaigns_checked
            run.posts_updated = summary.posts_updated
            run.errors = summary.errors
            run.duration_ms = summary.duration_ms
            run.detail = summary.detail()

    # ---- the campaigns ----------------------------------------------------------------------------

    async def _check_all(self, hour: datetime, summary: RunSummary) -> None:
        async with self.sessionmaker() as session:
            campaign_ids = list(
                (
                    await session.scalars(
                        select(Campaign.id)
                        .where(Campaign.status == "active")
                        .order_by(Campaign.created_at, Campaign.id)
                    )
                ).all()
            )
        # Accounts halted or rate limited during this run: their other posts are not called.
        stopped: set[uuid.UUID] = set()
        for campaign_id in campaign_ids:
            await self._check_campaign(campaign_id, hour, summary, stopped)
            summary.campaigns_checked += 1

    async def _check_campaign(
        self, campaign_id: uuid.UUID, hour: datetime, summary: RunSummary, stopped: set[uuid.UUID]
    ) -> None:
        async with self.sessionmaker() as session:
            rows = (
                await session.execute(
                    select(SocialPost, PlatformConnection)
                    .join(PlatformConnection, PlatformConnection.id == SocialPost.connection_id, isouter=True)
                    .where(
                        SocialPost.campaign_id == campaign_id,
                        SocialPost.status == "posted",
                        SocialPost.platform_post_id.is_not(None),
                    )
                    .order_by(SocialPost.platform, SocialPost.id)
                )
            ).all()
        if not rows:
            return
        # Platform calls happen outside any transaction (no row stays locked during a slow answer).
        reads: list[_Read] = []
        failed: list[_Failed] = []
        for post, conn in rows:
            now = self.clock.now()
            if conn is None:
                summary.skipped_posts["no_account"] += 1
                continue
            if conn.id in stopped or publishing.is_halted(conn):
                summary.skipped_posts["account_halted"] += 1
                continue
            if conn.rate_limited_until is not None and conn.rate_limited_until > now:
                summary.skipped_posts["account_rate_limited"] += 1
                continue
            try:
                creds = connections.credentials(self.settings, conn)
            except connections.TokenUnreadable as exc:
                failure = publishing.Failure("token_expired", f"{exc}; reconnect the account", "never", halt=True)
                failed.append(_Failed(post, conn, failure))
                stopped.add(conn.id)
                continue
            assert post.platform_post_id is not None
            try:
                metrics = await self.adapter_for(post.platform).fetch_metrics(creds, post.platform_post_id)
            except PlatformError as exc:
                failure = publishing.Failure.from_platform(exc, stage="metrics", unknown_before=False)
                failed.append(_Failed(post, conn, failure))
                if failure.halt or failure.retry == "wait":
                    stopped.add(conn.id)
                continue
            reads.append(_Read(post.id, post.platform, metrics))

        async with transaction(self.sessionmaker) as session:
            for f in failed:
                await self._log_failure(session, f, hour, summary)
            by_source: dict[str, list[_Read]] = defaultdict(list)
            for r in reads:
                by_source[r.platform].append(r)
            for source in sorted(by_source):
                await self._store(session, campaign_id, source, by_source[source], hour, summary)

    async def _store(
        self,
        session: AsyncSession,
        campaign_id: uuid.UUID,
        source: str,
        reads: list[_Read],
        hour: datetime,
        summary: RunSummary,
    ) -> None:
        """Store one (campaign, source)'s readings and the hour's gains, unless this hour is already stored."""
        now = self.clock.now()
        posts = {
            p.id: p
            for p in (
                await session.scalars(
                    select(SocialPost)
                    .where(SocialPost.id.in_([r.post_id for r in reads]))
                    .order_by(SocialPost.id)
                    .with_for_update()
                    .execution_options(populate_existing=True)
                )
            ).all()
        }
        gained = Numbers()
        new_readings: dict[uuid.UUID, dict[str, int]] = {}
        for r in reads:
            post = posts.get(r.post_id)
            if post is None:  # deleted since it was read
                continue
            stored = {name: getattr(post, name) for name in READINGS}
            fresh = {name: int(getattr(r.metrics, name)) for name in READINGS}
            # Only increases count; a number that went down keeps the highest reading (see module doc).
            delta = {name: max(0, fresh[name] - stored[name]) for name in READINGS}
            new_readings[post.id] = {name: stored[name] + delta[name] for name in READINGS}
            gained.add(
                Numbers(
                    views=delta["impressions"],
                    clicks=delta["clicks"],
                    likes=delta["likes"],
                    shares=delta["shares"],
                    comments=delta["comments"],
                    reach=delta["reach"],
                )
            )
        if not new_readings:
            return
        inserted = await session.scalar(
            insert(MonitoringIncrement)
            .values(
                campaign_id=campaign_id,
                source=source,
                hour=hour,
                posts=len(new_readings),
                views=gained.views,
                clicks=gained.clicks,
                likes=gained.likes,
                shares=gained.shares,
                comments=gained.comments,
                reach=gained.reach,
                recorded_at=now,
            )
            .on_conflict_do_nothing(index_elements=["campaign_id", "source", "hour"])
            .returning(MonitoringIncrement.hour)
        )
        if inserted is None:
            # An earlier attempt of this run stored this hour; what was gained since stays in the
            # difference to the stored readings and is recorded next hour.
            summary.skipped_posts["hour_already_recorded"] += len(new_readings)
            return
        for post_id, values in new_readings.items():
            for name, value in values.items():
                setattr(posts[post_id], name, value)
        summary.posts_updated += len(new_readings)
        if gained.views or gained.clicks or gained.likes or gained.shares:
            _, created = await record_performance(
                session,
                self.settings,
                campaign_id,
                PerformanceInput(
                    views=gained.views,
                    clicks=gained.clicks,
                    social_likes=gained.likes,
                    social_shares=gained.shares,
                    source=source,
                    period_start=hour - HOUR,
                    period_end=hour,
                ),
                idempotency_key=idempotency_key(source, hour),
                now=now,
            )
            summary.records += int(created)

    async def _log_failure(self, session: AsyncSession, f: _Failed, hour: datetime, summary: RunSummary) -> None:
        now = self.clock.now()
        post, failure = f.post, f.failure
        details = {
            **failure.details,
            "account_id": f.conn.account_id,
            "post_id": str(post.id),
            "platform_post_id": post.platform_post_id,
            "run_hour": hour_label(hour),
        }
        log.warning(
            "monitoring post %s on %s failed: %s (%s)",
            post.id,
            post.platform,
            failure.error_type,
            failure.details.get("platform_code"),
        )
        error = await errors.log_error(
            session,
            self.settings,
            errors.ErrorInput(
                operation_type=OPERATION,
                error_type=failure.error_type,
                error_message=failure.message[: self.settings.max_message_length]
                or f"reading {post.platform} metrics failed",
                error_details=publishing._bounded(details, self.settings.max_details_bytes),
                campaign_id=post.campaign_id,
                platform=post.platform,
                # A halt sends its own urgent notification; other errors notify once per new group.
                notify_admin=not failure.halt,
            ),
            now=now,
        )
        summary.errors += 1
        summary.error_list.append(
            {
                "campaign_id": str(post.campaign_id),
                "post_id": str(post.id),
                "platform": post.platform,
                "error_type": failure.error_type,
                "platform_code": failure.details.get("platform_code"),
                "error_id": str(error.id),
            }
        )
        if not (failure.halt or failure.retry == "wait"):
            return
        conn = await session.get(PlatformConnection, f.conn.id, with_for_update=True, populate_existing=True)
        if conn is None:
            return
        if failure.halt:
            await publishing.halt_account(session, self.settings, conn, failure, now, error_id=error.id)
            return
        wait = (
            failure.wait_seconds if failure.wait_seconds is not None else self.settings.rate_limit_default_wait_seconds
        )
        until = now + timedelta(seconds=max(wait, 1))
        if conn.rate_limited_until is None or conn.rate_limited_until < until:
            conn.rate_limited_until = until
        if not publishing.is_halted(conn):
            conn.status = "rate_limited"


# --------------------------------------------------------------------------------------------------
# reading it back


@dataclass
class CampaignMonitoring:
    campaign: Campaign
    totals: Numbers
    last_hour: Numbers
    # The hour the last-hour numbers were taken at (they happened during the hour before it).
    last_hour_at: datetime | None
    roi: Decimal | None
    performance_score: int | None
    last_updated: datetime | None
    latest_run: MonitoringRun | None


async def latest_run(session: AsyncSession) -> MonitoringRun | None:
    row: MonitoringRun | None = await session.scalar(select(MonitoringRun).order_by(MonitoringRun.hour.desc()).limit(1))
    return row


async def list_runs(session: AsyncSession, limit: int) -> list[MonitoringRun]:
    return list((await session.scalars(select(MonitoringRun).order_by(MonitoringRun.hour.desc()).limit(limit))).all())


async def campaign_monitoring(session: AsyncSession, settings: Settings, campaign_id: uuid.UUID) -> CampaignMonitoring:
    """The dashboard's numbers: the posts' totals, what the last monitored hour added, ROI and score."""
    campaign = await campaigns.get_campaign(session, campaign_id)
    S = SocialPost
    t = (
        await session.execute(
            select(
                func.coalesce(func.sum(S.impressions), 0),
                func.coalesce(func.sum(S.clicks), 0),
                func.coalesce(func.sum(S.likes), 0),
                func.coalesce(func.sum(S.shares), 0),
                func.coalesce(func.sum(S.comments), 0),
                func.coalesce(func.sum(S.reach), 0),
            ).where(S.campaign_id == campaign_id)
        )
    ).one()
    totals = Numbers(*(int(v) for v in t))
    M = MonitoringIncrement
    last_at, last_updated = (
        await session.execute(select(func.max(M.hour), func.max(M.recorded_at)).where(M.campaign_id == campaign_id))
    ).one()
    last_hour = Numbers()
    if last_at is not None:
        h = (
            await session.execute(
                select(
                    func.sum(M.views),
                    func.sum(M.clicks),
                    func.sum(M.likes),
                    func.sum(M.shares),
                    func.sum(M.comments),
                    func.sum(M.reach),
                ).where(M.campaign_id == campaign_id, M.hour == last_at)
            )
        ).one()
        last_hour = Numbers(*(int(v) for v in h))
    derived = (await analytics.campaign_analytics(session, score_rules(settings), campaign_id)).total.derived
    return CampaignMonitoring(
        campaign=campaign,
        totals=totals,
        last_hour=last_hour,
        last_hour_at=last_at,
        roi=derived.roi,
        performance_score=derived.performance_score,
        last_updated=last_updated,
        latest_run=await latest_run(session),
    )


async def check_can_run(session: AsyncSession, settings: Settings, now: datetime) -> datetime:
    """The hour a run started now would monitor; Conflict when that hour is done or being done."""
    hour = run_hour(now, settings)
    run = await session.scalar(select(MonitoringRun).where(MonitoringRun.hour == hour))
    if run is None or run.status == "failed" or (run.status == "running" and run.lease_until <= now):
        return hour
    nxt = hour_label(hour + HOUR)
    if run.status == "running":
        raise Conflict(f"the monitoring run for {hour_label(hour)} is running right now")
    raise Conflict(
        f"the monitoring run for {hour_label(hour)} already finished ({run.status}); the next one is at {nxt}"
    )
