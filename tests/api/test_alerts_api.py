"""errorGroup, ignoreErrorGroup and the webhook operations through GraphQL."""

from __future__ import annotations

from tests.conftest import GraphQLClient

LOG = "mutation($input: LogErrorInput!) { logError(input: $input) { id } }"
ERROR = {
    "operationType": "social_posting",
    "errorType": "RATE_LIMIT",
    "errorMessage": "rate limited",
    "platform": "x",
    "notifyAdmin": True,
    "errorDetails": {"account_id": "acct-9", "code": 88},
}
GROUP = """query($id: ID!, $after: String) { errorGroup(id: $id) {
  id count status accountId errorCode severity
  latestOccurrence { id }
  occurrences(first: 2, after: $after) { nodes { id errorMessage } pageInfo { hasNextPage endCursor } }
  alerts { kind severity suppressed suppressedReason notificationId }
} }"""


async def test_error_group_shows_its_occurrences_paginated_and_its_alerts(gql: GraphQLClient) -> None:
    ids = []
    for i in range(3):
        body = {**ERROR, "errorMessage": f"rate limited (request {i})"}
        ids.append((await gql.ok(LOG, {"input": body}, role="service"))["logError"]["id"])
    group_id = (await gql.ok("{ unresolvedErrors { nodes { id } } }"))["unresolvedErrors"]["nodes"][0]["id"]

    page = (await gql.ok(GROUP, {"id": group_id}, role="viewer"))["errorGroup"]
    assert (page["count"], page["status"], page["accountId"], page["errorCode"]) == (3, "UNRESOLVED", "acct-9", "88")
    assert page["severity"] == "WARNING" and page["latestOccurrence"]["id"] == ids[2]
    assert [n["id"] for n in page["occurrences"]["nodes"]] == [ids[2], ids[1]]
    rest = (await gql.ok(GROUP, {"id": group_id, "after": page["occurrences"]["pageInfo"]["endCursor"]}))["errorGroup"]
    assert [n["id"] for n in rest["occurrences"]["nodes"]] == [ids[0]]
    assert rest["occurrences"]["pageInfo"]["hasNextPage"] is False
    # Three occurrences, one change of state, one notification.
    assert len(page["alerts"]) == 1
    alert = page["alerts"][0]
    assert (alert["kind"], alert["severity"], alert["suppressed"], alert["suppressedReason"]) == (
        "NEW",
        "WARNING",
        False,
        None,
    )
    notes = (await gql.ok("{ notifications { id data } }"))["notifications"]
    assert [n["id"] for n in notes] == [alert["notificationId"]]
    assert notes[0]["data"]["group_id"] == group_id and notes[0]["data"]["count"] == 1


async def test_ignore_error_group_until_a_time_or_forever(gql: GraphQLClient) -> None:
    await gql.ok(LOG, {"input": ERROR}, role="service")
    group_id = (await gql.ok("{ unresolvedErrors { nodes { id } } }"))["unresolvedErrors"]["nodes"][0]["id"]
    ignore = "mutation($id: ID!, $until: DateTime) { ignoreErrorGroup(id: $id, until: $until) { status ignoredUntil } }"

    past = await gql(ignore, {"id": group_id, "until": "2020-01-01T00:00:00+00:00"})
    assert past["errors"][0]["extensions"] == {"code": "VALIDATION_ERROR", "field": "until"}
    viewer = await gql(ignore, {"id": group_id}, role="viewer")
    assert viewer["errors"][0]["extensions"]["code"] == "FORBIDDEN"

    until = "2999-01-01T00:00:00+00:00"
    assert (await gql.ok(ignore, {"id": group_id, "until": until}))["ignoreErrorGroup"] == {
        "status": "IGNORED",
        "ignoredUntil": until,
    }
    assert (await gql.ok("{ unresolvedErrors { nodes { id } } }"))["unresolvedErrors"]["nodes"] == []
    forever = (await gql.ok(ignore, {"id": group_id}))["ignoreErrorGroup"]
    assert forever == {"status": "IGNORED", "ignoredUntil": None}


WEBHOOK_FIELDS = "id name url minSeverity active failingSince"


async def test_webhooks_are_added_listed_masked_and_removed_by_admins(gql: GraphQLClient) -> None:
    add = f"""mutation($url: String!, $sev: Severity!) {{
      addWebhook(url: $url, minSeverity: $sev, name: "ops channel") {{ {WEBHOOK_FIELDS} }} }}"""
    secret_url = "https://hooks.slack.com/services/T0000/B0000/XXXXsecretXXXXabcd"
    added = (await gql.ok(add, {"url": secret_url, "sev": "WARNING"}))["addWebhook"]
    assert added["url"] == "https://hooks.slack.com/…abcd"
    assert added["minSeverity"] == "WARNING" and added["active"] is True and added["failingSince"] is None

    listed = await gql.ok(f"{{ webhooks {{ {WEBHOOK_FIELDS} }} }}")
    assert listed["webhooks"] == [added]
    assert "secret" not in str(listed)

    for url, message in [("ftp://example.com/hook", "https://"), ("https:///nohost", "host"), ("", "url")]:
        bad = await gql(add, {"url": url, "sev": "INFO"})
        assert bad["errors"][0]["extensions"] == {"code": "VALIDATION_ERROR", "field": "url"}, url
        assert message in bad["errors"][0]["message"]
    forbidden = await gql(add, {"url": secret_url, "sev": "INFO"}, role="service")
    assert forbidden["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert (await gql("{ webhooks { id } }", role="viewer"))["errors"][0]["extensions"]["code"] == "FORBIDDEN"

    removed = await gql.ok("mutation($id: ID!) { removeWebhook(id: $id) { id } }", {"id": added["id"]})
    assert removed["removeWebhook"]["id"] == added["id"]
    assert (await gql.ok("{ webhooks { id } }"))["webhooks"] == []
    again = await gql("mutation($id: ID!) { removeWebhook(id: $id) { id } }", {"id": added["id"]})
    assert again["errors"][0]["extensions"] == {"code": "NOT_FOUND", "field": "id"}
