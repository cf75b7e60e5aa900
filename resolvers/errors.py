from __future__ import annotations

import datetime as dt

import strawberry

from app.services import errors, job_outbox
from app.services.api_keys import Role
from resolvers.context import Info, require
from schema.inputs import ErrorFilterInput, LogErrorInput
from schema.types import ErrorGroup, ErrorGroupConnection, OperationError, PageInfo, parse_id


async def log_error(info: Info, input: LogErrorInput) -> OperationError:
    ctx = require(info, Role.SERVICE)
    data = errors.ErrorInput(
        operation_type=input.operation_type,
        error_type=input.error_type.value,
        error_message=input.error_message,
        error_details=input.error_details,
        campaign_id=None if input.campaign_id is None else parse_id(input.campaign_id, "campaignId"),
        platform=input.platform,
        notify_admin=input.notify_admin,
        account_id=input.account_id,
        error_code=input.error_code,
        occurred_at=input.occurred_at,
    )
    async with ctx.transaction() as session:
        error = await errors.log_error(session, ctx.settings, data)
    if job_outbox.enqueued(session):  # a notification with webhook deliveries to queue (rare: not per error)
        ctx.runtime.kick_outbox()
    return OperationError.from_model(error)


async def resolve_error(info: Info, id: strawberry.ID, note: str | None = None) -> ErrorGroup:
    """Resolve a group by its id (or by the id of one of its occurrences)."""
    ctx = require(info, Role.ADMIN)
    assert ctx.principal is not None
    async with ctx.transaction() as session:
        group = await errors.resolve_error(session, parse_id(id, "id"), resolved_by=ctx.principal.label(), note=note)
        latest = await errors.latest_occurrence(session, group)
    return ErrorGroup.from_model(group, latest)


async def ignore_error_group(info: Info, id: strawberry.ID, until: dt.datetime | None = None) -> ErrorGroup:
    ctx = require(info, Role.ADMIN)
    async with ctx.transaction() as session:
        group = await errors.ignore_group(session, parse_id(id, "id"), until=until)
        latest = await errors.latest_occurrence(session, group)
    return ErrorGroup.from_model(group, latest)


async def error_group(info: Info, id: strawberry.ID) -> ErrorGroup:
    ctx = require(info, Role.VIEWER)
    async with ctx.transaction() as session:
        group = await errors.get_group(session, parse_id(id, "id"))
        latest = await errors.latest_occurrence(session, group)
    return ErrorGroup.from_model(group, latest)


async def unresolved_errors(
    info: Info, filter: ErrorFilterInput | None = None, first: int = 20, after: str | None = None
) -> ErrorGroupConnection:
    ctx = require(info, Role.VIEWER)
    first = ctx.page_size(first, "first")
    flt = errors.ErrorFilter()
    if filter is not None:
        flt = errors.ErrorFilter(
            operation_type=filter.operation_type,
            error_type=None if filter.error_type is None else filter.error_type.value,
            campaign_id=None if filter.campaign_id is None else parse_id(filter.campaign_id, "filter.campaignId"),
            platform=filter.platform,
        )
    cursor = None if after is None else errors.ErrorCursor.decode(after)
    async with ctx.transaction() as session:
        rows, has_next = await errors.unresolved_groups(session, flt, first=first, after=cursor)
    end = errors.ErrorCursor(rows[-1].group.last_seen, rows[-1].group.id).encode() if rows else None
    return ErrorGroupConnection(
        nodes=[ErrorGroup.from_model(r.group, r.latest) for r in rows],
        page_info=PageInfo(has_next_page=has_next, end_cursor=end),
    )
