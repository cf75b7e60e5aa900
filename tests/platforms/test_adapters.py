"""Each adapter against the fake platform server: publish, find_post, fetch_metrics, and failures
coming out classified (scripted responses, dropped connections, timeouts, refused connections)."""

from __future__ import annotations

import json
import socket
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.platforms.base import (
    AccountCredentials,
    ErrorType,
    Platform,
    PlatformAdapter,
    PlatformError,
    PostMetrics,
    PublishRequest,
)
from app.platforms.registry import DEFAULT_BASE_URLS, build_http_client, get_adapter
from app.platforms.x import XAdapter
from tests.fake_platforms import Drop, DropAfterAccept, FakePlatforms, Hang, Respond

SHARED_CASES = Path(__file__).parents[3] / "shared" / "data" / "platform-errors" / "cases.jsonl"
CASES_FILE = SHARED_CASES if SHARED_CASES.exists() else Path(__file__).parent / "cases.jsonl"
CASES = [json.loads(line) for line in CASES_FILE.read_text().splitlines() if line.strip()]
HTTP_CASES = [c for c in CASES if c["http_status"] is not None]

PLATFORMS = list(Platform)
ACCOUNTS = {
    Platform.FACEBOOK: "104500000000001",
    Platform.INSTAGRAM: "17841400000000001",
    Platform.X: "2244994945",
    Platform.LINKEDIN: "2414183",
    Platform.TIKTOK: "open-id-1",
}
IMAGE = "https://cdn.example.org/events/tallinn.jpg"
METRICS = {
    "impressions": 1000,
    "reach": 600,
    "likes": 40,
    "comments": 12,
    "shares": 5,
    "clicks": 30,
    "saves": 7,
    "quotes": 2,
    "bookmarks": 3,
}
EXPECTED_METRICS = {
    Platform.FACEBOOK: PostMetrics(1000, 600, 40 + 12 + 5 + 30, 30, 5, 12, 40),
    Platform.INSTAGRAM: PostMetrics(1000, 600, 40 + 12 + 5 + 7, 0, 5, 12, 40),
    Platform.X: PostMetrics(1000, 0, 40 + 12 + 5 + 2 + 3, 0, 5 + 2, 12, 40),
    Platform.LINKEDIN: PostMetrics(1000, 600, 40 + 12 + 5 + 30, 30, 5, 12, 40),
    Platform.TIKTOK: PostMetrics(1000, 0, 40 + 12 + 5, 0, 5, 12, 40),
}
TOKEN_EXPIRED = {
    Platform.FACEBOOK: Respond(
        400,
        {},
        {
            "error": {
                "message": "Error validating access token",
                "type": "OAuthException",
                "code": 190,
                "error_subcode": 460,
                "fbtrace_id": "T",
            }
        },
    ),
    Platform.INSTAGRAM: Respond(
        400,
        {},
        {
            "error": {
                "message": "Session has expired",
                "type": "OAuthException",
                "code": 190,
                "error_subcode": 463,
                "fbtrace_id": "T",
            }
        },
    ),
    Platform.X: Respond(
        401, {}, {"title": "Unauthorized", "type": "about:blank", "status": 401, "detail": "Unauthorized"}
    ),
    Platform.LINKEDIN: Respond(
        401,
        {},
        {
            "status": 401,
            "serviceErrorCode": 65602,
            "code": "EXPIRED_ACCESS_TOKEN",
            "message": "The token used in the request has expired",
        },
    ),
    Platform.TIKTOK: Respond(
        401, {}, {"data": {}, "error": {"code": "access_token_invalid", "message": "expired", "log_id": "L"}}
    ),
}


@pytest.fixture(scope="module")
def fake() -> Iterator[FakePlatforms]:
    with FakePlatforms() as server:
        yield server


@pytest.fixture(autouse=True)
def clean(fake: FakePlatforms) -> None:
    fake.reset()


def adapter_for(platform: Platform, client: httpx.AsyncClient, base_urls: dict[Platform, str]) -> PlatformAdapter:
    options: dict[str, Any] = {}
    if platform in (Platform.INSTAGRAM, Platform.TIKTOK):
        options = {"poll_interval": 0.01, "max_polls": 3}
    return get_adapter(platform, client, base_urls, **options)


