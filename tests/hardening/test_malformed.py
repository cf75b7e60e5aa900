"""Bodies and operations a careless client sends: clear 4xx errors, never a 500."""

from __future__ import annotations

import httpx
import pytest


@pytest.mark.parametrize("body", [b'"hi"', b"5", b"null", b"true", b'{"query":"{ \xff\xfe }"}', b"[1, 2]"], ids=repr)
async def test_a_body_that_is_not_a_json_object_is_a_400(
    client: httpx.AsyncClient, keys: dict[str, str], body: bytes
) -> None:
    response = await client.post(
        "/graphql",
        content=body,
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {keys['admin']}"},
    )
    assert response.status_code == 400, response.text
    assert "INTERNAL" not in response.text


async def test_a_subscription_over_http_is_a_clear_request_error(
    client: httpx.AsyncClient, keys: dict[str, str]
) -> None:
    response = await client.post(
        "/graphql",
        json={"query": "subscription { alerts { id } }"},
        headers={"Authorization": f"Bearer {keys['admin']}"},
    )
    assert response.status_code == 400
    error = response.json()["errors"][0]
    assert "subscription" in error["message"].lower() and error["extensions"]["code"] == "BAD_REQUEST"


@pytest.mark.parametrize("moment", ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00", "1899-12-31T23:59:59Z"])
async def test_instants_outside_1900_to_9000_are_refused_before_anything_runs(
    client: httpx.AsyncClient, keys: dict[str, str], moment: str
) -> None:
    query = 'mutation($t: DateTime) { logError(input: {operationType: "x", errorType: API_ERROR, errorMessage: "m", occurredAt: $t}) { id } }'
    response = await client.post(
        "/graphql",
        json={"query": query, "variables": {"t": moment}},
        headers={"Authorization": f"Bearer {keys['admin']}"},
    )
    error = response.json()["errors"][0]
    assert error["extensions"]["code"] == "BAD_USER_INPUT" and "1900" in error["message"], error
