"""Error convention edges, rate limiting, probes, /metrics and secrets kept out of logs and errors."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import Route

from app.asgi import ErrorMiddleware, RequestIdMiddleware, create_app
from app.logging import JsonFormatter, redact, register_settings_secrets
from app.rate_limit import RateLimited, RateLimiter
from app.runtime import Endpoints, Runtime
from app.services import campaigns
from app.settings import Settings
from jobs.worker import build_worker
from tests.conftest import GraphQLClient

DB_PASSWORD = "hunter2-db-password"


@pytest.fixture(scope="module")
async def db_down_app(settings: Settings, endpoints: Endpoints, runtime: Runtime) -> AsyncIterator[Any]:
    """The API with a database that does not answer (its DSN carries a password that must never leak)."""
    url = f"postgresql://eventops:{DB_PASSWORD}@127.0.0.1:1/eventops"
    broken = settings.model_copy(update={"database_url": url})
    register_settings_secrets(broken)
    application = create_app(broken, Endpoints(database_url=url, redis_url=endpoints.redis_url))
    async with application.router.lifespan_context(application):
        yield application


async def asgi(app: Any) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://eventops.test")


async def test_database_down_during_authentication_is_service_unavailable_without_the_dsn(
    db_down_app: Any, keys: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    async with await asgi(db_down_app) as c:
        response = await c.post(
            "/graphql", json={"query": "{ campaigns { id } }"}, headers={"Authorization": f"Bearer {keys['admin']}"}
        )
        assert response.status_code == 200
        error = response.json()["errors"][0]
        assert error["extensions"] == {"code": "SERVICE_UNAVAILABLE"}
        assert error["message"] == "a backing service (database or Redis) is unavailable; retry shortly"
        ready = await c.get("/readyz")
        assert ready.status_code == 503 and ready.json()["database"].startswith("unavailable")
        assert ready.json()["redis"] == "ok"
        assert (await c.get("/healthz")).status_code == 200
    text = response.text + ready.text + "\n".join(JsonFormatter().format(r) for r in caplog.records)
    assert DB_PASSWORD not in text and keys["admin"] not in text


async def test_an_unexpected_exception_is_generic_with_a_request_id_and_logged_with_its_stack(
    gql: GraphQLClient, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    async def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("internal detail: token eo_ABCDEFGHIJKLMNOPQRSTUVWXYZ")

    monkeypatch.setattr(campaigns, "list_campaigns", broken)
    response = await gql.http.post(
        "/graphql",
        json={"query": "{ campaigns { id } }"},
        headers={"Authorization": f"Bearer {gql.keys['viewer']}", "X-Request-ID": "req-123"},
    )
    error = response.json()["errors"][0]
    assert error["message"] == "Internal server error (request id req-123)"
    assert error["extensions"] == {"code": "INTERNAL_SERVER_ERROR", "requestId": "req-123"}
    assert "internal detail" not in response.text
    logged = [r for r in caplog.records if r.levelno == logging.ERROR and "req-123" in r.getMessage()]
    assert logged and logged[0].exc_info is not None
    line = json.loads(JsonFormatter().format(logged[0]))
    assert "RuntimeError: internal detail" in line["exc"] and "eo_ABCDEF" not in line["exc"]


async def test_an_exception_outside_graphql_is_a_json_500_with_the_request_id() -> None:
    async def explode(request: Any) -> Any:
        raise ValueError("secret internals")

    app = Starlette(
        routes=[Route("/x", explode)], middleware=[Middleware(RequestIdMiddleware), Middleware(ErrorMiddleware)]
    )
    async with await asgi(app) as c:
        response = await c.get("/x", headers={"X-Request-ID": "abc"})
    assert response.status_code == 500
    assert response.json()["errors"][0]["extensions"] == {"code": "INTERNAL_SERVER_ERROR", "requestId": "abc"}
    assert "secret internals" not in response.text


async def test_rate_limit_per_key_answers_429_with_retry_after(
    settings: Settings, endpoints: Endpoints, runtime: Runtime, keys: dict[str, str]
) -> None:
    # A long window, so the four requests practically never straddle a window edge.
    limited = create_app(
        settings.model_copy(update={"rate_limit_requests": 3, "rate_limit_window_seconds": 86400}), endpoints
    )
    async with limited.router.lifespan_context(limited), await asgi(limited) as c:
        query = {"query": "{ unreadNotificationCount }"}
        viewer = {"Authorization": f"Bearer {keys['viewer']}"}
        statuses = [(await c.post("/graphql", json=query, headers=viewer)).status_code for _ in range(3)]
        refused = await c.post("/graphql", json=query, headers=viewer)
        other_key = await c.post("/graphql", json=query, headers={"Authorization": f"Bearer {keys['service']}"})
    assert statuses == [200, 200, 200]
    assert refused.status_code == 429
    error = refused.json()["errors"][0]
    assert error["extensions"]["code"] == "RATE_LIMITED"
    assert int(refused.headers["retry-after"]) == error["extensions"]["retryAfter"] >= 1
    assert "at most 3 requests per 86400 s" in error["message"]
    assert other_key.status_code == 200


async def test_rate_limiter_counts_in_fixed_windows(runtime: Runtime, settings: Settings) -> None:
    limiter = RateLimiter(runtime.redis, f"{settings.redis_prefix}:rl-test", limit=2, window=60)
    t = 1_800_000_000.0  # a window start
    await limiter.check("k", now=t)
    await limiter.check("k", now=t + 1)
    with pytest.raises(RateLimited) as exc:
        await limiter.check("k", now=t + 20)
    assert exc.value.retry_after == 40 and exc.value.extensions() == {"code": "RATE_LIMITED", "retryAfter": 40}
    await limiter.check("k", now=t + 60)  # a new window


async def test_rate_limiter_fails_open_when_redis_is_down(caplog: pytest.LogCaptureFixture) -> None:
    from redis.asyncio import Redis

    dead = Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.5)
    limiter = RateLimiter(dead, "x", limit=1, window=60)
    for _ in range(3):
        await limiter.check("k")  # no exception: requests that only need PostgreSQL keep working
    assert any("rate limit not enforced" in r.getMessage() for r in caplog.records)
    await dead.aclose()


async def test_metrics_count_requests_errors_jobs_queue_and_outbox(
    client: httpx.AsyncClient, gql: GraphQLClient, runtime: Runtime, settings: Settings, endpoints: Endpoints
) -> None:
    await gql.ok("query MetricsProbe { unreadNotificationCount }")
    await gql('query MetricsBad { campaign(id: "nope") { id } }')
    job = await runtime.enqueue("ping")
    assert job is not None
    worker = build_worker(settings, endpoints, burst=True, handle_signals=False, poll_delay=0.05)
    try:
        await worker.main()
    finally:
        await worker.close()
    deferred = await runtime.enqueue("ping", _defer_by=3600)  # stays queued while we scrape
    assert deferred is not None
    try:
        text = (await client.get("/metrics")).text
    finally:
        # Leave an empty queue: a burst worker in a later test would wait for this job.
        await runtime.redis.zrem(runtime.queue_name, deferred.job_id)

    def value(line_start: str) -> float:
        lines = [ln for ln in text.splitlines() if ln.startswith(line_start)]
        assert lines, f"no {line_start} in /metrics"
        return float(lines[0].rsplit(" ", 1)[1])

    assert value('eventops_graphql_operations_total{operation="MetricsProbe",outcome="ok",type="query"}') >= 1
    assert value('eventops_graphql_operations_total{operation="MetricsBad",outcome="error",type="query"}') >= 1
    assert value('eventops_graphql_errors_total{code="VALIDATION_ERROR"}') >= 1
    assert value('eventops_http_requests_total{route="/graphql",status="200"}') >= 2
    assert value('eventops_graphql_operation_duration_seconds_count{operation="MetricsProbe"}') >= 1
    assert value('eventops_jobs_total{function="ping",outcome="started"}') >= 1
    assert value('eventops_jobs_total{function="ping",outcome="succeeded"}') >= 1
    assert value("eventops_queue_depth") >= 1
    assert value("eventops_outbox_pending") == 0


def test_redaction_of_keys_tokens_dsn_passwords_and_configured_secrets() -> None:
    register_settings_secrets(Settings(_env_file=None, secret_key="very-secret-pepper"))  # type: ignore[call-arg]
    text = redact(
        "key eo_AbCdEfGhIjKlMnOpQrStUv used; Authorization: Bearer abcdefghijklmnop; "
        "dsn postgresql://app:p4ss@db:5432/x; pepper very-secret-pepper"
    )
    assert "AbCdEf" not in text and "abcdefghijklmnop" not in text and "p4ss" not in text
    assert "very-secret-pepper" not in text and "postgresql://app:***@db:5432/x" in text


async def test_production_switches_off_graphiql_and_introspection(
    settings: Settings, endpoints: Endpoints, runtime: Runtime
) -> None:
    prod = create_app(settings.model_copy(update={"environment": "production"}), endpoints)
    async with prod.router.lifespan_context(prod), await asgi(prod) as c:
        ide = await c.get("/graphql", headers={"Accept": "text/html"})
        intro = await c.post("/graphql", json={"query": "{ __schema { types { name } } }"})
    assert ide.status_code == 404
    error = intro.json()["errors"][0]
    assert error["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED" and "introspection" in error["message"]