@asynccontextmanager
async def adapter(
    fake: FakePlatforms, platform: Platform, *, read_timeout: float = 5.0, base_urls: dict[Platform, str] | None = None
) -> AsyncIterator[PlatformAdapter]:
    async with build_http_client(connect_timeout=2.0, read_timeout=read_timeout) as client:
        yield adapter_for(platform, client, base_urls or fake.base_urls)


def creds(platform: Platform) -> AccountCredentials:
    return AccountCredentials(ACCOUNTS[platform], f"token-{platform}")


def request(platform: Platform, tag: str) -> PublishRequest:
    marker = f"#ev{tag}"
    return PublishRequest(f"50 music events in Tallinn this week {marker}", IMAGE, marker)


def since() -> datetime:
    return datetime.now(UTC) - timedelta(seconds=5)


# --------------------------------------------------------------------------------------------------
# success paths


@pytest.mark.parametrize("platform", PLATFORMS)
async def test_publish_find_and_metrics(fake: FakePlatforms, platform: Platform) -> None:
    req = request(platform, "a1")
    async with adapter(fake, platform) as a:
        started = since()
        post = await a.publish(creds(platform), req)
        assert post.platform_post_id
        assert post.url and post.url.startswith("https://")
        assert fake.publish_count(platform) == 1

        found = await a.find_post(creds(platform), req, started)
        assert found is not None and found.platform_post_id == post.platform_post_id

        fake.set_metrics(post.platform_post_id, **METRICS)
        assert await a.fetch_metrics(creds(platform), post.platform_post_id) == EXPECTED_METRICS[platform]


@pytest.mark.parametrize("platform", PLATFORMS)
async def test_find_post_is_none_for_a_post_never_made(fake: FakePlatforms, platform: Platform) -> None:
    async with adapter(fake, platform) as a:
        await a.publish(creds(platform), request(platform, "other"))
        assert await a.find_post(creds(platform), request(platform, "missing"), since()) is None


@pytest.mark.parametrize("platform", PLATFORMS)
async def test_find_post_matches_content_without_marker(fake: FakePlatforms, platform: Platform) -> None:
    text = "Jazz night at Kultuurikatel, tickets https://example.org/t/1"
    account = ACCOUNTS[platform] if platform not in (Platform.X, Platform.TIKTOK) else f"token-{platform}"
    if platform is Platform.LINKEDIN:
        account = f"urn:li:organization:{account}"
    fake.add_post(platform, account, text.replace("https://example.org/t/1", "https://t.co/abc"))
    async with adapter(fake, platform) as a:
        found = await a.find_post(creds(platform), PublishRequest(text, IMAGE, marker=""), since())
    assert found is not None


async def test_find_post_ignores_posts_before_since(fake: FakePlatforms) -> None:
    fake.add_post(
        Platform.FACEBOOK,
        ACCOUNTS[Platform.FACEBOOK],
        "Old post #evold",
        created_at=datetime.now(UTC) - timedelta(days=2),
    )
    async with adapter(fake, Platform.FACEBOOK) as a:
        req = PublishRequest("Old post #evold", None, "#evold")
        assert await a.find_post(creds(Platform.FACEBOOK), req, since()) is None


async def test_facebook_uses_current_metric_names_and_lifetime_rows(fake: FakePlatforms) -> None:
    async with adapter(fake, Platform.FACEBOOK) as a:
        post = await a.publish(creds(Platform.FACEBOOK), PublishRequest("Text only post", None, "#t"))
        fake.set_metrics(post.platform_post_id, impressions=77, reactions={"like": 3, "love": 2, "wow": 1})
        metrics = await a.fetch_metrics(creds(Platform.FACEBOOK), post.platform_post_id)
    # The fake adds a stale `day` row of 0 for post_media_view: the lifetime row must win.
    assert metrics.impressions == 77 and metrics.likes == 6
    insights = next(r for r in fake.requests if r.path.endswith("/insights"))
    assert insights.query["metric"].split(",") == [
        "post_media_view",
        "post_total_media_view_unique",
        "post_reactions_by_type_total",
        "post_clicks",
    ]
    feed = next(r for r in fake.requests if r.operation == "publish")
    assert feed.path.endswith(f"/{ACCOUNTS[Platform.FACEBOOK]}/feed")
    assert "token" not in json.dumps(feed.json)  # the token goes in the Authorization header only


