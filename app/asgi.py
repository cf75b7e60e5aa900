"""The ASGI application: GraphQL at /graphql (POST, GET, websockets), health and readiness probes."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

from cross_web import HTTPException
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
from strawberry.extensions import SchemaExtension
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import BaseGraphQLTransportWSHandler
from strawberry.types.unset import UNSET

from app import metrics
from app.auth import Authenticator
from app.notification_stream import NotificationHub
from app.rate_limit import RateLimited, RateLimiter
from app.runtime import Endpoints, Runtime, open_runtime
from app.settings import Settings, get_settings
from resolvers.context import Context
from schema import build_schema
from schema.error_convention import classify_exception, internal_error, request_id_var
from schema.limits import QueryLimits

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


GRAPHQL_RESPONSE_JSON = "application/graphql-response+json"


def accepts_graphql_response_json(accept: str | None) -> bool:
    """True when the client prefers application/graphql-response+json over application/json.

    Without an Accept header (or with only */*), the GraphQL-over-HTTP spec says to answer
    application/json, so legacy clients keep their 200s."""
    if not accept:
        return False
    weights: dict[str, float] = {}
    for part in accept.split(","):
        media, *params = (p.strip() for p in part.split(";"))
        q = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        weights[media.lower()] = max(q, weights.get(media.lower(), 0.0))
    preferred = weights.get(GRAPHQL_RESPONSE_JSON, 0.0)
    return preferred > 0 and preferred >= weights.get("application/json", 0.0)


def is_request_error(result: Any) -> bool:
    """A GraphQL request error (parse, validation, variables, limits): nothing executed, no data entry."""
    errors = getattr(result, "errors", None) or []
    return bool(errors) and result.data is None and all(e.path is None for e in errors)


def json_error_response(message: str, code: str, status: int, **extra: Any) -> JSONResponse:
    """An error outside GraphQL execution, in the same shape as a GraphQL error."""
    headers = {}
    if "retryAfter" in extra:
        headers["Retry-After"] = str(extra["retryAfter"])
    body = {"errors": [{"message": message, "extensions": {"code": code, **extra}}]}
    return JSONResponse(body, status_code=status, headers=headers)


class EventopsGraphQL(GraphQL[Context, None]):
    """Strawberry's view plus: application/graphql-response+json with the spec's status codes, errors
    outside execution in the error convention, per-key rate limiting, and a context that defers a
    failed authentication (database down) to the fields that need it. Websockets authenticate in
    connection_init and get server keep-alive pings."""

    def __init__(self, app_state: dict[str, Any], *, keepalive_seconds: float = 15.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._state = app_state
        self.graphql_transport_ws_handler_class = type(
            "EventopsTransportWSHandler", (KeepAliveTransportWSHandler,), {"keepalive_seconds": keepalive_seconds}
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        request = Request(scope=scope, receive=receive)
        try:
            response = await self.run(request)
        except (UnicodeDecodeError, AttributeError, TypeError) as exc:
            # Strawberry assumes a UTF-8 JSON object; anything else is the caller's mistake, not ours.
            reason = await _malformed_body(request)
            if reason is None:
                raise
            log.info("malformed request body: %s (%s)", reason, type(exc).__name__)
            response = json_error_response(reason, "BAD_REQUEST", 400)
        except HTTPException as exc:
            response = json_error_response(
                exc.reason, "BAD_REQUEST" if exc.status_code == 400 else "HTTP_ERROR", exc.status_code
            )
        except RateLimited as exc:
            metrics.RATE_LIMITED.inc()
            response = json_error_response(exc.message, exc.code, 429, retryAfter=exc.retry_after)
        await response(scope, receive, send)

    async def get_context(self, request: Request | WebSocket, response: Any) -> Context:
        runtime: Runtime = self._state["runtime"]
        principal = None
        auth_error: BaseException | None = None
        if isinstance(request, Request):
            # Websockets authenticate in connection_init (on_ws_connect), as browsers cannot set headers.
            auth: Authenticator = self._state["auth"]
            try:
                principal = await auth.principal(request.headers.get("authorization"))
            except Exception as exc:  # noqa: BLE001 - e.g. PostgreSQL down: fields that need a caller fail clearly
                auth_error = exc
            limiter: RateLimiter | None = self._state.get("rate_limiter")
            if limiter is not None:
                caller = f"key:{principal.key_id}" if principal is not None else f"ip:{_client_address(request)}"
                await limiter.check(caller)
        return Context(
            runtime=runtime,
            principal=principal,
            request_id=request_id_var.get(),
            request=request,
            response=response,
            auth_error=auth_error,
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

    async def process_result(self, request: Request, result: Any) -> Any:
        data = await super().process_result(request, result)
        if is_request_error(result):
            data.pop("data", None)  # spec: a request error has no data entry
            request.state.graphql_request_error = True
        return data

    async def run(self, request: Any, context: Any = UNSET, root_value: Any = UNSET) -> Any:
        response = await super().run(request, context, root_value)
        if (
            isinstance(request, Request)
            and isinstance(response, Response)
            and response.media_type == "application/json"
        ):
            if accepts_graphql_response_json(request.headers.get("accept")):
                response.headers["content-type"] = GRAPHQL_RESPONSE_JSON
                if getattr(request.state, "graphql_request_error", False) and response.status_code == 200:
                    response.status_code = 400
        return response


async def _malformed_body(request: Request) -> str | None:
    """Why a POST body cannot be a GraphQL request, or None when it could."""
    if request.method != "POST":
        return None
    body = await request.body()
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return "the request body is not valid UTF-8"
    if "json" not in request.headers.get("content-type", ""):
        return None
    try:
        data = json.loads(text)
    except ValueError:
        return "the request body is not valid JSON"
    if not isinstance(data, dict):
        return "the request body must be a JSON object with a query"
    return None


def _client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


class ErrorMiddleware:
    """The last line: an exception nothing handled becomes a generic JSON error with the request id,
    logged with its stack; the client never sees the exception's text."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception as exc:
            rid = request_id_var.get()
            log.error("unhandled error on %s (request id %s)", scope.get("path"), rid, exc_info=exc)
            if started:
                raise
            shaped = classify_exception(exc)
            status = 503 if shaped and shaped[1].get("code") == "SERVICE_UNAVAILABLE" else 500
            message, ext = shaped if status == 503 and shaped else internal_error(rid)
            response = JSONResponse({"errors": [{"message": message, "extensions": ext}]}, status_code=status)
            await response(scope, receive, send)


class MetricsMiddleware:
    """Counts HTTP requests by route and status, and their latency."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        route = scope.get("path", "")
        route = route if route in KNOWN_ROUTES else "other"
        status = 500
        timer = metrics.Timer()

        async def recording_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, recording_send)
        finally:
            metrics.HTTP_REQUESTS.labels(route, str(status)).inc()
            metrics.HTTP_LATENCY.labels(route).observe(timer.elapsed())


KNOWN_ROUTES = {"/graphql", "/healthz", "/readyz", "/metrics"}


class OperationMetrics(SchemaExtension):
    """Counts GraphQL operations by name and outcome and errors by code (after the error convention)."""

    def on_operation(self) -> Iterator[None]:
        timer = metrics.Timer()
        yield
        ec = self.execution_context
        name = ec.operation_name or "anonymous"
        if len(name) > 64:
            name = name[:64]
        try:
            op_type = ec.operation_type.value
        except Exception:  # noqa: BLE001 - no parsable operation
            op_type = "unknown"
        errors = (ec.result.errors if ec.result is not None else None) or []
        metrics.GRAPHQL_OPERATIONS.labels(name, op_type, "error" if errors else "ok").inc()
        metrics.GRAPHQL_LATENCY.labels(name).observe(timer.elapsed())
        for code in metrics.error_codes(errors):
            metrics.GRAPHQL_ERRORS.labels(code).inc()


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
    schema = build_schema(
        introspection=settings.introspection_enabled,
        limits=QueryLimits.from_settings(settings),
        # Before the error convention in the list, so it sees the rewritten errors (hooks exit in reverse).
        extra_extensions=[OperationMetrics] if settings.metrics_enabled else [],
    )
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
            state["rate_limiter"] = RateLimiter(
                runtime.redis, settings.redis_prefix, settings.rate_limit_requests, settings.rate_limit_window_seconds
            )
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

    async def metrics_endpoint(request: Request) -> Response:
        await metrics.refresh(state["runtime"])
        return Response(metrics.render(), media_type="text/plain; version=0.0.4; charset=utf-8")

    routes = [
        Route("/graphql", graphql_app, methods=["GET", "POST"]),
        WebSocketRoute("/graphql", graphql_app),
        Route("/healthz", healthz),
        Route("/readyz", readyz),
    ]
    if settings.metrics_enabled:
        routes.append(Route("/metrics", metrics_endpoint))
    app = Starlette(routes=routes, lifespan=lifespan)
    # add_middleware wraps: the last added runs first. Request id outermost, so every log line and
    # error below it has one.
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST"],
            allow_headers=["Authorization", "Content-Type", "X-Request-ID"],
            expose_headers=["X-Request-ID"],
        )
    app.add_middleware(BodySizeLimitMiddleware, max_bytes=settings.max_body_bytes)
    app.add_middleware(ErrorMiddleware)
    if settings.metrics_enabled:
        app.add_middleware(MetricsMiddleware)
    app.add_middleware(RequestIdMiddleware)
    return app
