"""Operation limits: refused with a clear error before anything runs; the validation cache still hits."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import strawberry
from graphql import parse, validate
from sqlalchemy import func, select
from strawberry.extensions import MaxAliasesLimiter, ValidationCache
from strawberry.extensions.parser_cache import _get_parse_cache
from strawberry.extensions.validation_cache import _get_validate_cache

from app.asgi import create_app
from app.models import ApiKey, Campaign
from app.runtime import Endpoints, Runtime
from app.settings import Settings
from schema import PARSER_CACHE_SIZE, VALIDATION_CACHE_SIZE, build_schema
from schema.limits import QueryLimits, build_rules

GQL_JSON = "application/graphql-response+json"
TIGHT = {
    "max_query_depth": 2,
    "max_query_aliases": 2,
    "max_query_tokens": 60,
    "max_query_cost": 100,
    "max_page_size": 50,
}


@pytest.fixture(scope="module")
async def tight_app(settings: Settings, endpoints: Endpoints, runtime: Runtime) -> AsyncIterator[Any]:
    application = create_app(settings.model_copy(update=TIGHT), endpoints)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def tight(tight_app: Any, keys: dict[str, str]) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=tight_app),
        base_url="http://eventops.test",
        headers={"Authorization": f"Bearer {keys['admin']}", "Accept": GQL_JSON},
    ) as c:
        yield c


async def refused(client: httpx.AsyncClient, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
    response = await client.post("/graphql", json={"query": query, "variables": variables or {}})
    assert response.status_code == 400, response.text
    assert response.headers["content-type"].startswith(GQL_JSON)
    body = response.json()
    assert "data" not in body
    return body["errors"][0]


async def count_campaigns(runtime: Runtime) -> int:
    async with runtime.sessionmaker() as s:
        return int(await s.scalar(select(func.count()).select_from(Campaign)) or 0)


async def test_a_query_deeper_than_the_limit_is_refused_before_it_runs(
    tight: httpx.AsyncClient, runtime: Runtime
) -> None:
    # The mutation's selection is 3 levels deep; the limit is 2: neither mutation may run.
    error = await refused(
        tight,
        'mutation Deep { createCampaign(input: {title: "x"}) { id } '
        'createApiKey(name: "too deep", role: VIEWER) { apiKey { id } } }',
    )
    assert error["extensions"] == {"code": "QUERY_TOO_DEEP", "depth": 3, "limit": 2}
    assert error["message"] == "operation 'Deep' is 3 levels deep; at most 2 are allowed"
    assert await count_campaigns(runtime) == 0
    async with runtime.sessionmaker() as s:
        assert await s.scalar(select(func.count()).select_from(ApiKey).where(ApiKey.name == "too deep")) == 0


async def test_too_many_aliases_are_refused(tight: httpx.AsyncClient) -> None:
    error = await refused(tight, "{ a: unreadNotificationCount b: unreadNotificationCount c: unreadNotificationCount }")
    assert error["extensions"]["code"] == "TOO_MANY_ALIASES"
    assert "3 aliases; at most 2" in error["message"]


async def test_too_many_tokens_are_refused_by_the_parser(tight: httpx.AsyncClient) -> None:
    query = "{ " + " ".join(["unreadNotificationCount"] * 70) + " }"
    error = await refused(tight, query)
    assert error["extensions"]["code"] == "QUERY_TOO_LARGE"
    assert "more than 60 tokens" in error["message"]


async def test_cost_counts_list_fields_by_their_requested_page_size(tight: httpx.AsyncClient, runtime: Runtime) -> None:
    # 1 (campaigns) + 50 × 2 fields = 101 > 100
    error = await refused(tight, "{ campaigns(limit: 50) { id title } }")
    assert error["extensions"] == {"code": "QUERY_TOO_COSTLY", "cost": 101, "limit": 100}
    ok = await tight.post("/graphql", json={"query": "{ campaigns(limit: 49) { id title } }"})  # 99
    assert ok.status_code == 200 and ok.json() == {"data": {"campaigns": []}}
    # A variable without a default counts as the page-size cap (the most the resolver would accept).
    error = await refused(tight, "query Q($n: Int!) { campaigns(limit: $n) { id title } }", {"n": 5})
    assert error["extensions"]["cost"] == 1 + 50 * 2
    ok = await tight.post("/graphql", json={"query": "query Q($n: Int! = 10) { campaigns(limit: $n) { id } }"})
    assert ok.status_code == 200 and "errors" not in ok.json()


def costs(query: str, **limits: int) -> list[dict[str, Any]]:
    schema = build_schema(limits=QueryLimits(**limits))
    rules = build_rules(QueryLimits(**limits))
    return [e.extensions or {} for e in validate(schema._schema, parse(query), rules)]


def test_a_connection_page_size_applies_to_its_nodes_and_fragments_count() -> None:
    # 1 (unresolvedErrors) + 1 (nodes) + 30 × 2 fields = 62 allowed at 62; 40 → 82 refused at 80.
    query = "{ unresolvedErrors(first: %d) { nodes { ...E } } } fragment E on OperationError { id errorMessage }"
    assert costs(query % 30, max_cost=62) == []
    assert costs(query % 40, max_cost=80) == [{"code": "QUERY_TOO_COSTLY", "cost": 82, "limit": 80}]
    # A list without a page argument counts default_list_size items, times its parents' pages.
    nested = '{ campaignAnalytics(campaignId: "x") { errors { id } socialMediaPerformance { platform } } }'
    assert costs(nested, max_cost=1, default_list_size=7)[0]["cost"] == 1 + 1 + 7 + 1 + 7


async def test_a_page_size_above_the_cap_is_refused_naming_the_argument(tight: httpx.AsyncClient) -> None:
    error = await refused(tight, "{ campaigns(limit: 51) { id } }")
    assert error["message"] == "campaigns(limit:) must be between 1 and 50, got 51"
    assert error["extensions"] == {"code": "VALIDATION_ERROR", "field": "limit"}


async def test_a_variable_page_size_above_the_cap_fails_in_the_resolver_naming_the_field(
    tight: httpx.AsyncClient,
) -> None:
    body = (
        await tight.post(
            "/graphql",
            json={"query": "query Q($n: Int! = 10) { campaigns(limit: $n) { id } }", "variables": {"n": 500}},
        )
    ).json()
    assert body["errors"][0]["extensions"] == {"code": "VALIDATION_ERROR", "field": "limit"}


async def test_introspection_fields_do_not_count_and_limits_allow_normal_queries(tight: httpx.AsyncClient) -> None:
    ok = await tight.post("/graphql", json={"query": "{ __schema { types { name fields { name } } } }"})
    assert ok.status_code == 200 and "errors" not in ok.json()


async def test_repeated_documents_hit_the_parser_and_validation_caches(gql: Any) -> None:
    validate_cache = _get_validate_cache(VALIDATION_CACHE_SIZE)
    parse_cache = _get_parse_cache(PARSER_CACHE_SIZE)
    query = "query CacheProbe { campaigns(limit: 7) { id title } unreadNotificationCount }"
    v0, p0 = validate_cache.cache_info(), parse_cache.cache_info()
    for _ in range(10):
        await gql.ok(query)
    v1, p1 = validate_cache.cache_info(), parse_cache.cache_info()
    print(
        f"validation cache: +{v1.hits - v0.hits} hits, +{v1.misses - v0.misses} misses; "
        f"parser cache: +{p1.hits - p0.hits} hits, +{p1.misses - p0.misses} misses"
    )
    assert (v1.misses - v0.misses, v1.hits - v0.hits) == (1, 9)
    assert (p1.misses - p0.misses, p1.hits - p0.hits) == (1, 9)


def test_rule_classes_made_per_request_would_defeat_the_cache() -> None:
    """The known Strawberry problem the limits avoid: a limiter factory makes new rule classes per
    request, so the cache key never repeats (control for the test above)."""

    @strawberry.type
    class Q:
        x: int = 1

    schema = strawberry.Schema(Q, extensions=[lambda: MaxAliasesLimiter(5), lambda: ValidationCache(maxsize=7)])
    cache = _get_validate_cache(7)
    before = cache.cache_info()
    for _ in range(5):
        assert schema.execute_sync("{ a: x }", root_value=Q()).errors is None
    after = cache.cache_info()
    assert (after.hits - before.hits, after.misses - before.misses) == (0, 5)
