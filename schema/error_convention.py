"""The error convention at the GraphQL boundary.

Expected errors (app.errors.DomainError) reach the client with their message and `extensions.code`
(and `extensions.field`, in the API's camelCase). A lost database or Redis connection becomes
SERVICE_UNAVAILABLE. Anything else is logged with its stack and the request id, and the client sees only
"Internal server error" with that request id.
"""

from __future__ import annotations

import contextvars
import logging
import re
from collections.abc import Iterator
from typing import Any

from graphql import ExecutionResult as GraphQLExecutionResult
from graphql import GraphQLError
from sqlalchemy.exc import DBAPIError, IntegrityError, InterfaceError, OperationalError
from strawberry.extensions import SchemaExtension
from strawberry.types.execution import ExecutionResult

from app.errors import DomainError, Unavailable

log = logging.getLogger("eventops.graphql")
request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")

_SNAKE = re.compile(r"_([a-z0-9])")


def camel(name: str) -> str:
    return _SNAKE.sub(lambda m: m.group(1).upper(), name)


def _is_unavailable(exc: BaseException) -> bool:
    if isinstance(exc, (OperationalError, InterfaceError)) or (
        isinstance(exc, DBAPIError) and exc.connection_invalidated
    ):
        return True
    if isinstance(exc, (ConnectionError, OSError, TimeoutError)):
        return True
    name = type(exc).__module__ + "." + type(exc).__name__
    return name.startswith("redis.exceptions.") or "ConnectionDoesNotExist" in name or "CannotConnectNow" in name


def classify(error: GraphQLError) -> tuple[str, dict[str, Any]] | None:
    """(message, extensions) for an error the client may see as is; None for an unexpected one."""
    original = error.original_error
    if original is None or error.path is None:
        return None  # parse, validation and variable errors: already client-facing
    if isinstance(original, DomainError):
        ext = original.extensions()
        message = original.message
        if original.field:
            ext["field"] = camel(original.field)
            message = message.replace(original.field, camel(original.field))
        return message, ext
    if isinstance(original, IntegrityError):
        constraint = getattr(getattr(original.orig, "__cause__", None), "constraint_name", None)
        return (f"the change conflicts with stored data ({constraint or 'constraint'})", {"code": "CONFLICT"})
    if _is_unavailable(original):
        u = Unavailable("a backing service (database or Redis) is unavailable; retry shortly")
        return u.message, u.extensions()
    if isinstance(original, GraphQLError):
        return None
    return None


class ErrorConvention(SchemaExtension):
    """Rewrite result errors per the convention above (after Strawberry has logged them)."""

    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        if isinstance(result, (GraphQLExecutionResult, ExecutionResult)) and result.errors:
            result.errors = [self._rewrite(e) for e in result.errors]

    @staticmethod
    def _rewrite(error: GraphQLError) -> GraphQLError:
        if error.original_error is None or error.path is None:
            return error
        shaped = classify(error)
        if shaped is None:
            rid = request_id_var.get()
            shaped = (f"Internal server error (request id {rid})", {"code": "INTERNAL_SERVER_ERROR", "requestId": rid})
        message, ext = shaped
        return GraphQLError(message, nodes=error.nodes, positions=error.positions, path=error.path, extensions=ext)


def log_unexpected(errors: list[GraphQLError]) -> None:
    for error in errors:
        if error.path is None:
            continue
        if error.original_error is not None and classify(error) is None:
            log.error(
                "unexpected error in %s (request id %s)",
                ".".join(str(p) for p in error.path or []),
                request_id_var.get(),
                exc_info=error.original_error,
            )
        elif error.original_error is not None and _is_unavailable(error.original_error):
            log.warning("backing service unavailable (request id %s): %s", request_id_var.get(), error.original_error)
