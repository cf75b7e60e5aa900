"""alerts over graphql-transport-ws, end to end: two real API processes, a real arq worker, real sockets.

The processes share a database of this module's own (the suite's per-test truncation restarts ids, which
a long-lived API process must never see), so every test subscribes from a cursor it read first.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
import websockets
from sqlalchemy import func, select, text
from websockets.exceptions import ConnectionClosed

from app.database import transaction
from app.migrate import upgrade
from app.models import Notification
from app.notification_stream import LISTENER_APPLICATION_NAME
from app.runtime import Endpoints, Runtime, open_runtime
from app.services import api_keys, notifications
from app.settings import Settings
from jobs.worker import build_worker
from tests.servers import ServerSet

REPO = Path(__file__).resolve().parents[2]
SUBSCRIPTION = """subscription($after: ID, $min: Severity!) {
  alerts(after: $after, minSeverity: $min) { id severity title type action data }
}"""
LOG = """mutation($input: LogErrorInput!) { logError(input: $input) { id } }"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Api:
    port: int
    proc: subprocess.Popen[bytes]

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/graphql"

    @property
    def http_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/graphql"


@dataclass
class Cluster:
    settings: Settings
    endpoints: Endpoints
    runtime: Runtime
    keys: dict[str, str]
    apis: list[Api]

    async def gql(self, api: Api, query: str, variables: dict[str, Any], role: str) -> dict[str, Any]:
        async with httpx.AsyncClient(timeout=30) as client:
            r = await client.post(
                api.http_url,
                json={"query": query, "variables": variables},
                headers={"Authorization": f"Bearer {self.keys[role]}"},
            )
        body = r.json()
        assert "errors" not in body, body
        return dict(body["data"])

    async def cursor(self) -> int:
        async with self.runtime.sessionmaker() as s:
            return int(await s.scalar(select(func.coalesce(func.max(Notification.id), 0))) or 0)

    async def notify(self, title: str, severity: str = "info") -> int:
        async with transaction(self.runtime.sessionmaker) as s:
            n = await notifications.create_notification(
                s, notifications.NewNotification(type="test", severity=severity, title=title, message=title)
            )
        assert n is not None
        return n.id

    async def log_error(self, api: Api, code: str, *, error_type: str = "API_ERROR") -> None:
        body = {
            "operationType": "social_posting",
            "errorType": error_type,
            "errorMessage": f"failed at {time.time()}",
            "platform": "facebook",
            "notifyAdmin": True,
            "errorCode": code,
        }
        await self.gql(api, LOG, {"input": body}, "service")


def _start_api(settings: Settings, port: int, log_dir: Path) -> Api:
    env = {
        **os.environ,
        "DATABASE_URL": settings.database_url or "",
        "REDIS_URL": settings.redis_url or "",
        "SECRET_KEY": settings.secret_key.get_secret_value(),
        "REDIS_PREFIX": settings.redis_prefix,
        "ENVIRONMENT": "test",
        "LOG_LEVEL": "WARNING",
        "ALERTS_KEEPALIVE_SECONDS": "1",
        "ALERTS_RECHECK_SECONDS": "2",
    }
    out = (log_dir / f"api-{port}.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "serve", "--port", str(port)], env=env, stdout=out, stderr=out, cwd=REPO
    )
    return Api(port, proc)


