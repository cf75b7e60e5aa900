"""Outgoing Slack-compatible webhooks for admins who are not looking at the dashboard.

A notification of at least a webhook's minimum severity gets a delivery row and an outbox job in the
notification's own transaction; the worker posts it (jobs/webhooks.py). The (webhook, notification) pair
is the idempotency key: a retried job whose delivery already succeeded sends nothing, and a row lock
keeps two runs of one delivery from posting twice. A crash between Slack's answer and our commit can
still repeat a message: Slack's incoming webhooks have no idempotency of their own (we send the key as an
Idempotency-Key header for receivers that do).

Webhook URLs are secrets (whoever holds one can post to the channel): they are stored, posted to, and
otherwise only shown masked — never returned whole, never logged.
"""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import httpx
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.database import transaction
from app.errors import NotFound, ValidationFailed
from app.models import AlertWebhook, Notification, WebhookDelivery
from app.models.notification import SEVERITIES
from app.services import job_outbox
from app.services.validation import check_text
from app.settings import Settings

log = logging.getLogger(__name__)

SEVERITY_RANK = {name: rank for rank, name in enumerate(SEVERITIES)}
DELIVER_JOB = "deliver_webhook"


def mask_url(url: str) -> str:
    """Scheme and host, then the path hidden but for its last four characters."""
    parts = urlsplit(url)
    tail = (parts.path + ("?" + parts.query if parts.query else ""))[-4:]
    return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}/…{tail}"


def host_of(url: str) -> str:
    return urlsplit(url).hostname or "?"


def check_webhook_url(value: Any, settings: Settings) -> str:
    url = check_text(value, "url", 2000, required=True).strip()
    parts = urlsplit(url)
    allowed = ("https", "http") if settings.webhook_http_allowed else ("https",)
    if parts.scheme not in allowed:
        raise ValidationFailed(f"url must start with {' or '.join(s + '://' for s in allowed)}", field="url")
    if not parts.hostname:
        raise ValidationFailed("url must name a host", field="url")
    if any(c.isspace() for c in url):
        raise ValidationFailed("url must not contain spaces", field="url")
    return url


def check_severity(value: Any, field: str = "min_severity") -> str:
    if value not in SEVERITY_RANK:
        raise ValidationFailed(f"{field} must be one of {', '.join(SEVERITIES)}, got {value!r}", field=field)
    return str(value)


async def add_webhook(
    session: AsyncSession, settings: Settings, *, url: Any, min_severity: Any, name: Any
) -> AlertWebhook:
    webhook = AlertWebhook(
        name=check_text(name, "name", 200, required=True),
        url=check_webhook_url(url, settings),
        min_severity=check_severity(min_severity),
    )
    session.add(webhook)
    await session.flush()
    await session.refresh(webhook)
    return webhook


async def remove_webhook(session: AsyncSession, webhook_id: uuid.UUID) -> AlertWebhook:
    """Delete the webhook (and its delivery records); pending deliveries then send nothing."""
    webhook = await session.get(AlertWebhook, webhook_id)
    if webhook is None:
        raise NotFound(f"webhook {webhook_id} does not exist", field="id")
    await session.delete(webhook)
    await session.flush()
    return webhook


async def list_webhooks(session: AsyncSession) -> list[AlertWebhook]:
    return list((await session.scalars(select(AlertWebhook).order_by(AlertWebhook.created_at, AlertWebhook.id))).all())


def job_id(webhook_id: uuid.UUID | str, notification_id: int) -> str:
    return f"webhook:{webhook_id}:{notification_id}"


