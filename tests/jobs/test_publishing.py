"""publish_post end to end: real arq workers, real Redis and PostgreSQL, the fake platforms.

Backoff waits are hours long. The workers get a ManualClock in their ctx; a test checks where arq holds
the next attempt (its score in the queue = the deferral), advances the clock by that wait and makes the
job due now instead of sleeping.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
from arq.jobs import Job
from arq.worker import Worker
from sqlalchemy import select

from app.clock import ManualClock
from app.models import Notification
from app.platforms.base import Platform
from app.runtime import Endpoints, Runtime
from app.settings import Settings
from jobs.worker import build_worker
from tests.conftest import GraphQLClient
from tests.fake_platforms import DropAfterAccept, FakePlatforms
from tests.publishing import (
    fake_settings,
    load_connection,
    load_post,
    new_campaign,
    new_connection,
    new_post,
    outbox_jobs,
    queue_now,
)
from tests.services.test_publishing import FB_TOKEN_EXPIRED, TRANSIENT_500

HOUR = timedelta(hours=1)


@pytest.fixture(scope="module")
def fake() -> Iterator[FakePlatforms]:
    with FakePlatforms() as server:
        yield server


@pytest.fixture(autouse=True)
def clean_fake(fake: FakePlatforms) -> None:
    fake.reset()


@pytest.fixture
def wsettings(settings: Settings, fake: FakePlatforms) -> Settings:
    return fake_settings(settings, fake)


def worker(settings: Settings, endpoints: Endpoints, clock: ManualClock, max_jobs: int = 10) -> Worker:
    return build_worker(
        settings,
        endpoints,
        handle_signals=False,
        poll_delay=0.05,
        max_jobs=max_jobs,
        cron_jobs=[],
        ctx={"clock": clock},
    )


async def run(
    settings: Settings, endpoints: Endpoints, clock: ManualClock, jobs: int = 1, max_jobs: int = 10
) -> Worker:
    """Run a real worker until it has finished `jobs` jobs (each must be due), then stop it.

    Not burst mode: a burst worker waits for an empty queue, and the retries this pipeline defers by
    hours stay queued. (arq's max_burst_jobs miscounts jobs finished between two polls.)
    """
    w = worker(settings, endpoints, clock, max_jobs)
    task = asyncio.create_task(w.main())
    try:
        async with asyncio.timeout(30):
            # Until the jobs are counted and their tasks (which store the results) have ended.
            while w.jobs_complete + w.jobs_failed < jobs or not all(t.done() for t in w.tasks.values()):
                if task.done():
                    task.result()
                await asyncio.sleep(0.02)
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await w.close()
    assert (w.jobs_complete, w.jobs_failed) == (jobs, 0)
    return w


async def next_job(runtime: Runtime, post_id: object) -> tuple[str, datetime]:
    """The post's newest queued job (after relaying the outbox) and when arq will run it."""
    await runtime.relay_outbox()
    row = (await outbox_jobs(runtime, post_id))[-1]
    score = await runtime.redis.zscore(runtime.queue_name, row.job_id)
    assert score is not None, f"{row.job_id} is not in the arq queue"
    return row.job_id, datetime.fromtimestamp(score / 1000, tz=row.created_at.tzinfo)


async def make_due(runtime: Runtime, job_id: str) -> None:
    """What waiting would do: arq runs a job once its score (ms) is not in the future."""
    now_ms = int((await runtime.redis.time())[0] * 1000)
    assert await runtime.redis.zadd(runtime.queue_name, {job_id: now_ms}, xx=True, ch=True) == 1


async def job_result(runtime: Runtime, job_id: str) -> dict[str, object]:
    result = await Job(job_id, runtime.redis, _queue_name=runtime.queue_name).result(timeout=5)
    assert isinstance(result, dict)
    return result


async def urgent(runtime: Runtime) -> list[Notification]:
    async with runtime.sessionmaker() as s:
        rows = await s.scalars(select(Notification).where(Notification.severity == "urgent").order_by(Notification.id))
        return list(rows.all())


def close_to(a: datetime, b: datetime) -> bool:
    return abs((a - b).total_seconds()) < 0.01


async def test_two_transient_failures_then_posted_once(
    runtime: Runtime, wsettings: Settings, endpoints: Endpoints, fake: FakePlatforms
) -> None:
    clock = ManualClock()
    await new_connection(runtime)
    post_id = await new_post(runtime, await new_campaign(runtime))
    await queue_now(runtime, post_id, clock)
    fake.fail_times(Platform.FACEBOOK, "publish", 2, TRANSIENT_500)
    await runtime.relay_outbox()

    await run(wsettings, endpoints, clock)
    job, at = await next_job(runtime, post_id)
    assert close_to(at, clock.now() + HOUR)  # retry 1 after 1 h
    clock.advance(HOUR)
    await make_due(runtime, job)
    await run(wsettings, endpoints, clock)
    job, at = await next_job(runtime, post_id)
    assert close_to(at, clock.now() + 2 * HOUR)  # retry 2 after 2 h
    clock.advance(2 * HOUR)
    await make_due(runtime, job)
    await run(wsettings, endpoints, clock)

    assert (await job_result(runtime, job))["outcome"] == "posted"
    post = await load_post(runtime, post_id)
    assert (post.status, post.retry_count) == ("posted", 2)
    assert post.platform_post_id == fake.posts(Platform.FACEBOOK)[0].post_id
    assert fake.publish_count(Platform.FACEBOOK) == 1 and fake.publish_attempts[Platform.FACEBOOK] == 3


async def test_always_failing_post_fails_after_3_retries_with_one_urgent_notification(
    runtime: Runtime, wsettings: Settings, endpoints: Endpoints, fake: FakePlatforms
) -> None:
    clock = ManualClock()
    await new_connection(runtime)
    post_id = await new_post(runtime, await new_campaign(runtime))
    await queue_now(runtime, post_id, clock)
    fake.fail_times(Platform.FACEBOOK, "publish", 10, TRANSIENT_500)
    await runtime.relay_outbox()
    await run(wsettings, endpoints, clock)
    for wait in (1, 2, 4):
        job, at = await next_job(runtime, post_id)
        assert close_to(at, clock.now() + wait * HOUR)
        clock.advance(wait * HOUR)
        await make_due(runtime, job)
        await run(wsettings, endpoints, clock)

    assert (await job_result(runtime, job))["outcome"] == "failed"
    post = await load_post(runtime, post_id)
    assert (post.status, post.retry_count, post.error_type) == ("failed", 4, "api_error")
    assert fake.publish_attempts[Platform.FACEBOOK] == 4
    notes = await urgent(runtime)
    assert len(notes) == 1 and notes[0].data["post_id"] == str(post_id)
    await runtime.relay_outbox()
    assert await runtime.redis.zcard(runtime.queue_name) == 0  # nothing more queued


async def test_expired_token_blocks_the_account_and_reconnect_resumes(
    runtime: Runtime, wsettings: Settings, endpoints: Endpoints, fake: FakePlatforms, gql: GraphQLClient
) -> None:
    clock = ManualClock()
    fb = await new_connection(runtime, Platform.FACEBOOK, token="old-token")
    await new_connection(runtime, Platform.X)
    campaigns = [await new_campaign(runtime, "one"), await new_campaign(runtime, "two")]
    fb_posts = [await new_post(runtime, c) for c in campaigns]
    x_post = await new_post(runtime, campaigns[0], Platform.X)
    for p in [*fb_posts, x_post]:
        await queue_now(runtime, p, clock)
    fake.script(Platform.FACEBOOK, "publish", FB_TOKEN_EXPIRED)
    await runtime.relay_outbox()

    # One job at a time: the fake expires the token for one request only (the service tests cover
    # failures racing against one account).
    await run(wsettings, endpoints, clock, jobs=3, max_jobs=1)
    assert [(await load_post(runtime, p)).status for p in fb_posts] == ["blocked", "blocked"]
    xp = await load_post(runtime, x_post)
    assert xp.status == "posted", (xp.status, xp.error_message, xp.next_attempt_at)  # X keeps posting
    assert (await load_connection(runtime, fb)).status == "expired"
    assert fake.publish_attempts[Platform.FACEBOOK] == 1
    notes = await urgent(runtime)
    assert len(notes) == 1
    assert notes[0].action == "Reconnect Facebook"
    assert (notes[0].data["campaigns_affected"], notes[0].data["posts_affected"]) == (2, 2)

    reconnect = """mutation($t: String!) { reconnectPlatform(input: {platform: "facebook", accessToken: $t})
      { requeuedPosts connection { status haltedAt hasToken } } }"""
    result = (await gql.ok(reconnect, {"t": "new-token"}))["reconnectPlatform"]
    assert result == {"requeuedPosts": 2, "connection": {"status": "CONNECTED", "haltedAt": None, "hasToken": True}}
    await runtime.relay_outbox()
    clock.advance(timedelta(minutes=1))  # the API stamped the posts due by the real clock, a moment ago
    await run(wsettings, endpoints, clock, jobs=2)
    assert [(await load_post(runtime, p)).status for p in fb_posts] == ["posted", "posted"]
    assert [(await load_post(runtime, p)).retry_count for p in fb_posts] == [0, 0]
    assert fake.publish_count(Platform.FACEBOOK) == 2
    assert len(await urgent(runtime)) == 1


async def test_a_lost_answer_is_not_published_twice(
    runtime: Runtime, wsettings: Settings, endpoints: Endpoints, fake: FakePlatforms
) -> None:
    clock = ManualClock()
    await new_connection(runtime, Platform.LINKEDIN)
    post_id = await new_post(runtime, await new_campaign(runtime), Platform.LINKEDIN)
    await queue_now(runtime, post_id, clock)
    fake.script(Platform.LINKEDIN, "publish", DropAfterAccept())
    await runtime.relay_outbox()
    await run(wsettings, endpoints, clock)
    assert (await load_post(runtime, post_id)).outcome_unknown is True
    job, _ = await next_job(runtime, post_id)
    clock.advance(HOUR)
    await make_due(runtime, job)
    await run(wsettings, endpoints, clock)
    assert (await job_result(runtime, job))["outcome"] == "found"
    post = await load_post(runtime, post_id)
    assert post.status == "posted" and post.platform_post_id == fake.posts(Platform.LINKEDIN)[0].post_id
    assert fake.publish_count(Platform.LINKEDIN) == 1 and fake.publish_attempts[Platform.LINKEDIN] == 1


async def test_two_workers_racing_publish_a_post_once(
    runtime: Runtime, wsettings: Settings, endpoints: Endpoints, fake: FakePlatforms
) -> None:
    clock = ManualClock()
    await new_connection(runtime, Platform.X)
    campaign = await new_campaign(runtime)
    posts = [await new_post(runtime, campaign, Platform.X) for _ in range(3)]
    job_ids: list[str] = []
    for p in posts:
        await queue_now(runtime, p, clock)
        # A second job for the same post (a duplicate publishPost, a re-queue): different arq jobs.
        for n in range(2):
            dup = await runtime.enqueue("publish_post", str(p), _job_id=f"dup:{p}:{n}")
            assert dup is not None
            job_ids.append(dup.job_id)
    await runtime.relay_outbox()
    job_ids += [(await outbox_jobs(runtime, p))[-1].job_id for p in posts]

    a, b = worker(wsettings, endpoints, clock), worker(wsettings, endpoints, clock)
    # Burst workers: they stop when the queue is empty, i.e. when all nine jobs ran.
    a.burst = b.burst = True
    try:
        await asyncio.wait_for(asyncio.gather(a.main(), b.main()), timeout=30)
    finally:
        await asyncio.gather(a.close(), b.close())
    assert a.jobs_complete + b.jobs_complete == 9 and a.jobs_failed == b.jobs_failed == 0
    outcomes = sorted([str((await job_result(runtime, j))["outcome"]) for j in job_ids])
    assert outcomes == ["posted"] * 3 + ["skipped"] * 6
    assert fake.publish_attempts[Platform.X] == 3 and fake.publish_count(Platform.X) == 3
    assert {(await load_post(runtime, p)).status for p in posts} == {"posted"}
