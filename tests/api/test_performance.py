"""recordPerformance: derived values, defaults, idempotency and refusal of bad input."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from app.models import PerformanceRecord
from app.runtime import Runtime
from tests.conftest import GraphQLClient

CREATE = "mutation($input: CreateCampaignInput!) { createCampaign(input: $input) { id currency status } }"
RECORD = """
mutation($cid: ID!, $key: String, $input: PerformanceInput!) {
  recordPerformance(campaignId: $cid, idempotencyKey: $key, input: $input) {
    id views clicks grossRevenue netRevenue adSpend aiGenerationCost totalCost
    ctr roi roas costPerSignup costPerOrganizer performanceScore replayed source periodStart periodEnd
  }
}"""
SEED_2_2 = {
    "views": 5000,
    "clicks": 250,
    "newSignups": 50,
    "newOrganizers": 10,
    "newEventsCreated": 25,
    "ticketsSold": 100,
    "grossRevenue": "2500.00",
    "netRevenue": "2375.00",
    "adSpend": "100.00",
    "aiGenerationCost": "0.05",
    "totalCost": "100.05",
    "socialShares": 80,
    "socialLikes": 320,
    "source": "facebook",
}


async def new_campaign(gql: GraphQLClient, title: str = "List Events Free, Keep 95%", currency: str = "EUR") -> str:
    data = await gql.ok(CREATE, {"input": {"title": title, "currency": currency}}, role="service")
    return str(data["createCampaign"]["id"])


async def record(gql: GraphQLClient, cid: str, body: dict[str, Any], key: str | None = None) -> dict[str, Any]:
    return await gql(RECORD, {"cid": cid, "key": key, "input": body}, role="service")


async def test_seed_2_2_record_returns_exact_derived_values(gql: GraphQLClient) -> None:
    cid = await new_campaign(gql)
    r = (await record(gql, cid, SEED_2_2))["data"]["recordPerformance"]
    assert (r["ctr"], r["roi"], r["roas"]) == ("5.0000", "2273.8131", "25.0000")
    assert (r["costPerSignup"], r["costPerOrganizer"], r["performanceScore"]) == ("2.00", "10.01", 95)
    assert r["replayed"] is False and r["source"] == "facebook"


async def test_defaults_net_revenue_after_fee_and_total_cost_from_parts(gql: GraphQLClient) -> None:
    cid = await new_campaign(gql)
    body = {"views": 1000, "grossRevenue": "333.33", "adSpend": "10.00", "aiGenerationCost": "0.05"}
    r = (await record(gql, cid, body))["data"]["recordPerformance"]
    # 333.33 x 0.95 = 316.6635 -> 316.66; total cost 10.05
    assert (r["netRevenue"], r["totalCost"]) == ("316.66", "10.05")
    assert r["ctr"] == "0.0000" and r["costPerSignup"] is None and r["roas"] == "33.3330"


async def test_same_idempotency_key_stores_once_and_returns_the_first_record(
    gql: GraphQLClient, runtime: Runtime
) -> None:
    cid = await new_campaign(gql)
    first = (await record(gql, cid, SEED_2_2, key="hour-2026-12-01T10"))["data"]["recordPerformance"]
    second = (await record(gql, cid, {**SEED_2_2, "views": 1}, key="hour-2026-12-01T10"))["data"]
    again = second["recordPerformance"]
    assert again["id"] == first["id"] and again["views"] == 5000 and again["replayed"] is True
    async with runtime.sessionmaker() as s:
        assert await s.scalar(select(func.count()).select_from(PerformanceRecord)) == 1


async def test_bad_input_is_refused_naming_the_field_and_stores_nothing(gql: GraphQLClient, runtime: Runtime) -> None:
    cid = await new_campaign(gql)
    cases = [
        ({"views": -1}, "views"),
        ({"adSpend": "-0.01"}, "adSpend"),
        ({"adSpend": "NaN"}, "adSpend"),
        ({"grossRevenue": "Infinity"}, "grossRevenue"),
        ({"adSpend": "1.005"}, "adSpend"),
        ({"adSpend": "1e20"}, "adSpend"),
        ({"adSpend": "100", "aiGenerationCost": "5", "totalCost": "104.99"}, "totalCost"),
        ({"grossRevenue": "100", "netRevenue": "100.01"}, "netRevenue"),
        ({"source": "Face Book"}, "source"),
        ({"source": "x" * 40}, "source"),
        ({"periodStart": "2026-12-01T10:00:00", "periodEnd": "2026-12-01T11:00:00Z"}, "periodStart"),
        ({"periodStart": "2026-12-01T10:00:00Z", "periodEnd": "2026-12-01T09:00:00Z"}, "periodEnd"),
    ]
    for body, field in cases:
        result = await record(gql, cid, body)
        assert result["data"] is None, (body, result)
        err = result["errors"][0]
        assert err["extensions"]["code"] == "VALIDATION_ERROR" and err["extensions"]["field"] == field, (body, err)
        assert field in err["message"]
    unknown = await record(gql, "6f1c2a9e-8d1b-4c55-9a57-5d0d2d9f0c11", {"views": 1})
    assert unknown["errors"][0]["extensions"] == {"code": "NOT_FOUND", "field": "campaignId"}
    long_key = await record(gql, cid, {"views": 1}, key="k" * 500)
    assert long_key["errors"][0]["extensions"]["field"] == "idempotencyKey"
    async with runtime.sessionmaker() as s:
        assert await s.scalar(select(func.count()).select_from(PerformanceRecord)) == 0


async def test_period_is_stored_in_utc(gql: GraphQLClient) -> None:
    cid = await new_campaign(gql)
    body = {"views": 10, "periodStart": "2026-12-01T12:00:00+02:00", "periodEnd": "2026-12-01T13:00:00+02:00"}
    r = (await record(gql, cid, body))["data"]["recordPerformance"]
    assert r["periodStart"] == "2026-12-01T10:00:00+00:00" and r["periodEnd"] == "2026-12-01T11:00:00+00:00"


async def test_messages_name_every_input_in_camel_case(gql: GraphQLClient) -> None:
    cid = await new_campaign(gql)
    result = await record(gql, cid, {"grossRevenue": "100", "netRevenue": "100.01"})
    message = result["errors"][0]["message"]
    assert "netRevenue" in message and "grossRevenue" in message and "_revenue" not in message
    result = await record(gql, cid, {"adSpend": "100", "aiGenerationCost": "5", "totalCost": "1"})
    assert "adSpend + aiGenerationCost" in result["errors"][0]["message"]
