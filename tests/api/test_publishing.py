"""The publishing API: connections (never the token), schedule/publish/retry/cancel, post filters, roles."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select, text

from app.models import OutboxJob
from app.runtime import Runtime
from tests.api.test_performance import new_campaign
from tests.conftest import GraphQLClient

CONNECT = """mutation($i: ConnectPlatformInput!) { connectPlatform(input: $i)
  { id platform accountId displayName status hasToken scopes tokenExpiresAt haltedAt lastSuccessAt } }"""
TRACK = """mutation($c: ID!, $p: String!) {
  trackSocialPost(campaignId: $c, platform: $p, content: "Tallinn jazz week") { id } }"""
SCHEDULE = """mutation($id: ID!, $at: DateTime!, $acc: String) {
  schedulePost(postId: $id, scheduledAt: $at, accountId: $acc)
  { id status scheduledAt nextAttemptAt connectionId retryCount outcomeUnknown } }"""
PUBLISH = "mutation($id: ID!) { publishPost(postId: $id) { status nextAttemptAt connectionId } }"
RETRY = "mutation($id: ID!) { retryPost(postId: $id) { status retryCount } }"
CANCEL = "mutation($id: ID!) { cancelPost(postId: $id) { status } }"
CONNECTIONS = """query($p: String, $s: ConnectionStatus) {
  platformConnections(platform: $p, status: $s) { platform accountId status hasToken } }"""


async def connect(gql: GraphQLClient, platform: str = "facebook", account: str = "1045", token: str = "tok-1") -> str:
    variables = {
        "i": {
            "platform": platform,
            "accountId": account,
            "accessToken": token,
            "displayName": "EventNexus",
            "tokenExpiresAt": "2027-01-01T00:00:00Z",
            "scopes": ["pages_manage_posts", "pages_read_engagement"],
        }
    }
    return str((await gql.ok(CONNECT, variables))["connectPlatform"]["id"])


async def track(gql: GraphQLClient, platform: str = "facebook") -> tuple[str, str]:
    cid = await new_campaign(gql)
    return cid, (await gql.ok(TRACK, {"c": cid, "p": platform}, role="service"))["trackSocialPost"]["id"]


async def test_connect_platform_stores_the_token_encrypted_and_never_returns_it(
    gql: GraphQLClient, runtime: Runtime
) -> None:
    variables = {"i": {"platform": "facebook", "accountId": "1045", "accessToken": "EAAB-secret", "scopes": ["b", "a"]}}
    conn = (await gql.ok(CONNECT, variables))["connectPlatform"]
    assert conn["status"] == "CONNECTED" and conn["hasToken"] is True and conn["scopes"] == ["a", "b"]
    async with runtime.sessionmaker() as s:
        stored = await s.scalar(text("SELECT token_ciphertext FROM platform_connections"))
    assert stored and "EAAB-secret" not in stored
    listed = (await gql.ok(CONNECTIONS, role="viewer"))["platformConnections"]
    assert listed == [{"platform": "facebook", "accountId": "1045", "status": "CONNECTED", "hasToken": True}]
    assert "EAAB-secret" not in str(listed)
    no_field = await gql("{ platformConnections { accessToken } }", role="admin")
    assert "Cannot query field 'accessToken'" in no_field["errors"][0]["message"]
    again = await gql(CONNECT, variables)
    assert again["errors"][0]["extensions"] == {"code": "CONFLICT", "field": "accountId"}


async def test_connect_platform_validates_and_needs_admin(gql: GraphQLClient) -> None:
    base = {"platform": "facebook", "accountId": "1", "accessToken": "t"}
    bad_platform = await gql(CONNECT, {"i": {**base, "platform": "myspace"}})
    assert bad_platform["errors"][0]["extensions"] == {"code": "VALIDATION_ERROR", "field": "platform"}
    empty_token = await gql(CONNECT, {"i": {**base, "accessToken": "  "}})
    assert empty_token["errors"][0]["extensions"]["field"] == "accessToken"
    naive = await gql(CONNECT, {"i": {**base, "tokenExpiresAt": "2027-01-01T00:00:00"}})
    assert naive["errors"][0]["extensions"]["field"] == "expiresAt"
    forbidden = await gql(CONNECT, {"i": base}, role="service")
    assert forbidden["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert (await gql.ok(CONNECTIONS))["platformConnections"] == []


async def test_schedule_post_queues_it_for_the_time_through_the_account(gql: GraphQLClient, runtime: Runtime) -> None:
    conn_id = await connect(gql)
    _, post_id = await track(gql)
    at = (datetime.now(UTC) + timedelta(hours=3)).replace(microsecond=0)
    post = (await gql.ok(SCHEDULE, {"id": post_id, "at": at.isoformat()}, role="service"))["schedulePost"]
    assert post["status"] == "PENDING" and post["connectionId"] == conn_id
    assert datetime.fromisoformat(post["scheduledAt"]) == at == datetime.fromisoformat(post["nextAttemptAt"])
    async with runtime.sessionmaker() as s:
        jobs = (await s.scalars(select(OutboxJob).where(OutboxJob.function == "publish_post"))).all()
    assert [(j.args, j.defer_until, j.job_id) for j in jobs] == [([post_id], at, f"publish:{post_id}:1")]


async def test_schedule_post_errors_name_the_field(gql: GraphQLClient) -> None:
    _, post_id = await track(gql)
    future = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    no_account = await gql(SCHEDULE, {"id": post_id, "at": future}, role="service")
    assert no_account["errors"][0]["extensions"] == {"code": "NOT_FOUND", "field": "accountId"}
    await connect(gql, account="A")
    await connect(gql, account="B")
    ambiguous = await gql(SCHEDULE, {"id": post_id, "at": future}, role="service")
    assert ambiguous["errors"][0]["extensions"] == {"code": "VALIDATION_ERROR", "field": "accountId"}
    past = (datetime.now(UTC) - timedelta(days=1)).isoformat()
    in_past = await gql(SCHEDULE, {"id": post_id, "at": past, "acc": "A"}, role="service")
    assert in_past["errors"][0]["extensions"] == {"code": "VALIDATION_ERROR", "field": "scheduledAt"}
    bad_id = await gql(SCHEDULE, {"id": "nope", "at": future}, role="service")
    assert bad_id["errors"][0]["extensions"]["field"] == "postId"
    ok = (await gql.ok(SCHEDULE, {"id": post_id, "at": future, "acc": "B"}, role="service"))["schedulePost"]
    assert ok["status"] == "PENDING"
    viewer = await gql(SCHEDULE, {"id": post_id, "at": future}, role="viewer")
    assert viewer["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_publish_cancel_and_retry_follow_the_post_status(gql: GraphQLClient, runtime: Runtime) -> None:
    await connect(gql)
    _, post_id = await track(gql)
    queued = (await gql.ok(PUBLISH, {"id": post_id}, role="service"))["publishPost"]
    assert queued["status"] == "PENDING" and queued["nextAttemptAt"]
    assert (await gql.ok(CANCEL, {"id": post_id}, role="service"))["cancelPost"]["status"] == "CANCELLED"
    assert (await gql.ok(CANCEL, {"id": post_id}, role="service"))["cancelPost"]["status"] == "CANCELLED"
    again = await gql(PUBLISH, {"id": post_id}, role="service")
    assert again["errors"][0]["extensions"] == {"code": "CONFLICT", "field": "postId"}
    retry_cancelled = await gql(RETRY, {"id": post_id}, role="service")
    assert retry_cancelled["errors"][0]["extensions"]["code"] == "CONFLICT"

    # A failed post (retries used up) gets a fresh budget.
    _, failed_id = await track(gql)
    await gql.ok(PUBLISH, {"id": failed_id}, role="service")
    async with runtime.engine.begin() as c:
        await c.execute(
            text("UPDATE social_media_post_tracking SET status='failed', retry_count=4 WHERE id=:id"), {"id": failed_id}
        )
    assert (await gql.ok(RETRY, {"id": failed_id}, role="service"))["retryPost"] == {
        "status": "PENDING",
        "retryCount": 0,
    }
    async with runtime.sessionmaker() as s:
        job_ids = (await s.scalars(select(OutboxJob.job_id).where(OutboxJob.args == [failed_id]))).all()
    assert sorted(job_ids) == [f"publish:{failed_id}:1", f"publish:{failed_id}:2"]


async def test_halted_account_blocks_scheduling_and_reconnect_requeues(gql: GraphQLClient, runtime: Runtime) -> None:
    conn_id = await connect(gql, token="old")
    _, post_id = await track(gql)
    async with runtime.engine.begin() as c:
        await c.execute(
            text(
                "UPDATE platform_connections SET status='expired', halted_at=now(), halt_reason='token_expired'"
                " WHERE id=:id"
            ),
            {"id": conn_id},
        )
    blocked = (await gql.ok(PUBLISH, {"id": post_id}, role="service"))["publishPost"]
    assert blocked["status"] == "BLOCKED"
    retry = await gql(RETRY, {"id": post_id}, role="service")
    assert "reconnect Facebook first" in retry["errors"][0]["message"]
    assert (await gql.ok(CONNECTIONS, {"s": "EXPIRED"}, role="viewer"))["platformConnections"][0]["status"] == "EXPIRED"

    reconnect = """mutation($i: ReconnectPlatformInput!) { reconnectPlatform(input: $i)
      { requeuedPosts connection { status haltedAt haltReason hasToken } } }"""
    denied = await gql(reconnect, {"i": {"platform": "facebook", "accessToken": "new"}}, role="service")
    assert denied["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    done = (await gql.ok(reconnect, {"i": {"platform": "facebook", "accessToken": "new"}}))["reconnectPlatform"]
    assert done == {
        "requeuedPosts": 1,
        "connection": {"status": "CONNECTED", "haltedAt": None, "haltReason": None, "hasToken": True},
    }
    posts = (await gql.ok("{ socialPosts { id status } }", role="viewer"))["socialPosts"]
    assert posts == [{"id": post_id, "status": "PENDING"}]
    missing = await gql(reconnect, {"i": {"platform": "tiktok", "accessToken": "x"}})
    assert missing["errors"][0]["extensions"] == {"code": "NOT_FOUND", "field": "accountId"}


async def test_social_posts_filters_and_pages(gql: GraphQLClient) -> None:
    fb = await connect(gql)
    await connect(gql, platform="x", account="22")
    ids = []
    for platform in ("facebook", "facebook", "x"):
        _, pid = await track(gql, platform)
        await gql.ok(PUBLISH, {"id": pid}, role="service")
        ids.append(pid)
    q = """query($c: ID, $s: PostStatus, $l: Int!, $o: Int!) {
      socialPosts(connectionId: $c, status: $s, limit: $l, offset: $o) { id platform connectionId } }"""
    by_conn = (await gql.ok(q, {"c": fb, "s": "PENDING", "l": 10, "o": 0}, role="viewer"))["socialPosts"]
    assert sorted(p["id"] for p in by_conn) == sorted(ids[:2]) and {p["connectionId"] for p in by_conn} == {fb}
    page1 = (await gql.ok(q, {"l": 2, "o": 0}, role="viewer"))["socialPosts"]
    page2 = (await gql.ok(q, {"l": 2, "o": 2}, role="viewer"))["socialPosts"]
    assert len(page1) == 2 and len(page2) == 1 and {p["id"] for p in page1 + page2} == set(ids)
    too_big = await gql(q, {"l": 1000, "o": 0}, role="viewer")
    assert too_big["errors"][0]["extensions"]["field"] == "limit"
