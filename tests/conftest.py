"""Fixtures: real servers, one migrated database per run, tables emptied before each test."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.fernet import Fernet
from sqlalchemy import text

from app.asgi import create_app
from app.database import transaction
from app.migrate import upgrade
from app.runtime import Endpoints, Runtime, open_runtime
from app.services import api_keys
from app.settings import Settings
from tests.servers import ServerSet, start_test_servers

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
KEEP_TABLES = {"alembic_version", "api_keys"}
TEST_TOKEN_KEY = Fernet.generate_key().decode()


@pytest.fixture(scope="session")
def servers() -> Iterator[ServerSet]:
    s = start_test_servers()
    print(f"\ntest servers: {s.how}")
    yield s
    s.close()


@pytest.fixture(scope="session")
def database_url(servers: ServerSet) -> str:
    url = servers.new_database_url()
    upgrade(url)
    return url


@pytest.fixture(scope="session")
def endpoints(database_url: str, servers: ServerSet) -> Endpoints:
    return Endpoints(database_url=database_url, redis_url=servers.redis_url)


@pytest.fixture(scope="session")
def settings(endpoints: Endpoints, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        environment="test",
        database_url=endpoints.database_url,
        redis_url=endpoints.redis_url,
        redis_prefix=f"eventops-test-{uuid.uuid4().hex[:8]}",
        data_dir=tmp_path_factory.mktemp("data"),
        secret_key="test-secret",
        roi_min_spend="10",
        token_encryption_key=TEST_TOKEN_KEY,
        retry_jitter=0,  # backoff waits are asserted exactly
        # The suite (fuzzing included) sends thousands of requests with one key; rate limiting has its own tests.
        rate_limit_requests=0,
    )


@pytest.fixture(scope="session")
async def runtime(settings: Settings, endpoints: Endpoints) -> AsyncIterator[Runtime]:
    async with open_runtime(settings, endpoints) as rt:
        yield rt
        # Leave nothing behind in a shared Redis.
        keys = [k async for k in rt.redis.scan_iter(match=f"{settings.redis_prefix}*")]
        if keys:
            await rt.redis.delete(*keys)


@pytest.fixture(autouse=True)
async def clean_tables(request: pytest.FixtureRequest) -> None:
    if "runtime" not in request.fixturenames and "client" not in request.fixturenames:
        return
    rt: Runtime = request.getfixturevalue("runtime")
    async with rt.engine.begin() as conn:
        names = (await conn.execute(text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'"))).scalars()
        tables = [n for n in names if n not in KEEP_TABLES]
        if tables:
            await conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
    # Jobs queued by an earlier test (deferred retries) point at rows just deleted, and would keep a
    # burst worker waiting for an empty queue.
    await rt.redis.delete(rt.queue_name)


@pytest.fixture
async def session(runtime: Runtime) -> AsyncIterator[Any]:
    """A session in a transaction that is rolled back after the test."""
    async with runtime.sessionmaker() as s:
        yield s
        await s.rollback()


@pytest.fixture(scope="session")
async def keys(runtime: Runtime, settings: Settings) -> dict[str, str]:
    out = {}
    async with transaction(runtime.sessionmaker) as s:
        for role in ("viewer", "service", "admin"):
            _, key = await api_keys.create_key(
                s, name=f"test {role}", role=role, secret=settings.secret_key.get_secret_value()
            )
            out[role] = key
    return out


@pytest.fixture(scope="session")
async def app(settings: Settings, endpoints: Endpoints, runtime: Runtime) -> AsyncIterator[Any]:
    application = create_app(settings, endpoints)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def client(app: Any, runtime: Runtime) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://eventops.test") as c:
        yield c


class GraphQLClient:
    def __init__(self, http: httpx.AsyncClient, keys: dict[str, str]) -> None:
        self.http = http
        self.keys = keys

    async def __call__(
        self, query: str, variables: dict[str, Any] | None = None, *, role: str | None = "admin"
    ) -> dict[str, Any]:
        headers = {} if role is None else {"Authorization": f"Bearer {self.keys[role]}"}
        response = await self.http.post(
            "/graphql", json={"query": query, "variables": variables or {}}, headers=headers
        )
        assert response.status_code == 200, response.text
        return response.json()

    async def ok(self, query: str, variables: dict[str, Any] | None = None, *, role: str = "admin") -> dict[str, Any]:
        body = await self(query, variables, role=role)
        assert "errors" not in body, body["errors"]
        return body["data"]


@pytest.fixture
def gql(client: httpx.AsyncClient, keys: dict[str, str]) -> GraphQLClient:
    return GraphQLClient(client, keys)
