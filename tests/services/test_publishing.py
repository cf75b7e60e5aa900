"""The publishing pipeline against real PostgreSQL and the fake platforms, with a controllable clock:
backoff, rate limits, unknown outcomes, account halts and reconnects, racing attempts, token storage."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta

import httpx
import pytest
from pydantic import SecretStr
from sqlalchemy import func, select, text

from app.clock import ManualClock
from app.database import transaction
from app.errors import Unavailable
from app.models import Notification, OperationError
from app.platforms.base import Platform
from app.platforms.registry import build_http_client
from app.runtime import Runtime
from app.services import connections, publishing
from app.settings import Settings
from tests.fake_platforms import DropAfterAccept, FakePlatforms, Respond
from tests.publishing import (
    fake_settings,
    load_connection,
    load_post,
    new_campaign,
    new_connection,
    new_post,
    outbox_jobs,
    publisher,
    queue_now,
)

TRANSIENT_500 = Respond(
    500,
    {},
    {
        "error": {
            "message": "An unexpected error has occurred.",
            "type": "OAuthException",
            "is_transient": True,
            "code": 2,
        }
    },
)
FB_TOKEN_EXPIRED = Respond(
    400,
    {},
    {
        "error": {
            "message": "Error validating access token: Session has expired",
            "type": "OAuthException",
            "code": 190,
            "error_subcode": 463,
        }
    },
)
HOUR = timedelta(hours=1)


@pytest.fixture(scope="module")
def fake() -> Iterator[FakePlatforms]:
    with FakePlatforms() as server:
        yield server


@pytest.fixture(autouse=True)
def clean_fake(fake: FakePlatforms) -> None:
    fake.reset()


@pytest.fixture
def psettings(settings: Settings, fake: FakePlatforms) -> Settings:
    return fake_settings(settings, fake)


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with build_http_client(connect_timeout=2, read_timeout=2) as c:
        yield c


async def count(runtime: Runtime, model: type, *where: object) -> int:
    async with runtime.sessionmaker() as s:
        return int(await s.scalar(select(func.count()).select_from(model).where(*where)) or 0)  # type: ignore[arg-type]


async def test_transient_failures_back_off_1h_2h_4h_then_fail_with_one_urgent_notification(
    runtime: Runtime, psettings: Settings, fake: FakePlatforms, client: httpx.AsyncClient
) -> None:
    clock = ManualClock()
    start = clock.now()
    await new_connection(runtime)
    post_id = await new_post(runtime, await new_campaign(runtime))
    await queue_now(runtime, post_id, clock)
    fake.fail_times(Platform.FACEBOOK, "publish", 10, TRANSIENT_500)
    pub = publisher(runtime, psettings, client, clock)

    for retry, wait in enumerate([1, 2, 4], start=1):
        result = await pub.attempt(post_id)
        assert result.outcome == "retry_scheduled"
        due = clock.now() + wait * HOUR
        post = await load_post(runtime, post_id)
        assert (post.status, post.retry_count, post.next_attempt_at) == ("pending", retry, due)
        assert post.error_type == "api_error" and post.error_details["platform_code"] == "2"
        # The next attempt is queued (outbox) for exactly that time.
        assert (await outbox_jobs(runtime, post_id))[-1].defer_until == due
        # Not due yet: a job running early does nothing and calls no platform.
        clock.advance(wait * HOUR - timedelta(seconds=1))
        assert (await pub.attempt(post_id)).outcome == "skipped"
        clock.advance(timedelta(seconds=1))
    assert clock.now() - start == 7 * HOUR

    assert (await pub.attempt(post_id)).outcome == "failed"
    post = await load_post(runtime, post_id)
    assert (post.status, post.retry_count, post.next_attempt_at) == ("failed", 4, None)
    assert fake.publish_attempts[Platform.FACEBOOK] == 4 and fake.publish_count(Platform.FACEBOOK) == 0
    assert len(await outbox_jobs(runtime, post_id)) == 4  # the first attempt and three retries
    notes = await _notifications(runtime)
    assert [(n.severity, n.title) for n in notes] == [("urgent", "URGENT: Facebook post failed after 3 retries")]
    assert notes[0].data["post_id"] == str(post_id) and notes[0].data["retry_count"] == 4
    async with runtime.sessionmaker() as s:
        logged = (await s.scalars(select(OperationError).order_by(OperationError.created_at))).all()
    assert len(logged) == 4
    assert {(e.operation_type, e.platform, e.error_type) for e in logged} == {
        ("social_posting", "facebook", "api_error")
    }
    assert all(e.error_details["post_id"] == str(post_id) and e.error_details["platform_code"] == "2" for e in logged)
    assert [e.notify_admin for e in logged] == [False, False, False, True]
    # A later job for the failed post does nothing.
    assert (await pub.attempt(post_id)).outcome == "skipped"


async def test_fails_twice_then_posts_once_with_retry_count_2(
    runtime: Runtime, psettings: Settings, fake: FakePlatforms, client: httpx.AsyncClient
) -> None:
    clock = ManualClock()
    conn_id = await new_connection(runtime)
    post_id = await new_post(runtime, await new_campaign(runtime))
    await queue_now(runtime, post_id, clock)
    fake.fail_times(Platform.FACEBOOK, "publish", 2, TRANSIENT_500)
    pub = publisher(runtime, psettings, client, clock)
    assert (await pub.attempt(post_id)).outcome == "retry_scheduled"
    clock.advance(HOUR)
    assert (await pub.attempt(post_id)).outcome == "retry_scheduled"
    clock.advance(2 * HOUR)
    assert (await pub.attempt(post_id)).outcome == "posted"
    post = await load_post(runtime, post_id)
    stored = fake.posts(Platform.FACEBOOK)
    assert fake.publish_count(Platform.FACEBOOK) == 1 and len(stored) == 1
    assert (post.status, post.retry_count, post.platform_post_id) == ("posted", 2, stored[0].post_id)
    assert post.post_url and stored[0].post_id.split("_")[1] in post.post_url
    assert post.posted_at == clock.now() and post.error_type is None and post.outcome_unknown is False
    assert (await load_connection(runtime, conn_id)).last_success_at == clock.now()
    assert await _notifications(runtime) == []


async def test_lost_answer_is_looked_up_and_never_published_twice(
    runtime: Runtime, psettings: Settings, fake: FakePlatforms, client: httpx.AsyncClient
) -> None:
    clock = ManualClock()
    await new_connection(runtime, Platform.X)
    post_id = await new_post(runtime, await new_campaign(runtime), Platform.X)
    await queue_now(runtime, post_id, clock)
    fake.script(Platform.X, "publish", DropAfterAccept())
    pub = publisher(runtime, psettings, client, clock)
    assert (await pub.attempt(post_id)).outcome == "retry_scheduled"
    post = await load_post(runtime, post_id)
    assert post.outcome_unknown is True and post.error_type == "network_error" and post.retry_count == 1
    assert fake.publish_count(Platform.X) == 1
    clock.advance(HOUR)
    assert (await pub.attempt(post_id)).outcome == "found"
    post = await load_post(runtime, post_id)
    assert post.status == "posted" and post.platform_post_id == fake.posts(Platform.X)[0].post_id
    assert fake.publish_attempts[Platform.X] == 1 and fake.publish_count(Platform.X) == 1


async def test_unknown_outcome_with_nothing_found_publishes_again(
    runtime: Runtime, psettings: Settings, fake: FakePlatforms, client: httpx.AsyncClient
) -> None:
    clock = ManualClock()
    await new_connection(runtime)
    post_id = await new_post(runtime, await new_campaign(runtime))
    await queue_now(runtime, post_id, clock)
    fake.script(Platform.FACEBOOK, "publish", TRANSIENT_500)  # 5xx on publish: may have published
    pub = publisher(runtime, psettings, client, clock)
    await pub.attempt(post_id)
    assert (await load_post(runtime, post_id)).outcome_unknown is True
    clock.advance(HOUR)
    assert (await pub.attempt(post_id)).outcome == "posted"
    find_then_publish = [r.operation for r in fake.requests if r.operation in ("find", "publish")]
    assert find_then_publish == ["publish", "find", "publish"]
    assert fake.publish_count(Platform.FACEBOOK) == 1


async def test_a_worker_that_died_mid_publish_is_taken_over_with_a_lookup(
    runtime: Runtime, psettings: Settings, fake: FakePlatforms, client: httpx.AsyncClient
) -> None:
    clock = ManualClock()
    await new_connection(runtime)
    post_id = await new_post(runtime, await new_campaign(runtime), content="Jazz night at Kultuurikatel")
    await queue_now(runtime, post_id, clock)
    # A worker claimed the post, published it, then died before recording anything.
    async with transaction(runtime.sessionmaker) as s:
        await s.execute(
            text(
                "UPDATE social_media_post_tracking SET status='posting', claimed_by='dead', claimed_until=:until,"
                " first_attempt_at=:now WHERE id=:id"
            ),
            {
                "until": clock.now() + timedelta(seconds=psettings.publish_claim_seconds),
                "now": clock.now(),
                "id": post_id,
            },
        )
    fake.add_post(Platform.FACEBOOK, "104500000000001", "Jazz night at Kultuurikatel")
    pub = publisher(runtime, psettings, client, clock)
    assert (await pub.attempt(post_id)).outcome == "skipped"  # the claim is still held
    clock.advance(timedelta(seconds=psettings.publish_claim_seconds + 1))
    assert (await pub.attempt(post_id)).outcome == "found"
    assert fake.publish_attempts[Platform.FACEBOOK] == 0 and fake.publish_count(Platform.FACEBOOK) == 1


async def test_racing_attempts_publish_once(
    runtime: Runtime, psettings: Settings, fake: FakePlatforms, client: httpx.AsyncClient
) -> None:
    clock = ManualClock()
    await new_connection(runtime)
    post_id = await new_post(runtime, await new_campaign(runtime))
    await queue_now(runtime, post_id, clock)
    pubs = [publisher(runtime, psettings, client, clock, worker_id=f"w{i}") for i in range(6)]
    results = await asyncio.gather(*(p.attempt(post_id) for p in pubs))
    assert sorted(r.outcome for r in results) == ["posted"] + ["skipped"] * 5
    assert fake.publish_attempts[Platform.FACEBOOK] == 1 and fake.publish_count(Platform.FACEBOOK) == 1


async def test_rate_limit_waits_for_the_reset_without_spending_retries(
    runtime: Runtime, psettings: Settings, fake: FakePlatforms, client: httpx.AsyncClient
) -> None:
    clock = ManualClock()
    conn_id = await new_connection(runtime, Platform.X)
    campaign = await new_campaign(runtime)
    first, second = await new_post(runtime, campaign, Platform.X), await new_post(runtime, campaign, Platform.X)
    await queue_now(runtime, first, clock)
    await queue_now(runtime, second, clock)
    reset = int(time.time()) + 900
    limited = Respond(
        429,
        {"x-rate-limit-limit": "100", "x-rate-limit-remaining": "0", "x-rate-limit-reset": str(reset)},
        {"title": "Too Many Requests", "type": "about:blank", "status": 429, "detail": "Too Many Requests"},
    )
    fake.script(Platform.X, "publish", limited)
    pub = publisher(runtime, psettings, client, clock)
    assert (await pub.attempt(first)).outcome == "rate_limited"
    post, conn = await load_post(runtime, first), await load_connection(runtime, conn_id)
    assert conn.status == "rate_limited" and conn.rate_limited_until is not None
    assert abs((conn.rate_limited_until - clock.now()).total_seconds() - 900) < 5
    assert (post.status, post.retry_count, post.next_attempt_at) == ("pending", 0, conn.rate_limited_until)
    # The account's other post waits for the reset too, without calling X.
    assert (await pub.attempt(second)).outcome == "rate_limited"
    assert fake.publish_attempts[Platform.X] == 1
    assert (await load_post(runtime, second)).next_attempt_at == conn.rate_limited_until
    clock.set(conn.rate_limited_until)
    assert [(await pub.attempt(p)).outcome for p in (first, second)] == ["posted", "posted"]
    assert (await load_connection(runtime, conn_id)).status == "connected"


async def test_expired_token_halts_the_account_once_and_reconnect_resumes(
    runtime: Runtime,
    psettings: Settings,
    fake: FakePlatforms,
    client: httpx.AsyncClient,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    clock = ManualClock()
    fb = await new_connection(runtime, Platform.FACEBOOK, token="fb-secret-token-1")
    await new_connection(runtime, Platform.X)
    c1, c2 = await new_campaign(runtime, "one"), await new_campaign(runtime, "two")
    fb_posts = [await new_post(runtime, c1), await new_post(runtime, c1), await new_post(runtime, c2)]
    x_post = await new_post(runtime, c1, Platform.X)
    for p in [*fb_posts, x_post]:
        await queue_now(runtime, p, clock)
    fake.fail_times(Platform.FACEBOOK, "publish", 1, FB_TOKEN_EXPIRED)
    pub = publisher(runtime, psettings, client, clock)

    assert (await pub.attempt(fb_posts[0])).outcome == "blocked"
    conn = await load_connection(runtime, fb)
    assert (conn.status, conn.halted_at, conn.halt_notified) == ("expired", clock.now(), True)
    blocked = [await load_post(runtime, p) for p in fb_posts]
    assert [(p.status, p.retry_count) for p in blocked] == [("blocked", 0)] * 3  # retry budget kept
    # The other posts' jobs find them blocked; X keeps posting; Facebook is not called again.
    assert [(await pub.attempt(p)).outcome for p in fb_posts[1:]] == ["skipped", "skipped"]
    assert (await pub.attempt(x_post)).outcome == "posted"
    assert fake.publish_attempts[Platform.FACEBOOK] == 1

    notes = await _notifications(runtime)
    assert len(notes) == 1
    note = notes[0]
    assert (note.severity, note.title, note.action) == (
        "urgent",
        "URGENT: Facebook token expired",
        "Reconnect Facebook",
    )
    assert note.data["campaigns_affected"] == 2 and note.data["posts_affected"] == 3
    assert note.data["last_success_at"] is None and "Last successful post: never" in note.message
    async with runtime.sessionmaker() as s:
        campaign_statuses = set((await s.scalars(text("SELECT status FROM campaigns"))).all())
    assert campaign_statuses == {"active"}

    # Reconnect: new token stored, halt lifted, the three posts queued again.
    clock.advance(HOUR)
    async with transaction(runtime.sessionmaker) as s:
        conn, requeued = await publishing.reconnect(
            s,
            psettings,
            platform="facebook",
            account_id=None,
            token=connections.NewToken("fb-secret-token-2"),
            resolved_by="admin",
            clock=clock,
        )
    assert requeued == 3 and conn.status == "connected" and conn.halted_at is None
    assert (
        await count(runtime, OperationError, OperationError.resolved.is_(False), OperationError.platform == "facebook")
        == 0
    )
    assert [(await pub.attempt(p)).outcome for p in fb_posts] == ["posted"] * 3
    assert fake.publish_count(Platform.FACEBOOK) == 3
    sent = {r.headers.get("authorization") for r in fake.requests if r.platform is Platform.FACEBOOK}
    assert sent == {"Bearer fb-secret-token-1", "Bearer fb-secret-token-2"}

    # A second halt of the same account notifies once more (a new halt), and says when it last posted.
    post = await new_post(runtime, c2)
    await queue_now(runtime, post, clock)
    fake.script(Platform.FACEBOOK, "publish", FB_TOKEN_EXPIRED)
    clock.advance(timedelta(days=2))
    await pub.attempt(post)
    notes = await _notifications(runtime)
    assert len(notes) == 2 and "(2 days ago)" in notes[-1].message
    assert not any("fb-secret-token" in r.getMessage() for r in caplog.records)


async def test_concurrent_token_failures_of_one_account_notify_once(
    runtime: Runtime, psettings: Settings, fake: FakePlatforms, client: httpx.AsyncClient
) -> None:
    clock = ManualClock()
    conn_id = await new_connection(runtime)
    campaign = await new_campaign(runtime)
    post_ids = [await new_post(runtime, campaign) for _ in range(4)]
    for p in post_ids:
        await queue_now(runtime, p, clock)
    fake.fail_times(Platform.FACEBOOK, "publish", 4, FB_TOKEN_EXPIRED)
    pubs = [publisher(runtime, psettings, client, clock, worker_id=f"w{i}") for i in range(4)]
    results = await asyncio.gather(*(pub.attempt(p) for pub, p in zip(pubs, post_ids, strict=True)))
    assert {r.outcome for r in results} == {"blocked"}  # each claimed its own post, each was refused
    assert {(await load_post(runtime, p)).status for p in post_ids} == {"blocked"}
    assert (await load_connection(runtime, conn_id)).status == "expired"
    notes = await _notifications(runtime)
    assert len(notes) == 1 and notes[0].data["posts_affected"] == 4
    failures = await count(runtime, OperationError, OperationError.error_type == "token_expired")
    assert failures == fake.publish_attempts[Platform.FACEBOOK] >= 1  # every failure is logged


async def test_permission_error_marks_permission_missing(
    runtime: Runtime, psettings: Settings, fake: FakePlatforms, client: httpx.AsyncClient
) -> None:
    clock = ManualClock()
    conn_id = await new_connection(runtime)
    post_id = await new_post(runtime, await new_campaign(runtime))
    await queue_now(runtime, post_id, clock)
    denied = {
        "error": {"message": "(#200) Requires pages_manage_posts permission", "type": "OAuthException", "code": 200}
    }
    fake.script(Platform.FACEBOOK, "publish", Respond(403, {}, denied))
    await publisher(runtime, psettings, client, clock).attempt(post_id)
    assert (await load_connection(runtime, conn_id)).status == "permission_missing"
    assert [n.title for n in await _notifications(runtime)] == ["URGENT: Facebook permission missing"]


async def test_scheduling_through_a_halted_account_blocks_the_post(
    runtime: Runtime, psettings: Settings, fake: FakePlatforms, client: httpx.AsyncClient
) -> None:
    clock = ManualClock()
    conn_id = await new_connection(runtime)
    async with transaction(runtime.sessionmaker) as s:
        await s.execute(
            text("UPDATE platform_connections SET status='expired', halted_at=now(), halt_notified=true WHERE id=:id"),
            {"id": conn_id},
        )
    post_id = await new_post(runtime, await new_campaign(runtime))
    post = await queue_now(runtime, post_id, clock)
    assert post.status == "blocked" and await outbox_jobs(runtime, post_id) == []


async def test_tokens_are_encrypted_at_rest_and_need_a_key(runtime: Runtime, settings: Settings) -> None:
    conn_id = await new_connection(runtime, Platform.LINKEDIN, token="li-very-secret")
    async with runtime.sessionmaker() as s:
        stored = await s.scalar(text("SELECT token_ciphertext FROM platform_connections WHERE id=:id"), {"id": conn_id})
    assert stored and "li-very-secret" not in stored
    conn = await load_connection(runtime, conn_id)
    creds = connections.credentials(settings, conn)
    assert creds.access_token == "li-very-secret" and "li-very-secret" not in repr(creds) + str(creds) + repr(conn)
    keyless = settings.model_copy(update={"token_encryption_key": None})
    with pytest.raises(Unavailable, match="TOKEN_ENCRYPTION_KEY is not set"):
        connections.encrypt_token(keyless, "x")
    other = settings.model_copy(update={"token_encryption_key": SecretStr("not-a-fernet-key")})
    with pytest.raises(Unavailable, match="not a valid Fernet key"):
        connections.credentials(other, conn)


async def test_a_token_the_key_cannot_read_halts_the_account(
    runtime: Runtime, psettings: Settings, fake: FakePlatforms, client: httpx.AsyncClient
) -> None:
    clock = ManualClock()
    conn_id = await new_connection(runtime)
    post_id = await new_post(runtime, await new_campaign(runtime))
    await queue_now(runtime, post_id, clock)
    from cryptography.fernet import Fernet

    rotated = psettings.model_copy(update={"token_encryption_key": SecretStr(Fernet.generate_key().decode())})
    assert (await publisher(runtime, rotated, client, clock).attempt(post_id)).outcome == "blocked"
    assert (await load_connection(runtime, conn_id)).status == "expired"
    assert fake.publish_attempts[Platform.FACEBOOK] == 0
    assert len(await _notifications(runtime)) == 1


async def test_stale_posts_are_queued_again(runtime: Runtime, psettings: Settings) -> None:
    clock = ManualClock()
    await new_connection(runtime)
    post_id = await new_post(runtime, await new_campaign(runtime))
    await queue_now(runtime, post_id, clock)
    async with transaction(runtime.sessionmaker) as s:
        assert await publishing.requeue_stale(s, clock.now(), grace=timedelta(minutes=15)) == 0
    async with transaction(runtime.sessionmaker) as s:
        assert await publishing.requeue_stale(s, clock.now() + HOUR, grace=timedelta(minutes=15)) == 1
    assert len(await outbox_jobs(runtime, post_id)) == 2


async def _notifications(runtime: Runtime) -> list[Notification]:
    async with runtime.sessionmaker() as s:
        return list((await s.scalars(select(Notification).order_by(Notification.id))).all())