async def enqueue_deliveries(session: AsyncSession, notification: Notification) -> int:
    """In the notification's transaction: one delivery (row + outbox job) per active webhook that wants
    this severity. A webhook's own failure alert is not sent to it."""
    wanted = [s for s in SEVERITIES if SEVERITY_RANK[s] <= SEVERITY_RANK[notification.severity]]
    stmt = select(AlertWebhook.id).where(AlertWebhook.active.is_(True), AlertWebhook.min_severity.in_(wanted))
    about = (notification.data or {}).get("webhook_id")
    ids = [wid for wid in (await session.scalars(stmt)).all() if str(wid) != about]
    for wid in ids:
        await session.execute(
            insert(WebhookDelivery)
            .values(webhook_id=wid, notification_id=notification.id)
            .on_conflict_do_nothing(constraint="uq_webhook_deliveries_webhook_notification")
        )
        await job_outbox.enqueue(session, DELIVER_JOB, str(wid), notification.id, job_id=job_id(wid, notification.id))
    return len(ids)


def slack_payload(n: Notification) -> dict[str, Any]:
    lines = [f"*[{n.severity.upper()}]* {n.title}", n.message]
    if n.action:
        lines.append(f"→ {n.action}")
    return {"text": "\n".join(lines)}


async def deliver(
    sessionmaker: async_sessionmaker[AsyncSession],
    settings: Settings,
    client: httpx.AsyncClient,
    webhook_id: uuid.UUID,
    notification_id: int,
    *,
    attempt: int,
    final: bool,
) -> str:
    """Post one notification to one webhook. Returns delivered, retry, failed, or why nothing was sent
    (already delivered, already failed, gone)."""
    from app.services import notifications  # notifications imports this module

    async with transaction(sessionmaker) as session:
        # The row lock is held across the POST: a second run of the same delivery waits, then sees it done.
        delivery = await session.scalar(
            select(WebhookDelivery)
            .where(WebhookDelivery.webhook_id == webhook_id, WebhookDelivery.notification_id == notification_id)
            .with_for_update()
        )
        if delivery is None:
            return "gone"
        if delivery.status != "pending":
            return f"already {delivery.status}"
        webhook = await session.get(AlertWebhook, webhook_id)
        notification = await session.get(Notification, notification_id)
        if webhook is None or notification is None or not webhook.active:
            delivery.status = "failed"
            delivery.last_error = "webhook inactive"
            return "gone"
        error: str | None
        try:
            response = await client.post(
                webhook.url,
                json=slack_payload(notification),
                headers={"Idempotency-Key": job_id(webhook_id, notification_id)},
                timeout=settings.webhook_timeout_seconds,
            )
            error = None if 200 <= response.status_code < 300 else f"HTTP {response.status_code}"
        except httpx.HTTPError as exc:
            # The exception's text may contain the URL: only its type is recorded.
            error = type(exc).__name__
        delivery.attempts += 1
        now = datetime.now(UTC)
        if error is None:
            delivery.status = "delivered"
            delivery.delivered_at = now
            delivery.last_error = None
            webhook.failing_since = None
            return "delivered"
        delivery.last_error = error
        log.warning(
            "webhook %s (%s, host %s): delivering notification %s failed on attempt %d: %s%s",
            webhook.id,
            webhook.name,
            host_of(webhook.url),
            notification_id,
            attempt,
            error,
            "; giving up" if final else "; will retry",
        )
        if not final:
            return "retry"
        delivery.status = "failed"
        # Deliveries run concurrently: lock the webhook so one of them, not each, raises the alert.
        await session.refresh(webhook, with_for_update=True)
        if webhook.failing_since is None:
            # Tell the admins once per failing spell (through the dashboard and the other webhooks).
            webhook.failing_since = now
            await session.flush()
            await notifications.create_notification(
                session,
                notifications.NewNotification(
                    type="webhook_failing",
                    severity="warning",
                    title=f"Alert webhook '{webhook.name}' is failing",
                    message=(
                        f"Notifications could not be delivered to {mask_url(webhook.url)} "
                        f"after {delivery.attempts} attempts ({error})."
                    ),
                    action="Check the webhook URL in the alert settings",
                    data={"webhook_id": str(webhook.id), "notification_id": notification_id, "error": error},
                    dedup_key=f"webhook_failing:{webhook.id}:{notification_id}",
                ),
            )
        return "failed"