def _wait_healthy(api: Api, log_dir: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if api.proc.poll() is not None:
            raise AssertionError((log_dir / f"api-{api.port}.log").read_text())
        try:
            if httpx.get(f"http://127.0.0.1:{api.port}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"API on port {api.port} did not become healthy")


@pytest.fixture(scope="module")
def alerts_database(servers: ServerSet) -> Iterator[str]:
    url = servers.new_database_url("alerts")
    upgrade(url)
    yield url
    servers.drop_database(url)


@pytest.fixture(scope="module")
async def cluster(
    alerts_database: str, servers: ServerSet, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Cluster]:
    log_dir = tmp_path_factory.mktemp("alerts-logs")
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        environment="test",
        database_url=alerts_database,
        redis_url=servers.redis_url,
        redis_prefix=f"eventops-alerts-{uuid.uuid4().hex[:8]}",
        data_dir=log_dir,
        secret_key="alerts-secret",
        webhook_max_attempts=1,
    )
    endpoints = Endpoints(database_url=alerts_database, redis_url=servers.redis_url)
    apis = [_start_api(settings, free_port(), log_dir) for _ in range(2)]
    try:
        for api in apis:
            await asyncio.to_thread(_wait_healthy, api, log_dir)
        async with open_runtime(settings, endpoints) as runtime:
            keys = {}
            async with transaction(runtime.sessionmaker) as s:
                for role in ("viewer", "service", "admin"):
                    _, keys[role] = await api_keys.create_key(
                        s, name=f"alerts {role}", role=role, secret="alerts-secret"
                    )
            yield Cluster(settings, endpoints, runtime, keys, apis)
            found = [k async for k in runtime.redis.scan_iter(match=f"{settings.redis_prefix}*")]
            if found:
                await runtime.redis.delete(*found)
    finally:
        for api in apis:
            api.proc.terminate()
        for api in apis:
            try:
                api.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                api.proc.kill()


class Subscriber:
    """A graphql-transport-ws client: connection_init with the key, one alerts subscription."""

    def __init__(self, ws: Any) -> None:
        self.ws = ws
        self.pings = 0

    @classmethod
    async def open(cls, api: Api, key: str, *, after: int | None, min_severity: str = "INFO") -> Subscriber:
        ws = await websockets.connect(api.ws_url, subprotocols=["graphql-transport-ws"])  # type: ignore[list-item]
        await ws.send(json.dumps({"type": "connection_init", "payload": {"authorization": f"Bearer {key}"}}))
        ack = json.loads(await asyncio.wait_for(ws.recv(), 10))
        assert ack["type"] == "connection_ack", ack
        variables = {"after": None if after is None else str(after), "min": min_severity}
        await ws.send(
            json.dumps(
                {"id": "alerts", "type": "subscribe", "payload": {"query": SUBSCRIPTION, "variables": variables}}
            )
        )
        return cls(ws)

    async def next(self) -> dict[str, Any]:
        """The next alert (within 15 s); answers the server's keep-alive pings on the way."""
        async with asyncio.timeout(15):
            while True:
                message = json.loads(await self.ws.recv())
                if message["type"] == "ping":
                    self.pings += 1
                    await self.ws.send(json.dumps({"type": "pong"}))
                    continue
                assert message["type"] == "next", message
                assert "errors" not in message["payload"], message
                return dict(message["payload"]["data"]["alerts"])

    async def titles(self, n: int) -> list[str]:
        return [(await self.next())["title"] for _ in range(n)]

    async def close(self) -> None:
        await self.ws.close()


async def test_a_socket_without_a_valid_key_is_refused(cluster: Cluster) -> None:
    api = cluster.apis[0]
    for payload in ({}, {"authorization": "Bearer eo_not_a_key"}, {"authorization": cluster.keys["viewer"]}):
        async with websockets.connect(api.ws_url, subprotocols=["graphql-transport-ws"]) as ws:  # type: ignore[list-item]
            await ws.send(json.dumps({"type": "connection_init", "payload": payload}))
            with pytest.raises(ConnectionClosed) as closed:
                await asyncio.wait_for(ws.recv(), 10)
            assert closed.value.rcvd is not None and closed.value.rcvd.code == 4403, payload
    # Subscribing without connection_init is refused too.
    async with websockets.connect(api.ws_url, subprotocols=["graphql-transport-ws"]) as ws:  # type: ignore[list-item]
        await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": SUBSCRIPTION}}))
        with pytest.raises(ConnectionClosed) as closed:
            await asyncio.wait_for(ws.recv(), 10)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4401


async def test_api_and_worker_notifications_reach_subscribers_on_both_processes_exactly_once(
    cluster: Cluster,
) -> None:
    a, b = cluster.apis
    # A webhook nobody listens on: its delivery fails in the worker, which then alerts the admins.
    dead_port = free_port()
    await cluster.gql(
        a,
        'mutation($url: String!) { addWebhook(url: $url, minSeverity: INFO, name: "ops") { id } }',
        {"url": f"http://127.0.0.1:{dead_port}/services/T0/B0/secret"},
        "admin",
    )
    start = await cluster.cursor()
    subs = [
        await Subscriber.open(a, cluster.keys["viewer"], after=start),
        await Subscriber.open(b, cluster.keys["viewer"], after=start),
    ]
    try:
        await cluster.log_error(a, "100")  # through API process A
        first = [await s.next() for s in subs]
        assert [f["title"] for f in first] == ["Autonomous operation error: api_error in social_posting"] * 2
        assert first[0]["id"] == first[1]["id"] and first[0]["severity"] == "WARNING"

        await cluster.runtime.relay_outbox()  # the delivery job (API process A may already have queued it)
        worker = build_worker(cluster.settings, cluster.endpoints, burst=True, handle_signals=False, poll_delay=0.05)
        try:
            await worker.main()
        finally:
            await worker.close()
        second = [await s.next() for s in subs]
        assert [s["title"] for s in second] == ["Alert webhook 'ops' is failing"] * 2
        assert second[0]["type"] == "webhook_failing" and int(second[0]["id"]) > int(first[0]["id"])
        assert "secret" not in json.dumps(second[0])  # the URL is masked

        marker = await cluster.notify("marker")
        # The next thing each subscriber sees is the marker: nothing was delivered twice in between.
        for s in subs:
            got = await s.next()
            assert (got["title"], int(got["id"])) == ("marker", marker)
    finally:
        for s in subs:
            await s.close()
        async with transaction(cluster.runtime.sessionmaker) as s:
            await s.execute(text("DELETE FROM alert_webhooks"))


async def test_a_subscriber_that_reconnects_with_its_cursor_gets_exactly_what_it_missed_then_live(
    cluster: Cluster,
) -> None:
    a, b = cluster.apis
    start = await cluster.cursor()
    sub = await Subscriber.open(b, cluster.keys["viewer"], after=start)
    await cluster.notify("before the disconnect")
    seen = await sub.next()
    assert seen["title"] == "before the disconnect"
    await sub.close()

    await cluster.log_error(a, "201")
    await cluster.notify("missed 2")
    await cluster.log_error(a, "202", error_type="TOKEN_EXPIRED")

    sub = await Subscriber.open(b, cluster.keys["viewer"], after=int(seen["id"]))
    try:
        missed = [await sub.next() for _ in range(3)]
        assert [m["title"] for m in missed] == [
            "Autonomous operation error: api_error in social_posting",
            "missed 2",
            "URGENT: Facebook token expired",
        ]
        assert [int(m["id"]) for m in missed] == sorted(int(m["id"]) for m in missed)
        live = await cluster.notify("live")
        got = await sub.next()
        assert (got["title"], int(got["id"])) == ("live", live)
    finally:
        await sub.close()


async def test_min_severity_filters_and_idle_sockets_get_keep_alive_pings(cluster: Cluster) -> None:
    start = await cluster.cursor()
    sub = await Subscriber.open(cluster.apis[0], cluster.keys["viewer"], after=start, min_severity="URGENT")
    try:
        await cluster.notify("quiet", "info")
        await cluster.notify("loud", "urgent")
        assert (await sub.next())["title"] == "loud"
        # Idle: the server pings (every second in this module's settings), the client pongs.
        message = json.loads(await asyncio.wait_for(sub.ws.recv(), 10))
        assert message == {"type": "ping"}
        await sub.ws.send(json.dumps({"type": "pong"}))
    finally:
        await sub.close()


async def test_subscriptions_survive_the_loss_of_the_listen_connection(cluster: Cluster) -> None:
    start = await cluster.cursor()
    subs = [await Subscriber.open(api, cluster.keys["viewer"], after=start) for api in cluster.apis]
    # The URL's database name (an embedded server's URL ends in ?host=/socket/dir, so not the last "/" part).
    database = urlsplit(cluster.endpoints.database_url).path.lstrip("/")
    listeners = text("SELECT pid FROM pg_stat_activity WHERE application_name = :app AND datname = :db")
    try:
        async with cluster.runtime.engine.connect() as conn:
            before = (await conn.execute(listeners, {"app": LISTENER_APPLICATION_NAME, "db": database})).scalars().all()
            assert len(before) == 2  # one LISTEN connection per API process, not per subscriber
            # What a PostgreSQL restart does to them.
            await conn.execute(
                text("SELECT pg_terminate_backend(pid) FROM unnest(CAST(:pids AS int[])) AS pid"),
                {"pids": list(before)},
            )
        await cluster.notify("after the restart")
        for s in subs:
            assert (await s.next())["title"] == "after the restart"
        for _ in range(200):
            async with cluster.runtime.engine.connect() as conn:
                after = (
                    (await conn.execute(listeners, {"app": LISTENER_APPLICATION_NAME, "db": database})).scalars().all()
                )
            if len(after) == 2 and not set(after) & set(before):
                break
            await asyncio.sleep(0.05)
        else:
            raise AssertionError("the API processes did not LISTEN again")
        await cluster.notify("and live again")
        for s in subs:
            assert (await s.next())["title"] == "and live again"
    finally:
        for s in subs:
            await s.close()
