"""trackSocialPost and updatePostStatus: the seed's 3.1 and 7.3 flows."""

from __future__ import annotations

from tests.api.test_performance import new_campaign
from tests.conftest import GraphQLClient

TRACK = """mutation($c: ID!) { trackSocialPost(campaignId: $c, platform: "facebook",
  content: "Check out 50 Music Events in Tallinn! 🎵", imageUrl: "https://example.com/i.jpg") { id status retryCount } }"""
UPDATE = """mutation($id: ID!, $status: PostOutcome!, $pid: String, $url: String, $et: ErrorType, $em: String) {
  updatePostStatus(postId: $id, status: $status, platformPostId: $pid, postUrl: $url, errorType: $et, errorMessage: $em)
  { status retryCount platformPostId postUrl errorType errorMessage postedAt } }"""


async def test_seed_7_3_failure_sets_failed_retry_count_1_and_logs_the_error(gql: GraphQLClient) -> None:
    cid = await new_campaign(gql)
    post = (await gql.ok(TRACK, {"c": cid}, role="service"))["trackSocialPost"]
    assert post["status"] == "PENDING" and post["retryCount"] == 0
    failed = (
        await gql.ok(
            UPDATE,
            {"id": post["id"], "status": "FAILED", "et": "TOKEN_EXPIRED", "em": "Test error: Token expired"},
            role="service",
        )
    )["updatePostStatus"]
    assert failed["status"] == "FAILED" and failed["retryCount"] == 1 and failed["errorType"] == "TOKEN_EXPIRED"
    errors = await gql.ok(
        "{ unresolvedErrors { nodes { operationType errorType platform campaignId latestOccurrence { campaignId } } } }"
    )
    # An expired token is the account's problem, not one campaign's: its group has no campaign, the
    # occurrence does.
    assert errors["unresolvedErrors"]["nodes"] == [
        {
            "operationType": "social_posting",
            "errorType": "TOKEN_EXPIRED",
            "platform": "facebook",
            "campaignId": None,
            "latestOccurrence": {"campaignId": cid},
        }
    ]
    assert (await gql.ok("{ unreadNotificationCount }"))["unreadNotificationCount"] == 1


async def test_posted_records_id_and_url_and_a_second_id_is_a_conflict(gql: GraphQLClient) -> None:
    cid = await new_campaign(gql)
    post_id = (await gql.ok(TRACK, {"c": cid}, role="service"))["trackSocialPost"]["id"]
    vars_ = {"id": post_id, "status": "POSTED", "pid": "123_456", "url": "https://facebook.com/123_456"}
    posted = (await gql.ok(UPDATE, vars_, role="service"))["updatePostStatus"]
    assert posted["status"] == "POSTED" and posted["platformPostId"] == "123_456" and posted["postedAt"]
    # the same report again is harmless; a different id is refused
    assert (await gql.ok(UPDATE, vars_, role="service"))["updatePostStatus"]["platformPostId"] == "123_456"
    conflict = await gql(UPDATE, {**vars_, "pid": "999"}, role="service")
    assert conflict["errors"][0]["extensions"]["code"] == "CONFLICT"
    late_failure = await gql(UPDATE, {"id": post_id, "status": "FAILED"}, role="service")
    assert late_failure["errors"][0]["extensions"]["code"] == "CONFLICT"


async def test_posted_requires_a_platform_post_id(gql: GraphQLClient) -> None:
    cid = await new_campaign(gql)
    post_id = (await gql.ok(TRACK, {"c": cid}, role="service"))["trackSocialPost"]["id"]
    result = await gql(UPDATE, {"id": post_id, "status": "POSTED"}, role="service")
    assert result["errors"][0]["extensions"]["field"] == "platformPostId"


async def test_the_third_failure_notifies_the_admin(gql: GraphQLClient) -> None:
    cid = await new_campaign(gql)
    post_id = (await gql.ok(TRACK, {"c": cid}, role="service"))["trackSocialPost"]["id"]
    for _ in range(3):
        await gql.ok(UPDATE, {"id": post_id, "status": "FAILED", "et": "API_ERROR", "em": "HTTP 500"}, role="service")
    notes = (await gql.ok("{ notifications { severity } }"))["notifications"]
    assert len(notes) == 1
    posts = (await gql.ok("{ socialPosts(status: FAILED) { retryCount } }"))["socialPosts"]
    assert posts == [{"retryCount": 3}]
