from __future__ import annotations

import strawberry

from app.services import errors
from app.services.api_keys import Role
from resolvers.context import Info, require
from schema.inputs import ErrorFilterInput, LogErrorInput
from schema.types import OperationError, OperationErrorConnection, PageInfo, parse_id


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
    )
    async with ctx.transaction() as session:
        error = await errors.log_error(session, ctx.settings, data)
    return OperationError.from_model(error)


async def resolve_error(info: Info, id: strawberry.ID, note: str | None = None) -> OperationError:
    ctx = require(info, Role.ADMIN)
    assert ctx.principal is not None
    async with ctx.transaction() as session:
        error = await errors.resolve_error(session, parse_id(id, "id"), resolved_by=ctx.principal.label(), note=note)
    return OperationError.from_model(error)


async def unresolved_errors(
    info: Info, filter: ErrorFilterInput | None = None, first: int = 20, after: str | None = None
) -> OperationErrorConnection:
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
        rows, has_next = await errors.unresolved_errors(session, flt, first=first, after=cursor)
    end = errors.ErrorCursor(rows[-1].created_at, rows[-1].id).encode() if rows else None
    return OperationErrorConnection(
        nodes=[OperationError.from_model(e) for e in rows], page_info=PageInfo(has_next_page=has_next, end_cursor=end)
    )
