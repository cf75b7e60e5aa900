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


def _causes(exc: BaseException) -> list[BaseException]:
    """The exception, what SQLAlchemy wrapped (orig) and its causes."""
    seen: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in seen and len(seen) < 8:
        seen.append(current)
        current = getattr(current, "orig", None) or current.__cause__ or current.__context__
    return seen


def _is_unavailable(exc: BaseException) -> bool:
    """PostgreSQL or Redis cannot be reached (or is shutting down / restarting): the caller may retry."""
    for e in _causes(exc):
        if isinstance(e, (OperationalError, InterfaceError)) or (
            isinstance(e, DBAPIError) and e.connection_invalidated
        ):
            return True
        if isinstance(e, (ConnectionError, OSError, TimeoutError)):
            return True
        # SQLSTATE class 08 (connection exception) and 57P (admin shutdown, cannot connect now, ...)
        sqlstate = str(getattr(e, "sqlstate", "") or "")
        if sqlstate.startswith(("08", "57P")):
            return True
        name = type(e).__module__ + "." + type(e).__name__
        if name.startswith("redis.exceptions.") or name.startswith("asyncpg.exceptions._base.InterfaceError"):
            return True
        if any(n in name for n in ("ConnectionDoesNotExist", "CannotConnectNow", "ConnectionFailure")):
            return True
    return False


def _input_names() -> re.Pattern[str]:
    """Services name inputs in snake_case; a message may name other inputs than its own field too
    ("net_revenue must not exceed gross_revenue"): all of them reach the client in the API's camelCase."""
    from app.models.performance import COUNT_FIELDS, MONEY_FIELDS

    names = {*COUNT_FIELDS, *MONEY_FIELDS, "period_start", "period_end", "idempotency_key", "platform_post_id"}
    names |= {"error_message", "error_details", "operation_type", "error_type", "campaign_id", "image_url"}
    names |= {"post_url", "account_id", "display_name", "access_token", "token_expires_at", "scheduled_at"}
    return re.compile(r"\b(" + "|".join(sorted(names, key=len, reverse=True)) + r")\b")


_INPUT_NAMES = _input_names()


def classify_exception(exc: BaseException) -> tuple[str, dict[str, Any]] | None:
    """(message, extensions) for an exception a client may see; None for an unexpected one."""
    if isinstance(exc, DomainError):
        ext = exc.extensions()
        message = exc.message
        if exc.field:
            ext["field"] = camel(exc.field)
            message = message.replace(exc.field, camel(exc.field))
        message = _INPUT_NAMES.sub(lambda m: camel(m.group(1)), message)
        return message, ext
    if isinstance(exc, IntegrityError):
        constraint = getattr(getattr(exc.orig, "__cause__", None), "constraint_name", None)
        return (f"the change conflicts with stored data ({constraint or 'constraint'})", {"code": "CONFLICT"})
    if _is_unavailable(exc):
        u = Unavailable("a backing service (database or Redis) is unavailable; retry shortly")
        return u.message, u.extensions()
    return None


def _wrapped_exception(error: GraphQLError) -> bool:
    """An exception Strawberry turned into a path-less error (raised by an extension, say), as opposed
    to graphql-core's own request errors (syntax, validation, variables), which are client-facing."""
    original = error.original_error
    return (
        original is not None
        and not isinstance(original, GraphQLError)
        and not error.nodes
        and error.message == str(original)
    )


def classify(error: GraphQLError) -> tuple[str, dict[str, Any]] | None:
    """(message, extensions) for an error the client may see as is; None for an unexpected one."""
    original = error.original_error
    if original is None or (error.path is None and not _wrapped_exception(error)):
        return error.message, dict(error.extensions or {})  # parse, validation and variable errors
    if isinstance(original, GraphQLError):
        return None
    return classify_exception(original)


def internal_error(rid: str) -> tuple[str, dict[str, Any]]:
    return f"Internal server error (request id {rid})", {"code": "INTERNAL_SERVER_ERROR", "requestId": rid}


class ErrorConvention(SchemaExtension):
    """Rewrite result errors per the convention above (after Strawberry has logged them). Every error
    leaves with a code: request errors get GRAPHQL_PARSE_FAILED, GRAPHQL_VALIDATION_FAILED or
    BAD_USER_INPUT (variables) unless a rule already gave one (the operation limits do)."""

    def __init__(self) -> None:
        super().__init__()
        self._validation_errors: set[int] = set()

    def on_validate(self) -> Iterator[None]:
        yield
        self._validation_errors = {id(e) for e in self.execution_context.pre_execution_errors or ()}

    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        if isinstance(result, (GraphQLExecutionResult, ExecutionResult)) and result.errors:
            parsed = self.execution_context.graphql_document is not None
            result.errors = [self._rewrite(e, parsed) for e in result.errors]

    def _rewrite(self, error: GraphQLError, parsed: bool) -> GraphQLError:
        if error.path is None and not _wrapped_exception(error):
            if (error.extensions or {}).get("code"):
                return error
            if not parsed:
                code = "QUERY_TOO_LARGE" if "tokens" in error.message else "GRAPHQL_PARSE_FAILED"
            elif id(error) in self._validation_errors:
                code = "GRAPHQL_VALIDATION_FAILED"
            else:
                code = "BAD_USER_INPUT"
            return GraphQLError(
                error.message,
                nodes=error.nodes,
                source=error.source,
                positions=error.positions,
                extensions={**(error.extensions or {}), "code": code},
            )
        shaped = classify(error)
        if shaped is None:
            shaped = internal_error(request_id_var.get())
        message, ext = shaped
        return GraphQLError(message, nodes=error.nodes, positions=error.positions, path=error.path, extensions=ext)


def log_unexpected(errors: list[GraphQLError]) -> None:
    for error in errors:
        if error.path is None and not _wrapped_exception(error):
            continue
        if error.original_error is not None and classify(error) is None:
            log.error(
                "unexpected error in %s (request id %s)",
                ".".join(str(p) for p in error.path or []) or "the operation",
                request_id_var.get(),
                exc_info=error.original_error,
            )
        elif error.original_error is not None and _is_unavailable(error.original_error):
            log.warning(
                "backing service unavailable (request id %s): %s",
                request_id_var.get(),
                type(error.original_error).__name__,
            )
