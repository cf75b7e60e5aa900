"""logError, resolveError and unresolvedErrors through GraphQL (seed 1.1, 1.2, 5.1)."""

from __future__ import annotations

from sqlalchemy import func, select

from app.models import Notification, OperationError
from app.runtime import Runtime
from tests.conftest import GraphQLClient

LOG = """
mutation($input: LogErrorInput!) {
  logError(input: $input) { id operationType errorType errorMessage errorDetails platform resolved notifyAdmin }
}"""
SEED_ERROR = {
    "operationType": "social_posting",
    "errorType": "TOKEN_EXPIRED",
    "errorMessage": "Facebook token expired. Please reconnect account.",
    "errorDetails": {"platform": "facebook", "token_age": "60 days"},
    "platform": "facebook",
    "notifyAdmin": True,
}


async def test_seed_token_expired_error_is_stored_with_one_urgent_notification(
    gql: GraphQLClient, runtime: Runtime
) -> None:
    data = await gql.ok(LOG, {"input": SEED_ERROR}, role="service")
    error = data["logError"]
    assert error["errorType"] == "TOKEN_EXPIRED" and error["resolved"] is False
    assert error["errorDetails"] == {"platform": "facebook", "token_age": "60 days"}

    notes = (await gql.ok("{ notifications { severity title message action data type } }"))["notifications"]
    assert len(notes) == 1
    n = notes[0]
    assert n["severity"] == "URGENT" and n["type"] == "system_alert"
    assert n["title"] == "URGENT: Facebook token expired"
    assert n["action"] == "Reconnect Facebook in settings"
    assert n["data"]["error_id"] == error["id"]
    assert (await gql.ok("{ unreadNotificationCount }"))["unreadNotificationCount"] == 1


async def test_without_notify_admin_no_notification_is_written(gql: GraphQLClient, runtime: Runtime) -> None:
    await gql.ok(LOG, {"input": {**SEED_ERROR, "notifyAdmin": False}}, role="service")
    async with runtime.sessionmaker() as s:
        assert await s.scalar(select(func.count()).select_from(Notification)) == 0
        assert await s.scalar(select(func.count()).select_from(OperationError)) == 1


async def test_error_types_map_to_the_seed_admin_actions(gql: GraphQLClient) -> None:
    await gql.ok(LOG, {"input": {**SEED_ERROR, "errorType": "AI_GENERATION_FAILED", "platform": None}}, role="service")
    await gql.ok(LOG, {"input": {**SEED_ERROR, "errorType": "RATE_LIMIT"}}, role="service")
    notes = (await gql.ok("{ notifications { severity action } }"))["notifications"]
    assert notes == [
        {"severity": "WARNING", "action": "Wait, or upgrade the Facebook API plan"},
        {"severity": "WARNING", "action": "Check the Gemini API key"},
    ]


async def test_resolve_records_who_when_and_note_and_leaves_the_unresolved_list(gql: GraphQLClient) -> None:
    error_id = (await gql.ok(LOG, {"input": SEED_ERROR}, role="service"))["logError"]["id"]
    listed = await gql.ok(
        "{ unresolvedErrors { nodes { id count latestOccurrence { id } } pageInfo { hasNextPage } } }", role="viewer"
    )
    nodes = listed["unresolvedErrors"]["nodes"]
    assert [n["latestOccurrence"]["id"] for n in nodes] == [error_id] and nodes[0]["count"] == 1
    group_id = nodes[0]["id"]

    resolved = (
        await gql.ok(
            'mutation($id: ID!) { resolveError(id: $id, note: "Token refreshed") '
            "{ id status resolved resolvedAt resolvedBy resolutionNote latestOccurrence { id resolved } } }",
            {"id": group_id},
        )
    )["resolveError"]
    assert resolved["id"] == group_id and resolved["status"] == "RESOLVED"
    assert resolved["resolved"] is True and resolved["resolvedAt"]
    assert resolved["resolutionNote"] == "Token refreshed"
    assert resolved["resolvedBy"].startswith("test admin (admin key")
    # The group's occurrences are resolved with it.
    assert resolved["latestOccurrence"] == {"id": error_id, "resolved": True}
    listed = await gql.ok("{ unresolvedErrors { nodes { id } } }")
    assert listed["unresolvedErrors"]["nodes"] == []


