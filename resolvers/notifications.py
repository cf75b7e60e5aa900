from __future__ import annotations

import strawberry

from app.services import notifications
from app.services.api_keys import Role
from resolvers.context import Info, require
from schema.enums import Severity
from schema.types import Notification


def _cursor(value: strawberry.ID | None, field: str) -> int | None:
    from app.errors import ValidationFailed

    if value is None:
        return None
    try:
        return int(value)
    except ValueError:
        raise ValidationFailed(f"{field} must be a notification id", field=field) from None


async def notification_list(
    info: Info,
    unread_only: bool = False,
    min_severity: Severity | None = None,
    before: strawberry.ID | None = None,
    limit: int = 50,
) -> list[Notification]:
    ctx = require(info, Role.VIEWER)
    limit = ctx.page_size(limit)
    async with ctx.transaction() as session:
        rows = await notifications.list_notifications(
            session,
            unread_only=unread_only,
            min_severity=None if min_severity is None else min_severity.value,
            before=_cursor(before, "before"),
            limit=limit,
        )
    return [Notification.from_model(n) for n in rows]


async def unread_notification_count(info: Info) -> int:
    ctx = require(info, Role.VIEWER)
    async with ctx.transaction() as session:
        return await notifications.unread_count(session)


async def mark_notifications_read(info: Info, ids: list[strawberry.ID] | None = None) -> int:
    ctx = require(info, Role.ADMIN)
    parsed = None if ids is None else [n for n in (_cursor(i, "ids") for i in ids) if n is not None]
    async with ctx.transaction() as session:
        return await notifications.mark_read(session, parsed)
