"""Every request needs an API key; each role may do exactly its share."""

from __future__ import annotations

import pytest

from tests.conftest import GraphQLClient

READ = "{ campaigns { id } }"
SERVICE_WRITE = 'mutation { createCampaign(input: {title: "T"}) { id } }'
ADMIN_ONLY = "{ apiKeys { id } }"


async def test_without_a_key_there_is_a_clear_error_and_no_data(gql: GraphQLClient) -> None:
    result = await gql(READ, role=None)
    assert result["data"] is None
    assert result["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert "Authorization: Bearer" in result["errors"][0]["message"]


async def test_a_wrong_key_is_the_same_as_none(gql: GraphQLClient) -> None:
    response = await gql.http.post(
        "/graphql", json={"query": READ}, headers={"Authorization": "Bearer eo_not-a-real-key"}
    )
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


@pytest.mark.parametrize(
    ("role", "query", "allowed"),
    [
        ("viewer", READ, True),
        ("viewer", SERVICE_WRITE, False),
        ("viewer", ADMIN_ONLY, False),
        ("service", READ, True),
        ("service", SERVICE_WRITE, True),
        ("service", ADMIN_ONLY, False),
        ("admin", READ, True),
        ("admin", SERVICE_WRITE, True),
        ("admin", ADMIN_ONLY, True),
    ],
)
async def test_roles(gql: GraphQLClient, role: str, query: str, allowed: bool) -> None:
    result = await gql(query, role=role)
    if allowed:
        assert "errors" not in result
    else:
        assert result["data"] is None
        assert result["errors"][0]["extensions"]["code"] == "FORBIDDEN"
        assert role in result["errors"][0]["message"]


async def test_only_admins_resolve_errors(gql: GraphQLClient) -> None:
    logged = await gql.ok(
        'mutation { logError(input: {operationType: "monitoring", errorType: API_ERROR, errorMessage: "boom"}) { id } }',
        role="service",
    )
    q = "mutation($id: ID!) { resolveError(id: $id) { resolved } }"
    refused = await gql(q, {"id": logged["logError"]["id"]}, role="service")
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert (await gql.ok(q, {"id": logged["logError"]["id"]}))["resolveError"]["resolved"] is True


async def test_admin_creates_and_revokes_keys_and_a_revoked_key_stops_working(gql: GraphQLClient) -> None:
    created = (
        await gql.ok('mutation { createApiKey(name: "ci bot", role: VIEWER) { key apiKey { id role keyPrefix } } }')
    )["createApiKey"]
    key = created["key"]
    assert key.startswith(created["apiKey"]["keyPrefix"]) and created["apiKey"]["role"] == "VIEWER"
    headers = {"Authorization": f"Bearer {key}"}
    ok = await gql.http.post("/graphql", json={"query": READ}, headers=headers)
    assert "errors" not in ok.json()
    listed = (await gql.ok("{ apiKeys { id keyPrefix } }"))["apiKeys"]
    assert all("key" not in k for k in listed)
    await gql.ok("mutation($id: ID!) { revokeApiKey(id: $id) { revokedAt } }", {"id": created["apiKey"]["id"]})
    refused = await gql.http.post("/graphql", json={"query": READ}, headers=headers)
    assert refused.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_introspection_works_without_a_key_so_graphiql_can_load_the_schema(gql: GraphQLClient) -> None:
    result = await gql("{ __schema { queryType { name } } }", role=None)
    assert result["data"]["__schema"]["queryType"]["name"] == "Query"
