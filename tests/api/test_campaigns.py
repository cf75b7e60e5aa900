"""Campaigns: create, update, list, with a currency each."""

from __future__ import annotations

from tests.conftest import GraphQLClient

CREATE = "mutation($input: CreateCampaignInput!) { createCampaign(input: $input) { id title currency status budget } }"
UPDATE = "mutation($id: ID!, $input: UpdateCampaignInput!) { updateCampaign(id: $id, input: $input) { title status budget currency } }"


async def test_create_update_and_list(gql: GraphQLClient) -> None:
    c = (await gql.ok(CREATE, {"input": {"title": " Spring ", "currency": "usd", "budget": "1500.50"}}))[
        "createCampaign"
    ]
    assert (c["title"], c["currency"], c["status"], c["budget"]) == ("Spring", "USD", "ACTIVE", "1500.50")
    u = (await gql.ok(UPDATE, {"id": c["id"], "input": {"status": "PAUSED", "budget": None}}))["updateCampaign"]
    assert (u["status"], u["budget"], u["title"]) == ("PAUSED", None, "Spring")
    await gql.ok(CREATE, {"input": {"title": "Autumn"}})
    titles = [x["title"] for x in (await gql.ok("{ campaigns { title } }"))["campaigns"]]
    assert titles == ["Autumn", "Spring"]
    paused = (await gql.ok("{ campaigns(status: PAUSED) { title } }"))["campaigns"]
    assert paused == [{"title": "Spring"}]
    assert (await gql.ok('{ campaigns(search: "aut") { title } }'))["campaigns"] == [{"title": "Autumn"}]


async def test_bad_campaign_input(gql: GraphQLClient) -> None:
    for body, field in [
        ({"title": "T", "currency": "EURO"}, "currency"),
        ({"title": "T", "currency": "XYZ"}, "currency"),
        ({"title": ""}, "title"),
        ({"title": "t" * 201}, "title"),
        ({"title": "T", "budget": "-1"}, "budget"),
    ]:
        result = await gql(CREATE, {"input": body})
        assert result["errors"][0]["extensions"]["field"] == field, result
    assert (await gql.ok("{ campaigns { id } }"))["campaigns"] == []


async def test_currency_is_fixed_once_money_is_recorded(gql: GraphQLClient) -> None:
    cid = (await gql.ok(CREATE, {"input": {"title": "T"}}))["createCampaign"]["id"]
    await gql.ok('mutation($c: ID!) { recordPerformance(campaignId: $c, input: {adSpend: "5"}) { id } }', {"c": cid})
    result = await gql(UPDATE, {"id": cid, "input": {"currency": "USD"}})
    assert result["errors"][0]["extensions"]["field"] == "currency"


async def test_page_size_is_capped(gql: GraphQLClient) -> None:
    result = await gql("{ campaigns(limit: 100000) { id } }")
    assert result["errors"][0]["extensions"] == {"code": "VALIDATION_ERROR", "field": "limit"}
