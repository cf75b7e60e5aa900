"""Platform connections: list them (never the token), connect an account, reconnect one after a halt."""

from __future__ import annotations

from app.services import connections, publishing
from app.services.api_keys import Role
from resolvers.context import Info, require
from resolvers.publishing import clock_of
from schema.enums import ConnectionStatus
from schema.inputs import ConnectPlatformInput, ReconnectPlatformInput
from schema.types import PlatformConnection, ReconnectResult


async def platform_connections(
    info: Info, platform: str | None = None, status: ConnectionStatus | None = None
) -> list[PlatformConnection]:
    ctx = require(info, Role.VIEWER)
    now = clock_of(ctx).now()
    async with ctx.transaction() as session:
        rows = await connections.list_connections(session, platform=platform)
    shown = [(c, connections.effective_status(c, now)) for c in rows]
    if status is not None:
        shown = [(c, s) for c, s in shown if s == status.value]
    return [PlatformConnection.from_model(c, s) for c, s in shown]


async def connect_platform(info: Info, input: ConnectPlatformInput) -> PlatformConnection:
    ctx = require(info, Role.ADMIN)
    clock = clock_of(ctx)
    async with ctx.transaction() as session:
        conn = await connections.connect(
            session,
            ctx.settings,
            platform=input.platform,
            account_id=input.account_id,
            display_name=input.display_name,
            token=connections.NewToken(input.access_token, input.token_expires_at, input.scopes),
            now=clock.now(),
        )
    return PlatformConnection.from_model(conn)


async def reconnect_platform(info: Info, input: ReconnectPlatformInput) -> ReconnectResult:
    ctx = require(info, Role.ADMIN)
    principal = ctx.require(Role.ADMIN)
    async with ctx.transaction() as session:
        conn, requeued = await publishing.reconnect(
            session,
            ctx.settings,
            platform=input.platform,
            account_id=input.account_id,
            token=connections.NewToken(input.access_token, input.token_expires_at, input.scopes),
            resolved_by=principal.name,
            clock=clock_of(ctx),
        )
    ctx.runtime.kick_outbox()
    return ReconnectResult(connection=PlatformConnection.from_model(conn), requeued_posts=requeued)