async def test_linkedin_sends_version_headers_and_member_metrics(fake: FakePlatforms) -> None:
    member = AccountCredentials("urn:li:person:abc123", "token-li")
    async with adapter(fake, Platform.LINKEDIN) as a:
        post = await a.publish(member, PublishRequest("Member post #m", None, "#m"))
        fake.set_metrics(post.platform_post_id, likes=9, comments=4)
        metrics = await a.fetch_metrics(member, post.platform_post_id)
    assert metrics == PostMetrics(engagement=13, comments=4, likes=9)
    publish = next(r for r in fake.requests if r.operation == "publish")
    assert publish.headers["linkedin-version"] and publish.headers["x-restli-protocol-version"] == "2.0.0"
    assert publish.json["author"] == "urn:li:person:abc123" and publish.json["lifecycleState"] == "PUBLISHED"


@pytest.mark.parametrize("platform", [Platform.INSTAGRAM, Platform.TIKTOK])
async def test_media_platforms_refuse_text_only_posts(fake: FakePlatforms, platform: Platform) -> None:
    async with adapter(fake, platform) as a:
        with pytest.raises(PlatformError) as info:
            await a.publish(creds(platform), PublishRequest("No picture", None, "#n"))
    assert info.value.classification.error_type is ErrorType.VALIDATION_ERROR
    assert fake.publish_attempts[platform] == 0


async def test_tiktok_video_url_uses_video_init(fake: FakePlatforms) -> None:
    async with adapter(fake, Platform.TIKTOK) as a:
        await a.publish(creds(Platform.TIKTOK), PublishRequest("Clip", "https://cdn.example.org/a.mp4", "#v"))
    assert any(r.path == "/v2/post/publish/video/init/" for r in fake.requests)


# --------------------------------------------------------------------------------------------------
# failures, classified


@pytest.mark.parametrize("platform", PLATFORMS)
async def test_expired_token_halts_the_account(fake: FakePlatforms, platform: Platform) -> None:
    fake.script(platform, "publish", TOKEN_EXPIRED[platform])
    async with adapter(fake, platform) as a:
        with pytest.raises(PlatformError) as info:
            await a.publish(creds(platform), request(platform, "t1"))
    c = info.value.classification
    assert (c.error_type, c.retry, c.halt_account, c.outcome_unknown) == (ErrorType.TOKEN_EXPIRED, "never", True, False)
    assert fake.publish_count(platform) == 0
    assert "token-" not in str(info.value)


@pytest.mark.parametrize("platform", PLATFORMS)
async def test_drop_after_accept_is_outcome_unknown_and_found(fake: FakePlatforms, platform: Platform) -> None:
    fake.script(platform, "publish", DropAfterAccept())
    req = request(platform, "d1")
    async with adapter(fake, platform) as a:
        started = since()
        with pytest.raises(PlatformError) as info:
            await a.publish(creds(platform), req)
        c = info.value.classification
        assert info.value.raw.transport_error == "connection_dropped_after_send"
        assert (c.error_type, c.retry, c.outcome_unknown) == (ErrorType.NETWORK_ERROR, "backoff", True)
        # What a retry does first: look. The post exists, so it must not be published again.
        found = await a.find_post(creds(platform), req, started)
    assert found is not None
    assert fake.publish_count(platform) == 1


@pytest.mark.parametrize("platform", PLATFORMS)
async def test_read_timeout_after_accept_is_outcome_unknown(fake: FakePlatforms, platform: Platform) -> None:
    fake.script(platform, "publish", Hang(seconds=3, accept=True))
    req = request(platform, "h1")
    async with adapter(fake, platform, read_timeout=0.3) as a:
        with pytest.raises(PlatformError) as info:
            await a.publish(creds(platform), req)
        assert info.value.raw.transport_error == "read_timeout_after_send"
        assert info.value.classification.outcome_unknown is True
        assert await a.find_post(creds(platform), req, since()) is not None
    assert fake.publish_count(platform) == 1


