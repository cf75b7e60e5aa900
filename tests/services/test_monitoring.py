"""Hourly monitoring against the fake platforms, real PostgreSQL, and a ManualClock for the hours."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from app.clock import ManualClock
from app.database import transaction
from app.models import (
    ErrorGroup,
    MonitoringIncrement,
    MonitoringRun,
    Notification,
    OperationError,
    PerformanceRecord,
    SocialPost,
)
from app.platforms.base import AccountCredentials, Platform, PlatformAdapter, PostMetrics
from app.platforms.facebook import INSIGHT_METRICS
from app.platforms.registry import build_http_client
from app.runtime import Runtime
from app.services import analytics, monitoring
from app.services.performance import score_rules
from app.settings import Settings
from jobs.publishing import adapter_factory
from tests.fake_platforms import FakePlatforms, Respond
from tests.publishing import ACCOUNTS, fake_settings, load_connection, new_campaign, new_connection
from tests.services.test_publishing import FB_TOKEN_EXPIRED

HOUR = timedelta(hours=1)
T0 = datetime(2026, 12, 2, 10, 0, 5, tzinfo=UTC)
X_500 = Respond(
    503, {}, {"title": "Service Unavailable", "detail": "Service Unavailable", "type": "about:blank", "status": 503}
)


@pytest.fixture(scope="module")
def fake() -> Iterator[FakePlatforms]:
    with FakePlatforms() as server:
        yield server


@pytest.fixture(autouse=True)
def clean_fake(fake: FakePlatforms) -> None:
    fake.reset()


@pytest.fixture
def msettings(settings: Settings, fake: FakePlatforms) -> Settings:
    return fake_settings(settings, fake)


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with build_http_client(connect_timeout=2, read_timeout=2) as c:
        yield c


def monitor(
    runtime: Runtime, settings: Settings, http: httpx.AsyncClient, clock: ManualClock, **kw: Any
) -> monitoring.Monitor:
    return monitoring.Monitor(
        settings=settings,
        sessionmaker=runtime.sessionmaker,
        adapter_for=kw.pop("adapter_for", None) or adapter_factory(settings, http),
        clock=clock,
        **kw,
    )


async def posted(
    runtime: Runtime, fake: FakePlatforms, campaign_id: uuid.UUID, connection_id: uuid.UUID, platform: Platform
) -> tuple[uuid.UUID, str]:
    """A post published on the fake platform and tracked as posted; returns (post id, platform post id)."""
    account = ACCOUNTS[platform]
    if platform is Platform.LINKEDIN:
        account = f"urn:li:organization:{account}"
    remote = fake.add_post(platform, account, f"Tallinn music week {uuid.uuid4().hex[:6]}")
    async with transaction(runtime.sessionmaker) as s:
        post = SocialPost(
            campaign_id=campaign_id,
            platform=str(platform),
            connection_id=connection_id,
            content=remote.text,
            status="posted",
            platform_post_id=remote.post_id,
            posted_at=T0 - 2 * HOUR,
        )
        s.add(post)
        await s.flush()
        return post.id, remote.post_id


async def records(runtime: Runtime, campaign_id: uuid.UUID, source: str | None = None) -> list[PerformanceRecord]:
    async with runtime.sessionmaker() as s:
        stmt = select(PerformanceRecord).where(PerformanceRecord.campaign_id == campaign_id)
        if source is not None:
            stmt = stmt.where(PerformanceRecord.source == source)
        return list((await s.scalars(stmt.order_by(PerformanceRecord.period_start))).all())


async def load(runtime: Runtime, post_id: uuid.UUID) -> SocialPost:
    async with runtime.sessionmaker() as s:
        post = await s.get(SocialPost, post_id)
        assert post is not None
        return post


async def count(runtime: Runtime, model: type, *where: Any) -> int:
    async with runtime.sessionmaker() as s:
        return int(await s.scalar(select(func.count()).select_from(model).where(*where)) or 0)  # type: ignore[arg-type]


def sums(rows: list[PerformanceRecord]) -> tuple[int, int, int, int]:
    return (
        sum(r.views for r in rows),
        sum(r.clicks for r in rows),
        sum(r.social_likes for r in rows),
        sum(r.social_shares for r in rows),
    )


async def portfolio(runtime: Runtime, fake: FakePlatforms) -> dict[str, Any]:
    """Two active campaigns: A on Facebook (two posts) and X, B on LinkedIn; a paused one is left alone."""
    conns = {p: await new_connection(runtime, p) for p in (Platform.FACEBOOK, Platform.X, Platform.LINKEDIN)}
    a = await new_campaign(runtime, "A")
    b = await new_campaign(runtime, "B")
    paused = await new_campaign(runtime, "paused")
    async with transaction(runtime.sessionmaker) as s:
        from app.models import Campaign

        c = await s.get(Campaign, paused)
        assert c is not None
        c.status = "paused"
    posts = {
        "fb1": await posted(runtime, fake, a, conns[Platform.FACEBOOK], Platform.FACEBOOK),
        "fb2": await posted(runtime, fake, a, conns[Platform.FACEBOOK], Platform.FACEBOOK),
        "x": await posted(runtime, fake, a, conns[Platform.X], Platform.X),
        "li": await posted(runtime, fake, b, conns[Platform.LINKEDIN], Platform.LINKEDIN),
        "paused": await posted(runtime, fake, paused, conns[Platform.X], Platform.X),
    }
    return {"a": a, "b": b, "paused": paused, "conns": conns, "posts": posts}


async def test_three_hourly_runs_record_increments_that_sum_to_the_platforms_final_numbers(
    runtime: Runtime, msettings: Settings, fake: FakePlatforms, http: httpx.AsyncClient
) -> None:
    p = await portfolio(runtime, fake)
    fb1, fb2, x, li = (p["posts"][k][1] for k in ("fb1", "fb2", "x", "li"))
    clock = ManualClock(T0)
    m = monitor(runtime, msettings, http, clock)
    readings = [
        {fb1: (1000, 30, 40, 5), fb2: (200, 2, 10, 0), x: (5000, 0, 100, 12), li: (300, 9, 7, 1)},
        {fb1: (1500, 45, 52, 6), fb2: (200, 2, 10, 0), x: (9000, 0, 180, 20), li: (800, 20, 9, 1)},
        {fb1: (2600, 70, 61, 9), fb2: (260, 3, 11, 2), x: (9500, 0, 181, 25), li: (1000, 31, 12, 4)},
    ]
    summaries = []
    for hour, reading in enumerate(readings):
        for post_id, (views, clicks, likes, shares) in reading.items():
            fake.set_metrics(post_id, impressions=views, clicks=clicks, likes=likes, shares=shares, comments=hour)
        summaries.append(await m.run())
        clock.advance(HOUR)

    assert [s.status for s in summaries] == ["succeeded"] * 3
    assert [(s.campaigns_checked, s.posts_updated, s.errors) for s in summaries] == [(2, 4, 0)] * 3
    final = readings[-1]
    # Three records per (campaign, source), one per hour that ended, summing to the final numbers.
    for campaign, source, post_ids in (
        (p["a"], "facebook", [fb1, fb2]),
        (p["a"], "x", [x]),
        (p["b"], "linkedin", [li]),
    ):
        rows = await records(runtime, campaign, source)
        assert [r.period_start for r in rows] == [datetime(2026, 12, 2, h, tzinfo=UTC) for h in (9, 10, 11)]
        assert [r.period_end - r.period_start for r in rows] == [HOUR] * 3
        assert [r.idempotency_key for r in rows] == [f"monitor:{source}:2026-12-02T{h}:00Z" for h in (10, 11, 12)]
        expected = tuple(sum(final[pid][i] for pid in post_ids) for i in range(4))
        assert sums(rows) == expected
    # X counts no clicks (public metrics), so its CTR is 0 but defined; records carry derived values.
    first_x = (await records(runtime, p["a"], "x"))[0]
    assert (first_x.views, first_x.social_likes, first_x.ctr) == (5000, 100, 0)
    # The post rows hold the latest readings.
    post = await load(runtime, p["posts"]["fb1"][0])
    assert (post.impressions, post.clicks, post.likes, post.shares, post.comments) == (2600, 70, 61, 9, 2)
    assert post.engagement == 61 + 2 + 9 + 70
    # Analytics (rollups) agree with the platform's numbers.
    async with runtime.sessionmaker() as s:
        total = (await analytics.campaign_analytics(s, score_rules(msettings), p["a"])).total
    assert (total.total_views, total.total_clicks, total.total_social_likes, total.total_social_shares) == (
        2600 + 260 + 9500,
        70 + 3,
        61 + 11 + 181,
        9 + 2 + 25,
    )
    # The paused campaign was never read or recorded.
    assert await records(runtime, p["paused"]) == []
    assert not [r for r in fake.requests if p["posts"]["paused"][1] in r.path]
    async with runtime.sessionmaker() as s:
        runs = list((await s.scalars(select(MonitoringRun).order_by(MonitoringRun.hour))).all())
    assert [(r.hour.hour, r.status, r.campaigns_checked, r.posts_updated, r.errors) for r in runs] == [
        (10, "succeeded", 2, 4, 0),
        (11, "succeeded", 2, 4, 0),
        (12, "succeeded", 2, 4, 0),
    ]
    assert all(r.duration_ms is not None and r.finished_at is not None for r in runs)


async def test_facebook_insights_ask_only_current_metric_names_and_the_fake_rejects_retired_ones(
    runtime: Runtime, msettings: Settings, fake: FakePlatforms, http: httpx.AsyncClient
) -> None:
    p = await portfolio(runtime, fake)
    fb1 = p["posts"]["fb1"][1]
    fake.set_metrics(fb1, impressions=10)
    await monitor(runtime, msettings, http, ManualClock(T0)).run()
    asked = {r.query["metric"] for r in fake.requests if r.path.endswith("/insights")}
    assert asked == {"post_media_view,post_total_media_view_unique,post_reactions_by_type_total,post_clicks"}
    assert set(INSIGHT_METRICS) == {
        "post_media_view",
        "post_total_media_view_unique",
        "post_reactions_by_type_total",
        "post_clicks",
    }
    # One retired name among valid ones fails the whole request, as the Graph API does.
    reply = await http.get(
        f"{fake.base_urls[Platform.FACEBOOK]}/{fb1}/insights",
        params={"metric": "post_media_view,post_impressions", "period": "lifetime"},
        headers={"Authorization": "Bearer token"},
    )
    assert reply.status_code == 400
    error = reply.json()["error"]
    assert error["code"] == 100 and "post_impressions" in error["message"]


async def test_a_number_that_goes_down_records_zero_and_is_not_counted_again(
    runtime: Runtime, msettings: Settings, fake: FakePlatforms, http: httpx.AsyncClient
) -> None:
    p = await portfolio(runtime, fake)
    x_post, x = p["posts"]["x"]
    clock = ManualClock(T0)
    m = monitor(runtime, msettings, http, clock)
    for likes in (50, 45, 50, 60):
        fake.set_metrics(x, impressions=1000, likes=likes)
        await m.run()
        clock.advance(HOUR)
    rows = await records(runtime, p["a"], "x")
    # 50, then a drop (nothing: no record at all, since nothing grew), back to 50 (nothing), then +10.
    assert [(r.views, r.social_likes) for r in rows] == [(1000, 50), (0, 10)]
    assert (await load(runtime, x_post)).likes == 60


async def test_a_crashed_run_is_rerun_for_its_hour_without_recording_anything_twice(
    runtime: Runtime, msettings: Settings, fake: FakePlatforms, http: httpx.AsyncClient
) -> None:
    p = await portfolio(runtime, fake)
    fb1, li = p["posts"]["fb1"][1], p["posts"]["li"][1]
    clock = ManualClock(T0)
    real = adapter_factory(msettings, http)
    crash = {"on": True}

    class Broken:
        """LinkedIn reads crash the run (a bug, the database going away ...) while crash["on"]."""

        def __init__(self, inner: PlatformAdapter) -> None:
            self.inner = inner

        async def fetch_metrics(self, creds: AccountCredentials, post_id: str) -> PostMetrics:
            if crash["on"]:
                raise RuntimeError("the run broke")
            return await self.inner.fetch_metrics(creds, post_id)

    def adapter_for(platform: str) -> Any:
        return Broken(real(platform)) if platform == "linkedin" else real(platform)

    m = monitor(runtime, msettings, http, clock, adapter_for=adapter_for)
    fake.set_metrics(fb1, impressions=1000, likes=10)
    fake.set_metrics(li, impressions=300, likes=3)
    with pytest.raises(RuntimeError):
        await m.run()
    async with runtime.sessionmaker() as s:
        run = await s.scalar(select(MonitoringRun))
        assert run is not None
        assert (run.status, run.attempts, run.campaigns_checked) == ("failed", 1, 1)
        assert "the run broke" in run.detail["reason"]
    assert sums(await records(runtime, p["a"], "facebook")) == (1000, 0, 10, 0)
    assert await records(runtime, p["b"]) == []

    # The retry, later in the same hour: Facebook has grown since. Campaign A's hour is already recorded,
    # so nothing is added to it (the growth goes to the next hour); B is recorded now.
    clock.advance(timedelta(minutes=1))
    crash["on"] = False
    fake.set_metrics(fb1, impressions=1200, likes=12)
    summary = await m.run()
    assert (summary.status, summary.posts_updated, summary.skipped_posts["hour_already_recorded"]) == (
        "succeeded",
        1,
        3,
    )
    assert [(r.views, r.social_likes) for r in await records(runtime, p["a"], "facebook")] == [(1000, 10)]
    assert [(r.views, r.social_likes) for r in await records(runtime, p["b"], "linkedin")] == [(300, 3)]
    async with runtime.sessionmaker() as s:
        run = await s.scalar(select(MonitoringRun))
        assert run is not None and (run.status, run.attempts) == ("succeeded", 2)
    # Done is done: a third run in the same hour does nothing.
    again = await m.run()
    assert again.status == "skipped" and "already done" in again.reason

    clock.advance(HOUR)
    await m.run()
    assert [(r.views, r.social_likes) for r in await records(runtime, p["a"], "facebook")] == [(1000, 10), (200, 2)]


class ProcessDeath(BaseException):
    """Stands for the worker process dying mid-run: nothing after it runs in this process."""


async def test_a_run_whose_worker_died_is_taken_over_once_its_lease_has_passed(
    runtime: Runtime, msettings: Settings, fake: FakePlatforms, http: httpx.AsyncClient
) -> None:
    p = await portfolio(runtime, fake)
    fake.set_metrics(p["posts"]["li"][1], impressions=300)
    clock = ManualClock(T0)
    real = adapter_factory(msettings, http)

    class Dies:
        async def fetch_metrics(self, creds: AccountCredentials, post_id: str) -> PostMetrics:
            raise ProcessDeath()

    dying = monitor(runtime, msettings, http, clock, adapter_for=lambda pl: Dies() if pl == "linkedin" else real(pl))
    with pytest.raises(ProcessDeath):
        await dying.run()
    async with runtime.sessionmaker() as s:
        run = await s.scalar(select(MonitoringRun))
        assert run is not None and run.status == "running"
        lease = run.lease_until
    assert lease == T0 + timedelta(seconds=msettings.monitor_lease_seconds)

    m = monitor(runtime, msettings, http, clock)
    clock.advance(timedelta(seconds=msettings.monitor_lease_seconds - 1))
    early = await m.run()
    assert early.status == "skipped" and "is running" in early.reason
    clock.advance(timedelta(seconds=1))
    summary = await m.run()
    assert summary.status == "succeeded"
    assert [r.views for r in await records(runtime, p["b"])] == [300]
    async with runtime.sessionmaker() as s:
        run = await s.scalar(select(MonitoringRun))
        assert run is not None and (run.status, run.attempts) == ("succeeded", 2)


async def test_overlapping_runs_cannot_both_write(
    runtime: Runtime, msettings: Settings, fake: FakePlatforms, http: httpx.AsyncClient
) -> None:
    p = await portfolio(runtime, fake)
    fake.set_metrics(p["posts"]["x"][1], impressions=700)
    real = adapter_factory(msettings, http)
    inside, release = asyncio.Event(), asyncio.Event()

    class Slow:
        def __init__(self, inner: PlatformAdapter) -> None:
            self.inner = inner

        async def fetch_metrics(self, creds: AccountCredentials, post_id: str) -> PostMetrics:
            inside.set()
            await release.wait()
            return await self.inner.fetch_metrics(creds, post_id)

    clock = ManualClock(T0)
    first = asyncio.create_task(monitor(runtime, msettings, http, clock, adapter_for=lambda pl: Slow(real(pl))).run())
    await asyncio.wait_for(inside.wait(), 10)
    # Another worker's run of the same hour, and one of the next hour (a late tick), both stay out.
    second = await monitor(runtime, msettings, http, clock).run()
    later = await monitor(runtime, msettings, http, ManualClock(T0 + HOUR)).run()
    release.set()
    done = await asyncio.wait_for(first, 10)
    assert (second.status, second.reason) == ("skipped", "another monitoring run is in progress")
    assert later.status == "skipped"
    assert done.status == "succeeded"
    assert [r.views for r in await records(runtime, p["a"], "x")] == [700]
    assert await count(runtime, MonitoringRun) == 1


async def test_a_platform_failing_logs_one_grouped_error_and_the_other_campaigns_are_updated(
    runtime: Runtime, msettings: Settings, fake: FakePlatforms, http: httpx.AsyncClient
) -> None:
    p = await portfolio(runtime, fake)
    x_conn = p["conns"][Platform.X]
    # A second X post in campaign A: two failing reads per run.
    x2 = await posted(runtime, fake, p["a"], x_conn, Platform.X)
    for key in ("fb1", "li"):
        fake.set_metrics(p["posts"][key][1], impressions=100)
    fake.fail_times(Platform.X, "metrics", 4, X_500)
    clock = ManualClock(T0)
    m = monitor(runtime, msettings, http, clock)

    first = await m.run()
    assert (first.status, first.campaigns_checked, first.errors, first.posts_updated) == ("partial", 2, 2, 3)
    assert [r.views for r in await records(runtime, p["a"], "facebook")] == [100]
    assert [r.views for r in await records(runtime, p["b"], "linkedin")] == [100]
    assert await records(runtime, p["a"], "x") == []
    async with runtime.sessionmaker() as s:
        groups = list((await s.scalars(select(ErrorGroup))).all())
        assert len(groups) == 1
        g = groups[0]
        assert (g.operation_type, g.error_type, g.platform, g.account_id, g.error_code, g.count) == (
            "monitoring",
            "api_error",
            "x",
            ACCOUNTS[Platform.X],
            "http-503",
            2,
        )
        error = await s.scalar(select(OperationError).where(OperationError.group_id == g.id).limit(1))
        assert error is not None and error.campaign_id == p["a"]
        assert error.error_details["stage"] == "metrics"
        assert error.error_details["post_id"] in {str(p["posts"]["x"][0]), str(x2[0])}
        run = await s.scalar(select(MonitoringRun))
        assert run is not None and (run.status, run.errors) == ("partial", 2)
        assert {e["platform"] for e in run.detail["errors"]} == {"x"}
        # One notification for the new group, not one per failure.
        assert await s.scalar(select(func.count()).select_from(Notification)) == 1

    clock.advance(HOUR)
    await m.run()
    async with runtime.sessionmaker() as s:
        assert await s.scalar(select(func.count()).select_from(ErrorGroup)) == 1
        assert await s.scalar(select(ErrorGroup.count)) == 4
        assert await s.scalar(select(func.count()).select_from(Notification)) == 1

    # X recovers: its whole gain so far lands in the hour it is first read.
    fake.set_metrics(p["posts"]["x"][1], impressions=900)
    clock.advance(HOUR)
    assert (await m.run()).status == "succeeded"
    assert [r.views for r in await records(runtime, p["a"], "x")] == [900]


async def test_an_expired_token_halts_the_account_like_posting_and_its_posts_are_not_read(
    runtime: Runtime, msettings: Settings, fake: FakePlatforms, http: httpx.AsyncClient
) -> None:
    p = await portfolio(runtime, fake)
    fake.set_metrics(p["posts"]["x"][1], impressions=50)
    fake.script(Platform.FACEBOOK, "metrics", FB_TOKEN_EXPIRED)
    clock = ManualClock(T0)
    summary = await monitor(runtime, msettings, http, clock).run()
    assert (summary.errors, summary.skipped_posts["account_halted"]) == (1, 1)
    conn = await load_connection(runtime, p["conns"][Platform.FACEBOOK])
    assert conn.status == "expired" and conn.halted_at == T0
    async with runtime.sessionmaker() as s:
        titles = list((await s.scalars(select(Notification.title))).all())
    assert titles == ["URGENT: Facebook token expired"]
    assert [r.views for r in await records(runtime, p["a"], "x")] == [50]
    # The next hour the halted account is not called at all.
    before = len([r for r in fake.requests if r.platform is Platform.FACEBOOK])
    clock.advance(HOUR)
    assert (await monitor(runtime, msettings, http, clock).run()).skipped_posts["account_halted"] == 2
    assert len([r for r in fake.requests if r.platform is Platform.FACEBOOK]) == before


async def test_a_rate_limit_makes_the_account_wait(
    runtime: Runtime, msettings: Settings, fake: FakePlatforms, http: httpx.AsyncClient
) -> None:
    p = await portfolio(runtime, fake)
    reset = int((T0 + timedelta(minutes=30)).timestamp())
    fake.script(
        Platform.X,
        "metrics",
        Respond(
            429,
            {"x-rate-limit-reset": str(reset), "x-rate-limit-remaining": "0"},
            {"title": "Too Many Requests", "detail": "Too Many Requests", "type": "about:blank", "status": 429},
        ),
    )
    clock = ManualClock(T0)
    summary = await monitor(runtime, msettings, http, clock).run()
    assert summary.errors == 1
    conn = await load_connection(runtime, p["conns"][Platform.X])
    assert conn.status == "rate_limited" and conn.rate_limited_until is not None
    assert conn.rate_limited_until > T0


async def test_campaign_monitoring_numbers(
    runtime: Runtime, msettings: Settings, fake: FakePlatforms, http: httpx.AsyncClient
) -> None:
    p = await portfolio(runtime, fake)
    fb1 = p["posts"]["fb1"][1]
    clock = ManualClock(T0)
    m = monitor(runtime, msettings, http, clock)
    fake.set_metrics(fb1, impressions=14_500, likes=40, comments=3, reach=9000)
    await m.run()
    clock.advance(HOUR)
    fake.set_metrics(fb1, impressions=15_000, likes=42, comments=5, reach=9100)
    await m.run()
    async with runtime.sessionmaker() as s:
        view = await monitoring.campaign_monitoring(s, msettings, p["a"])
    assert view.totals == monitoring.Numbers(views=15_000, clicks=0, likes=42, shares=0, comments=5, reach=9100)
    assert view.last_hour == monitoring.Numbers(views=500, clicks=0, likes=2, shares=0, comments=2, reach=100)
    assert view.last_hour_at == datetime(2026, 12, 2, 11, tzinfo=UTC)
    assert view.last_updated == T0 + HOUR
    assert view.latest_run is not None and view.latest_run.hour == datetime(2026, 12, 2, 11, tzinfo=UTC)
    assert view.roi is None  # nothing spent
    async with runtime.sessionmaker() as s:
        incs = await s.scalar(select(func.count()).select_from(MonitoringIncrement))
    assert incs == 2 * 3  # two hours × (A facebook, A x, B linkedin)


async def test_a_late_start_still_counts_for_its_ticks_hour(
    runtime: Runtime, msettings: Settings, fake: FakePlatforms, http: httpx.AsyncClient
) -> None:
    await portfolio(runtime, fake)
    late = msettings.model_copy(update={"monitor_minute": 59})
    tick = datetime(2026, 12, 2, 10, 59, tzinfo=UTC)
    first = await monitor(runtime, late, http, ManualClock(tick + timedelta(minutes=1, seconds=10))).run()
    assert (first.status, first.hour) == ("succeeded", datetime(2026, 12, 2, 10, tzinfo=UTC))
    # The same tick's duplicate, later still, is the same hour; the next tick is the next hour.
    assert (await monitor(runtime, late, http, ManualClock(tick + timedelta(minutes=5))).run()).status == "skipped"
    nxt = await monitor(runtime, late, http, ManualClock(tick + HOUR)).run()
    assert (nxt.status, nxt.hour) == ("succeeded", datetime(2026, 12, 2, 11, tzinfo=UTC))
