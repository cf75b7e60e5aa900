"""HTTP plumbing shared by the adapters: one request, its RawResponse, and PlatformError on failure."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from app.platforms.base import (
    Classification,
    ErrorType,
    Operation,
    Platform,
    PlatformError,
    RawResponse,
)
from app.platforms.classification import classify

# Platform clocks and ours differ a little; find_post looks this far before `since`.
CLOCK_SKEW = timedelta(seconds=120)
MAX_TEXT_BODY = 4000  # an HTML error page is kept for the log, not in full


def transport_error_kind(exc: httpx.TransportError) -> str:
    """Name what went wrong below HTTP, separating 'nothing sent' from 'sent, answer lost'."""
    if isinstance(exc, httpx.ConnectTimeout):
        return "connect_timeout"
    if isinstance(exc, httpx.ConnectError):
        return "connect_error"
    if isinstance(exc, httpx.PoolTimeout):
        return "pool_timeout"
    if isinstance(exc, httpx.ReadTimeout):
        return "read_timeout_after_send"
    if isinstance(exc, httpx.WriteTimeout):
        # Part of the request may have gone out; treated as "maybe processed" to be safe.
        return "write_timeout"
    if isinstance(exc, httpx.RemoteProtocolError | httpx.ReadError):
        return "connection_dropped_after_send"
    if isinstance(exc, httpx.WriteError):
        return "write_error"
    return "transport_error"


@dataclass(frozen=True)
class Reply:
    """A completed HTTP exchange: status, headers and the parsed body."""

    raw: RawResponse
    response: httpx.Response

    @property
    def body(self) -> Any:
        return self.raw.body

    @property
    def status(self) -> int:
        return self.response.status_code


def parse_body(response: httpx.Response) -> dict[str, Any] | list[Any] | str | None:
    if not response.content:
        return None
    try:
        parsed = response.json()
    except ValueError:
        return response.text[:MAX_TEXT_BODY]
    return parsed if isinstance(parsed, dict | list) else response.text[:MAX_TEXT_BODY]


def local_error(
    platform: Platform,
    operation: Operation,
    error_type: ErrorType,
    reason: str,
    code: str,
    *,
    retry: str = "never",
    outcome_unknown: bool = False,
    body: Any = None,
) -> PlatformError:
    """A failure eventops detects itself (no usable platform answer), in the same PlatformError form."""
    raw = RawResponse(
        platform=platform,
        operation=operation,
        http_status=None,
        headers={},
        body=body if body is not None else {"eventops_error": code},
        transport_error=None,
        received_at=datetime.now(UTC),
    )
    classification = Classification(
        error_type=error_type,
        retry=retry,  # type: ignore[arg-type]
        wait_seconds=None,
        halt_account=False,
        outcome_unknown=outcome_unknown,
        reason=reason,
        platform_code=code,
    )
    return PlatformError(raw, classification)


class HttpAdapter:
    """Base for the adapters: auth header, request, RawResponse, classification."""

    platform: Platform

    def __init__(self, client: httpx.AsyncClient, base_url: str) -> None:
        self._client = client
        self._base_url = base_url.rstrip("/")

    def _headers(self, access_token: str) -> dict[str, str]:
        # Bearer header rather than ?access_token=: URLs end up in logs and proxies.
        return {"Authorization": f"Bearer {access_token}"}

    def _is_error(self, reply: Reply) -> bool:
        return not 200 <= reply.status < 300

    async def _call(
        self,
        operation: Operation,
        method: str,
        path: str,
        access_token: str,
        *,
        params: Mapping[str, str | int] | None = None,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
        is_error: Callable[[Reply], bool] | None = None,
    ) -> Reply:
        url = path if path.startswith("http") else f"{self._base_url}{path}"
        all_headers = {**self._headers(access_token), **(headers or {})}
        try:
            response = await self._client.request(method, url, params=params, json=json, headers=all_headers)
        except httpx.TransportError as exc:
            raw = RawResponse(
                platform=self.platform,
                operation=operation,
                http_status=None,
                headers={},
                body=None,
                transport_error=transport_error_kind(exc),
                received_at=datetime.now(UTC),
            )
            raise PlatformError(raw, classify(raw)) from exc
        raw = RawResponse(
            platform=self.platform,
            operation=operation,
            http_status=response.status_code,
            headers=dict(response.headers.items()),
            body=parse_body(response),
            transport_error=None,
            received_at=datetime.now(UTC),
        )
        reply = Reply(raw, response)
        if (is_error or self._is_error)(reply):
            raise PlatformError(raw, classify(raw))
        return reply

    def _unexpected(self, reply: Reply, what: str) -> PlatformError:
        """A 2xx whose body lacks what the API documents: classified like any unusable answer."""
        raw = reply.raw
        classification = classify(raw)
        reason = f"{self.platform} answered HTTP {reply.status} without {what}."
        return PlatformError(
            raw,
            Classification(**{**classification.__dict__, "reason": reason, "platform_code": "unexpected-body"}),
        )


def parse_time(value: Any) -> datetime | None:
    """Platform timestamps: ISO 8601 (Meta's +0000 form included), Unix seconds or milliseconds."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        seconds = value / 1000 if value > 10**11 else value
        return datetime.fromtimestamp(seconds, UTC)
    if isinstance(value, str) and value:
        text = value.replace("Z", "+00:00")
        if len(text) > 5 and text[-5] in "+-" and text[-3] != ":":
            text = f"{text[:-2]}:{text[-2:]}"  # Meta's +0000
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError:
            return None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return None


def within(created: datetime | None, since: datetime) -> bool:
    """True when a post may be ours by time; unknown creation times are not excluded."""
    if created is None:
        return True
    if since.tzinfo is None:
        since = since.replace(tzinfo=UTC)
    return created >= since - CLOCK_SKEW


def node(value: Any, key: str) -> dict[str, Any]:
    """value[key] when both are JSON objects, else {}: bodies are read defensively."""
    child = value.get(key) if isinstance(value, dict) else None
    return child if isinstance(child, dict) else {}


def as_int(value: Any) -> int:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value)
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    if isinstance(value, dict):
        # Breakdowns such as post_reactions_by_type_total: {"like": 3, "love": 1}.
        return sum(as_int(v) for v in value.values())
    return 0