async def test_drop_without_accept_finds_nothing(fake: FakePlatforms) -> None:
    fake.script(Platform.X, "publish", Drop())
    req = request(Platform.X, "d2")
    async with adapter(fake, Platform.X) as a:
        with pytest.raises(PlatformError) as info:
            await a.publish(creds(Platform.X), req)
        assert info.value.classification.outcome_unknown is True
        assert await a.find_post(creds(Platform.X), req, since()) is None
        # Nothing found, so publishing again is right, and it happens exactly once.
        await a.publish(creds(Platform.X), req)
    assert fake.publish_count(Platform.X) == 1


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("platform", PLATFORMS)
async def test_connection_refused_is_network_error_with_known_outcome(fake: FakePlatforms, platform: Platform) -> None:
    dead = f"http://127.0.0.1:{_closed_port()}"
    urls = {p: f"{dead}/v21.0" if p in (Platform.FACEBOOK, Platform.INSTAGRAM) else dead for p in Platform}
    async with adapter(fake, platform, base_urls=urls) as a:
        with pytest.raises(PlatformError) as info:
            await a.publish(creds(platform), request(platform, "r1"))
    c = info.value.classification
    assert info.value.raw.transport_error == "connect_error"
    assert (c.error_type, c.retry, c.outcome_unknown, c.halt_account) == (
        ErrorType.NETWORK_ERROR,
        "backoff",
        False,
        False,
    )


async def test_fail_twice_then_succeed_publishes_once(fake: FakePlatforms) -> None:
    case = next(c for c in CASES if c["id"] == "fb-unexpected-transient")
    fake.fail_times(Platform.FACEBOOK, "publish", 2, Respond.from_case(case))
    req = request(Platform.FACEBOOK, "f2")
    async with adapter(fake, Platform.FACEBOOK) as a:
        for _ in range(2):
            with pytest.raises(PlatformError) as info:
                await a.publish(creds(Platform.FACEBOOK), req)
            assert info.value.classification.retry == "backoff"
            assert info.value.classification.outcome_unknown is True
            assert await a.find_post(creds(Platform.FACEBOOK), req, since()) is None
        await a.publish(creds(Platform.FACEBOOK), req)
    assert fake.publish_count(Platform.FACEBOOK) == 1
    assert fake.publish_attempts[Platform.FACEBOOK] == 3


async def test_tiktok_error_inside_http_200(fake: FakePlatforms) -> None:
    body = {"data": {}, "error": {"code": "spam_risk_too_many_posts", "message": "daily cap", "log_id": "L"}}
    fake.script(Platform.TIKTOK, "publish", Respond(200, {}, body))
    async with adapter(fake, Platform.TIKTOK) as a:
        with pytest.raises(PlatformError) as info:
            await a.publish(creds(Platform.TIKTOK), request(Platform.TIKTOK, "c1"))
    c = info.value.classification
    assert (c.error_type, c.retry, c.platform_code) == (ErrorType.RATE_LIMIT, "wait", "spam_risk_too_many_posts")
    assert c.wait_seconds is not None and c.wait_seconds >= 3600


async def test_tiktok_failed_publish_status_is_classified(fake: FakePlatforms) -> None:
    body = {"data": {"status": "FAILED", "fail_reason": "photo_pull_failed"}, "error": {"code": "ok"}}
    fake.script(Platform.TIKTOK, "status", Respond(200, {}, body))
    async with adapter(fake, Platform.TIKTOK) as a:
        with pytest.raises(PlatformError) as info:
            await a.publish(creds(Platform.TIKTOK), request(Platform.TIKTOK, "s1"))
    assert (info.value.classification.error_type, info.value.classification.retry) == (ErrorType.API_ERROR, "backoff")


async def test_tiktok_still_processing_is_outcome_unknown(fake: FakePlatforms) -> None:
    processing = Respond(200, {}, {"data": {"status": "PROCESSING_DOWNLOAD"}, "error": {"code": "ok"}})
    fake.fail_times(Platform.TIKTOK, "status", 3, processing)
    async with adapter(fake, Platform.TIKTOK) as a:
        with pytest.raises(PlatformError) as info:
            await a.publish(creds(Platform.TIKTOK), request(Platform.TIKTOK, "p1"))
    assert info.value.classification.outcome_unknown is True
    assert info.value.classification.platform_code == "publish_processing"


