"""Delivering notifications to the admins' webhooks, with arq retries (see app/services/webhooks.py)."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import httpx
from arq import Retry

from app.runtime import Runtime
from app.services import webhooks


async def deliver_webhook(ctx: dict[str, Any], webhook_id: str, notification_id: int) -> str:
    runtime: Runtime = ctx["runtime"]
    settings = runtime.settings
    attempt = int(ctx.get("job_try", 1))
    final = attempt >= settings.webhook_max_attempts
    # follow_redirects off: a webhook answering with a redirect is a misconfiguration, not a delivery.
    async with httpx.AsyncClient(follow_redirects=False) as client:
        outcome = await webhooks.deliver(
            runtime.sessionmaker,
            settings,
            client,
            uuid.UUID(webhook_id),
            int(notification_id),
            attempt=attempt,
            final=final,
        )
    if outcome == "retry":
        raise Retry(defer=timedelta(seconds=settings.webhook_retry_base_seconds * 2 ** (attempt - 1)))
    if outcome == "failed":
        runtime.kick_outbox()  # the failure alert may have deliveries to other webhooks
    return outcome
