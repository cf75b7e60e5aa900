"""The ASGI application: GraphQL at /graphql (POST, GET, websockets), health and readiness probes."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

from sqlalchemy import text
from starlette.applications import Starlette
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import BaseGraphQLTransportWSHandler

from app.auth import Authenticator
from app.notification_stream import NotificationHub
from app.runtime import Endpoints, Runtime, open_runtime
from app.settings import Settings, get_settings
from resolvers.context import Context
from schema import build_schema
from schema.error_convention import request_id_var

log = logging.getLogger(__name__)


class KeepAliveTransportWSHandler(BaseGraphQLTransportWSHandler[Context, None]):
    """graphql-transport-ws with server pings: an idle admin dashboard (and any proxy between it and us)
    sees traffic every ALERTS_KEEPALIVE_SECONDS, and a client answers each ping with a pong."""

    keepalive_seconds: float = 15.0

    async def handle(self) -> None:
        pinger = asyncio.create_task(self._ping_forever())
        try:
            await super().handle()
        finally:
            pinger.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await pinger

    async def _ping_forever(self) -> None:
        while True:
            await asyncio.sleep(self.keepalive_seconds)
            if self.connection_acknowledged:
                try:
                    await self.send_message({"type": "ping"})
                except Exception:  # noqa: BLE001 - the socket is closing; the handler ends itself
                    return


class EventopsGraphQL(GraphQL[Context, None]):
    def __init__(self, app_state: dict[str, Any], *, keepalive_seconds: float = 15.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._state = app_state
        self.graphql_transport_ws_handler_class = type(
            "EventopsTransportWSHandler", (KeepAliveTransportWSHandler,), {"keepalive_seconds": keepalive_seconds}
        )

    async def get_context(self, request: Request | WebSocket, response: Any) -> Context:
        runtime: Runtime = self._state["runtime"]
        principal = None
        if isinstance(request, Request):
            # Websockets authenticate in connection_init (on_ws_connect), as browsers cannot set headers.
            auth: Authenticator = self._state["auth"]
            principal = await auth.principal(request.headers.get("authorization"))
        return Context(
            runtime=runtime, principal=principal, request_id=request_id_var.get(), request=request, response=response
        )

    async def on_ws_connect(self, context: Context) -> Any:
        """connection_init must carry {"authorization": "Bearer KEY"} with a valid key (viewer or above);
        otherwise the socket is closed (4403) before any operation runs."""
        params = context.connection_params or {}
        header = params.get("authorization") or params.get("Authorization")
        auth: Authenticator = self._state["auth"]
        principal = await auth.principal(header if isinstance(header, str) else None)
        if principal is None:
            raise ConnectionRejectionError({"message": "a valid API key is required in connection_init"})
        context.principal = principal
        return None


class RequestIdMiddleware:
    """Give every request an id (or keep the caller's X-Request-ID), for logs and error messages."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        incoming = dict(scope.get("headers") or []).get(b"x-request-id", b"").decode("latin-1")
        rid = incoming if incoming and len(incoming) <= 64 and incoming.isprintable() else uuid.uuid4().hex
        token = request_id_var.set(rid)

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", rid.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            request_id_var.reset(token)


class BodySizeLimitMiddleware:
    """Refuse request bodies above the limit with 413 before they are read into memory."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._refuse(send)
            return
        received = 0
        refused = False

        async def limited_receive() -> Message:
            nonlocal received, refused
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    refused = True
                    raise _BodyTooLarge
            return message

        try:
            await self.app(scope, limited_receive, send)
        except _BodyTooLarge:
            await self._refuse(send)

    async def _refuse(self, send: Send) -> None:
        body = b'{"errors":[{"message":"request body too large (at most %d bytes)",' % self.max_bytes
        body += b'"extensions":{"code":"PAYLOAD_TOO_LARGE"}}]}'
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
            }
        )
        await send({"type": "http.response.body", "body": body})


class _BodyTooLarge(Exception):
    pass


def create_app(settings: Settings | None = None, endpoints: Endpoints | None = None) -> Starlette:
    settings = settings or get_settings()
    state: dict[str, Any] = {}
    schema = build_schema(introspection=settings.introspection)
    graphql_app = EventopsGraphQL(
        state,
        schema=schema,
        graphql_ide="graphiql" if settings.graphiql_enabled else None,
        keep_alive=True,  # the legacy graphql-ws protocol's "ka" messages
        keep_alive_interval=settings.alerts_keepalive_seconds,
        keepalive_seconds=settings.alerts_keepalive_seconds,
        connection_init_wait_timeout=timedelta(seconds=10),
    )

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with open_runtime(settings, endpoints) as runtime:
            state["runtime"] = runtime
            state["auth"] = Authenticator(runtime.sessionmaker, settings.secret_key.get_secret_value())
            runtime.extras["auth_cache"] = state["auth"].cache
            hub = NotificationHub(
                runtime.sessionmaker,
                runtime.endpoints.database_url,
                recheck_seconds=settings.alerts_recheck_seconds,
                subscriber_buffer=settings.alerts_subscriber_buffer,
            )
            runtime.extras["notification_hub"] = hub
            app.state.runtime = runtime
            await hub.start()
            try:
                yield
            finally:
                await hub.stop()

    async def healthz(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def readyz(request: Request) -> Response:
        runtime: Runtime = state["runtime"]
        checks: dict[str, str] = {}
        try:
            async with runtime.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
            checks["database"] = "ok"
        except Exception as exc:  # noqa: BLE001 - any failure means not ready
            checks["database"] = f"unavailable: {type(exc).__name__}"
        try:
            await runtime.redis.ping()
            checks["redis"] = "ok"
        except Exception as exc:  # noqa: BLE001
            checks["redis"] = f"unavailable: {type(exc).__name__}"
        ready = all(v == "ok" for v in checks.values())
        return JSONResponse({"status": "ready" if ready else "not ready", **checks}, status_code=200 if ready else 503)

    app = Starlette(
        routes=[
            Route("/graphql", graphql_app, methods=["GET", "POST"]),
            WebSocketRoute("/graphql", graphql_app),
            Route("/healthz", healthz),
            Route("/readyz", readyz),
        ],
        lifespan=lifespan,
    )
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST"],
            allow_headers=["Authorization", "Content-Type", "X-Request-ID"],
            expose_headers=["X-Request-ID"],
        )
    app.add_middleware(BodySizeLimitMiddleware, max_bytes=settings.max_body_bytes)
    app.add_middleware(RequestIdMiddleware)
    return app