async def test_x_deleted_post_metrics_in_http_200(fake: FakePlatforms) -> None:
    async with adapter(fake, Platform.X) as a:
        with pytest.raises(PlatformError) as info:
            await a.fetch_metrics(creds(Platform.X), "999")
    c = info.value.classification
    assert (c.error_type, c.platform_code, c.outcome_unknown) == (
        ErrorType.VALIDATION_ERROR,
        "resource-not-found",
        False,
    )


@pytest.mark.parametrize("case", HTTP_CASES, ids=[c["id"] for c in HTTP_CASES])
async def test_shared_case_through_adapter(fake: FakePlatforms, case: dict[str, Any]) -> None:
    platform = Platform(case["platform"])
    async with adapter(fake, platform) as a:
        if case["operation"] == "publish":
            fake.script(platform, "publish", Respond.from_case(case))
            with pytest.raises(PlatformError) as info:
                await a.publish(creds(platform), request(platform, case["id"]))
        else:
            post = await a.publish(creds(platform), request(platform, case["id"]))
            fake.script(platform, "metrics", Respond.from_case(case))
            with pytest.raises(PlatformError) as info:
                await a.fetch_metrics(creds(platform), post.platform_post_id)
    got, expect = info.value.classification.as_dict(), case["expect"]
    for key in ("error_type", "retry", "halt_account", "outcome_unknown"):
        if key in expect:
            assert got[key] == expect[key], key
    # Waits are computed from when the fake answered (now), so only their presence is compared here.
    assert (got["wait_seconds"] is not None) == (expect["retry"] == "wait")


# --------------------------------------------------------------------------------------------------
# transport exception mapping and the registry


@pytest.mark.parametrize(
    ("exc", "kind", "unknown"),
    [
        (httpx.ConnectTimeout, "connect_timeout", False),
        (httpx.ConnectError, "connect_error", False),
        (httpx.PoolTimeout, "pool_timeout", False),
        (httpx.ReadTimeout, "read_timeout_after_send", True),
        (httpx.RemoteProtocolError, "connection_dropped_after_send", True),
        (httpx.ReadError, "connection_dropped_after_send", True),
        (httpx.WriteTimeout, "write_timeout", True),
    ],
)
async def test_transport_exceptions_map_to_kinds(exc: type[httpx.TransportError], kind: str, unknown: bool) -> None:
    def fail(req: httpx.Request) -> httpx.Response:
        raise exc("simulated", request=req)

    async with httpx.AsyncClient(transport=httpx.MockTransport(fail)) as client:
        x = XAdapter(client, "https://api.x.com")
        with pytest.raises(PlatformError) as info:
            await x.publish(creds(Platform.X), PublishRequest("hello", None, "#h"))
        assert info.value.raw.transport_error == kind
        assert info.value.classification.outcome_unknown is unknown
        assert info.value.classification.error_type is ErrorType.NETWORK_ERROR
        with pytest.raises(PlatformError) as info:
            await x.fetch_metrics(creds(Platform.X), "1")
        assert info.value.classification.outcome_unknown is False  # only a publish can have side effects


async def test_registry_defaults_and_client_timeouts() -> None:
    async with build_http_client(connect_timeout=1.5, read_timeout=20, write_timeout=7, pool_timeout=3) as client:
        assert client.timeout == httpx.Timeout(connect=1.5, read=20, write=7, pool=3)
        for platform in Platform:
            a = get_adapter(platform, client, {})
            assert isinstance(a, PlatformAdapter) and a.platform is platform
        assert get_adapter("x", client).platform is Platform.X
    assert DEFAULT_BASE_URLS[Platform.FACEBOOK].startswith("https://graph.facebook.com/v")
    assert DEFAULT_BASE_URLS[Platform.X] == "https://api.x.com"
    assert DEFAULT_BASE_URLS[Platform.LINKEDIN] == "https://api.linkedin.com"
    assert DEFAULT_BASE_URLS[Platform.TIKTOK] == "https://open.tiktokapis.com"
