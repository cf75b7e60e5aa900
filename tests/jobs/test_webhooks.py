"""Webhook delivery by a real arq worker to a local HTTP server: retries, idempotency, failure alerts."""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import uvicorn
from sqlalchemy import select
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from app.database import transaction
from app.models import Notification, WebhookDelivery
from app.runtime import Endpoints, Runtime
from app.services import notifications, webhooks
from app.settings import Settings
from jobs.worker import build_worker


@dataclass
class Receiver:
    """A Slack-like incoming webhook that fails its first `fail_first` requests."""

    port: int = 0
    fail_first: int = 0
    requests: list[dict[str, Any]] = field(default_factory=list)

    def url(self, path: str = "/services/T01/B02/s3cr3tToken") -> str:
        return f"http://127.0.0.1:{self.port}{path}"


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    rec = Receiver()

    async def hook(request: Request) -> Response:
        rec.requests.append({"body": await request.json(), "key": request.headers.get("idempotency-key")})
        if len(rec.requests) <= rec.fail_first:
            return JSONResponse({"error": "try later"}, status_code=503)
        return Response("ok")

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        rec.port = s.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(
            Starlette(routes=[Route("/{path:path}", hook, methods=["POST"])]), port=rec.port, log_level="error"
        )
    )
    task = asyncio.create_task(server.serve())
    while not server.started:  # noqa: ASYNC110 - uvicorn offers no startup event
        await asyncio.sleep(0.01)
    yield rec
    server.should_exit = True
    try:
        # A keep-alive connection left open can hold uvicorn's graceful shutdown; never hang the suite on it.
        await asyncio.wait_for(task, timeout=10)
    except TimeoutError:
        server.force_exit = True
        task.cancel()


async def run_worker(settings: Settings, endpoints: Endpoints) -> None:
    worker = build_worker(settings, endpoints, burst=True, handle_signals=False, poll_delay=0.02)
    try:
        await worker.main()
    finally:
        await worker.close()


async def notify(runtime: Runtime, title: str, severity: str) -> int:
    async with transaction(runtime.sessionmaker) as s:
        n = await notifications.create_notification(
            s,
            notifications.NewNotification(
                type="system_alert", severity=severity, title=title, message="details", action="Reconnect Facebook"
            ),
        )
    assert n is not None
    await runtime.relay_outbox()
    return n.id


async def test_a_webhook_is_retried_until_it_answers_and_a_rerun_sends_nothing_more(
    runtime: Runtime, settings: Settings, endpoints: Endpoints, receiver: Receiver
) -> None:
    fast = settings.model_copy(update={"webhook_retry_base_seconds": 0.01, "webhook_max_attempts": 5})
    receiver.fail_first = 2
    async with transaction(runtime.sessionmaker) as s:
        hook = await webhooks.add_webhook(s, fast, url=receiver.url(), min_severity="warning", name="ops")
    await notify(runtime, "not loud enough", "info")  # below the webhook's minimum: no delivery
    nid = await notify(runtime, "Facebook token expired", "urgent")
    await run_worker(fast, endpoints)

    assert len(receiver.requests) == 3  # two 503s, then delivered
    assert {r["key"] for r in receiver.requests} == {f"webhook:{hook.id}:{nid}"}
    assert receiver.requests[-1]["body"] == {"text": "*[URGENT]* Facebook token expired\ndetails\n→ Reconnect Facebook"}
    async with runtime.sessionmaker() as s:
        deliveries = (await s.scalars(select(WebhookDelivery))).all()
    assert [(d.notification_id, d.status, d.attempts) for d in deliveries] == [(nid, "delivered", 3)]

    # The same delivery run again (a retried job after success): nothing is sent.
    async with httpx.AsyncClient() as client:
        outcome = await webhooks.deliver(runtime.sessionmaker, fast, client, hook.id, nid, attempt=1, final=False)
    assert outcome == "already delivered" and len(receiver.requests) == 3


async def test_a_failing_webhook_gives_up_logs_without_its_url_and_alerts_once(
    runtime: Runtime,
    settings: Settings,
    endpoints: Endpoints,
    receiver: Receiver,
    caplog: pytest.LogCaptureFixture,
) -> None:
    fast = settings.model_copy(update={"webhook_retry_base_seconds": 0.01, "webhook_max_attempts": 2})
    receiver.fail_first = 1000
    async with transaction(runtime.sessionmaker) as s:
        broken = await webhooks.add_webhook(s, fast, url=receiver.url(), min_severity="info", name="broken")
    first = await notify(runtime, "one", "warning")
    second = await notify(runtime, "two", "warning")
    with caplog.at_level(logging.WARNING, logger="app.services.webhooks"):
        await run_worker(fast, endpoints)

    assert len(receiver.requests) == 4  # two notifications × two attempts
    async with runtime.sessionmaker() as s:
        deliveries = (await s.scalars(select(WebhookDelivery).order_by(WebhookDelivery.notification_id))).all()
        alerts = (await s.scalars(select(Notification).where(Notification.type == "webhook_failing"))).all()
    assert [(d.notification_id, d.status, d.attempts, d.last_error) for d in deliveries] == [
        (first, "failed", 2, "HTTP 503"),
        (second, "failed", 2, "HTTP 503"),
    ]
    # One alert per failing spell, not one per failed delivery; it names the webhook, masks its URL.
    assert len(alerts) == 1
    assert alerts[0].title == "Alert webhook 'broken' is failing"
    assert "s3cr3t" not in alerts[0].message and f"127.0.0.1:{receiver.port}/…oken" in alerts[0].message
    assert "giving up" in caplog.text and "s3cr3t" not in caplog.text and "/services/" not in caplog.text
    async with runtime.sessionmaker() as s:
        refreshed = await s.get(type(broken), broken.id)
        assert refreshed is not None and refreshed.failing_since is not None
