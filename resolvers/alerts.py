"""Live alerts over graphql-transport-ws, and the admins' outgoing webhooks."""

from __future__ import annotations

from collections.abc import AsyncGenerator

import strawberry

from app.notification_stream import NotificationHub
from app.services import webhooks
from app.services.api_keys import Role
from resolvers.context import Info, require
from resolvers.notifications import _cursor
from schema.enums import Severity
from schema.types import Notification, Webhook, parse_id


async def alerts(
    info: Info, min_severity: Severity = Severity.INFO, after: strawberry.ID | None = None
) -> AsyncGenerator[Notification, None]:
    """Each new notification once, in id order; with after, first the ones since that cursor."""
    ctx = require(info, Role.VIEWER)
    hub: NotificationHub = ctx.runtime.extras["notification_hub"]
    cursor = _cursor(after, "after")
    async for row in hub.stream(after=cursor, min_severity=min_severity.value):
        yield Notification.from_model(row)


async def webhook_list(info: Info) -> list[Webhook]:
    ctx = require(info, Role.ADMIN)
    async with ctx.transaction() as session:
        return [Webhook.from_model(w) for w in await webhooks.list_webhooks(session)]


async def add_webhook(info: Info, url: str, min_severity: Severity, name: str) -> Webhook:
    ctx = require(info, Role.ADMIN)
    async with ctx.transaction() as session:
        w = await webhooks.add_webhook(session, ctx.settings, url=url, min_severity=min_severity.value, name=name)
    return Webhook.from_model(w)


async def remove_webhook(info: Info, id: strawberry.ID) -> Webhook:
    ctx = require(info, Role.ADMIN)
    async with ctx.transaction() as session:
        w = await webhooks.remove_webhook(session, parse_id(id, "id"))
    return Webhook.from_model(w)