async def test_resolve_error_still_accepts_an_occurrence_id(gql: GraphQLClient) -> None:
    error_id = (await gql.ok(LOG, {"input": SEED_ERROR}, role="service"))["logError"]["id"]
    resolved = (
        await gql.ok(
            "mutation($id: ID!) { resolveError(id: $id) { status latestOccurrence { id } } }", {"id": error_id}
        )
    )["resolveError"]
    assert resolved == {"status": "RESOLVED", "latestOccurrence": {"id": error_id}}
    missing = await gql('mutation { resolveError(id: "00000000-0000-0000-0000-000000000000") { id } }')
    assert missing["errors"][0]["extensions"] == {"code": "NOT_FOUND", "field": "id"}


async def test_unresolved_errors_filter_and_paginate_most_recently_seen_first(gql: GraphQLClient) -> None:
    ids = []
    for i in range(5):
        platform = "facebook" if i % 2 == 0 else "x"
        # A distinct platform error code makes each a group of its own.
        body = {
            **SEED_ERROR,
            "errorMessage": f"failure {i}",
            "platform": platform,
            "notifyAdmin": False,
            "errorCode": f"E{i}",
        }
        ids.append((await gql.ok(LOG, {"input": body}, role="service"))["logError"]["id"])
    q = """query($after: String, $filter: ErrorFilterInput) {
      unresolvedErrors(first: 2, after: $after, filter: $filter) {
        nodes { id errorCode latestOccurrence { id errorMessage } } pageInfo { hasNextPage endCursor } } }"""
    seen, after = [], None
    while True:
        page = (await gql.ok(q, {"after": after}))["unresolvedErrors"]
        seen += [n["latestOccurrence"]["id"] for n in page["nodes"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == list(reversed(ids))
    fb = (await gql.ok(q, {"filter": {"platform": "facebook"}}))["unresolvedErrors"]["nodes"]
    assert [n["latestOccurrence"]["errorMessage"] for n in fb] == ["failure 4", "failure 2"]
    assert [n["errorCode"] for n in fb] == ["E4", "E2"]


async def test_bad_error_input_is_refused_naming_the_field_and_stores_nothing(
    gql: GraphQLClient, runtime: Runtime
) -> None:
    cases = [
        ({**SEED_ERROR, "errorMessage": "x" * 5000}, "errorMessage"),
        ({**SEED_ERROR, "errorMessage": "   "}, "errorMessage"),
        ({**SEED_ERROR, "operationType": "Social Posting!"}, "operationType"),
        ({**SEED_ERROR, "errorDetails": {"blob": "y" * 20000}}, "errorDetails"),
        ({**SEED_ERROR, "errorDetails": [1, 2]}, "errorDetails"),
        ({**SEED_ERROR, "campaignId": "00000000-0000-0000-0000-000000000000"}, "campaignId"),
        ({**SEED_ERROR, "campaignId": "not-a-uuid"}, "campaignId"),
    ]
    for body, field in cases:
        result = await gql(LOG, {"input": body}, role="service")
        assert result["data"] is None, body
        err = result["errors"][0]
        assert err["extensions"]["field"] == field, err
        assert field in err["message"]
    unknown_enum = await gql(LOG, {"input": {**SEED_ERROR, "errorType": "SERVER_ON_FIRE"}}, role="service")
    assert "SERVER_ON_FIRE" in unknown_enum["errors"][0]["message"]
    async with runtime.sessionmaker() as s:
        assert await s.scalar(select(func.count()).select_from(OperationError)) == 0
        assert await s.scalar(select(func.count()).select_from(Notification)) == 0
