"""Shared types for the social platform adapters.

Every adapter turns a platform's answer into either a value (PublishedPost, PostMetrics) or a
PlatformError carrying the raw response and its Classification, so callers decide retries, waits
and account halts from one place (app.platforms.classification) instead of per platform.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Literal, Protocol, runtime_checkable


class Platform(StrEnum):
    FACEBOOK = "facebook"
    INSTAGRAM = "instagram"
    X = "x"
    LINKEDIN = "linkedin"
    TIKTOK = "tiktok"


class ErrorType(StrEnum):
    """The seed's seven error types (error-handling-analytics-system.md, 1.2)."""

    TOKEN_EXPIRED = "token_expired"
    API_ERROR = "api_error"
    NETWORK_ERROR = "network_error"
    VALIDATION_ERROR = "validation_error"
    AI_GENERATION_FAILED = "ai_generation_failed"
    RATE_LIMIT = "rate_limit"
    PERMISSION_DENIED = "permission_denied"


Operation = Literal["publish", "metrics", "find"]
RetryPolicy = Literal["backoff", "wait", "never"]

# Transport failures where the request never left this process: the outcome is known (nothing
# happened), so a publish may simply be sent again.
TRANSPORT_NOTHING_SENT: frozenset[str] = frozenset({"connect_timeout", "connect_error", "pool_timeout", "dns_error"})


class CaseInsensitiveHeaders(Mapping[str, str]):
    """Read-only header mapping; HTTP header names are case-insensitive."""

    __slots__ = ("_items",)

    def __init__(self, headers: Mapping[str, str] | None = None) -> None:
        items: dict[str, tuple[str, str]] = {}
        for name, value in (headers or {}).items():
            items[str(name).lower()] = (str(name), str(value))
        self._items = items

    def __getitem__(self, key: str) -> str:
        return self._items[key.lower()][1]

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and key.lower() in self._items

    def __iter__(self) -> Iterator[str]:
        return (name for name, _ in self._items.values())

    def __len__(self) -> int:
        return len(self._items)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Mapping):
            return NotImplemented
        return {k.lower(): v for k, v in self.items()} == {str(k).lower(): v for k, v in other.items()}

    def __hash__(self) -> int:
        return hash(frozenset((k, v) for k, (_, v) in self._items.items()))

    def __repr__(self) -> str:
        return f"CaseInsensitiveHeaders({dict(self.items())!r})"


@dataclass(frozen=True)
class RawResponse:
    """What a platform answered (or failed to answer), kept verbatim for classification and logs."""

    platform: Platform
    operation: Operation
    http_status: int | None
    headers: Mapping[str, str]
    body: dict[str, Any] | list[Any] | str | None
    transport_error: str | None
    received_at: datetime

    def __post_init__(self) -> None:
        if not isinstance(self.headers, CaseInsensitiveHeaders):
            object.__setattr__(self, "headers", CaseInsensitiveHeaders(self.headers))
        if not isinstance(self.platform, Platform):
            object.__setattr__(self, "platform", Platform(self.platform))
        received = self.received_at
        if received.tzinfo is None:
            # Platforms and the cases file speak UTC; a naive instant is taken as UTC.
            received = received.replace(tzinfo=UTC)
        object.__setattr__(self, "received_at", received.astimezone(UTC))


@dataclass(frozen=True)
class Classification:
    error_type: ErrorType
    retry: RetryPolicy
    wait_seconds: int | None
    halt_account: bool
    outcome_unknown: bool
    reason: str
    platform_code: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """The keys and value forms of cases.jsonl's `expect` (platform_code is not part of it)."""
        return {
            "error_type": str(self.error_type),
            "retry": self.retry,
            "wait_seconds": self.wait_seconds,
            "halt_account": self.halt_account,
            "outcome_unknown": self.outcome_unknown,
            "reason": self.reason,
        }


@dataclass(frozen=True)
class PublishRequest:
    content: str
    image_url: str | None = None
    # Idempotency marker: the caller embeds it in the content where it can; find_post matches on it
    # first and on the normalised content second.
    marker: str = ""


@dataclass(frozen=True)
class PublishedPost:
    platform_post_id: str
    url: str | None = None
    created_at: datetime | None = None


@dataclass(frozen=True)
class PostMetrics:
    """Cumulative counters as the platform reports them now; 0 where a platform has no such metric.

    engagement is the platform's interactions summed (reactions/likes, comments, shares, and clicks
    or saves where the platform counts them), so it is comparable over time on one platform.
    """

    impressions: int = 0
    reach: int = 0
    engagement: int = 0
    clicks: int = 0
    shares: int = 0
    comments: int = 0
    likes: int = 0


@dataclass(frozen=True)
class AccountCredentials:
    account_id: str
    # Never in repr, str or logs: tokens end up in error reports otherwise.
    access_token: str = field(repr=False)

    def __str__(self) -> str:
        return f"AccountCredentials(account_id={self.account_id!r})"


class PlatformError(Exception):
    """A platform call that did not succeed, with what came back and how to treat it."""

    def __init__(self, raw: RawResponse, classification: Classification) -> None:
        super().__init__(
            f"{raw.platform} {raw.operation} failed ({classification.error_type}): {classification.reason}"
        )
        self.raw = raw
        self.classification = classification


@runtime_checkable
class PlatformAdapter(Protocol):
    """One social platform. Implementations take (client: httpx.AsyncClient, base_url: str).

    Every non-success (any HTTP status, errors inside HTTP 200, transport failures) raises
    PlatformError with its Classification.
    """

    platform: Platform

    async def publish(self, creds: AccountCredentials, request: PublishRequest) -> PublishedPost:
        """Publish one post. On outcome_unknown errors call find_post before publishing again."""
        ...

    async def find_post(
        self, creds: AccountCredentials, request: PublishRequest, since: datetime
    ) -> PublishedPost | None:
        """Look among the account's recent posts (created at/after `since`) for this request's post."""
        ...

    async def fetch_metrics(self, creds: AccountCredentials, platform_post_id: str) -> PostMetrics:
        """Cumulative metrics of one post."""
        ...


_URL_RE = re.compile(r"https?://\S+")
_WS_RE = re.compile(r"\s+")


def normalise_text(text: str) -> str:
    """Text as compared by find_post: platforms rewrite links (t.co) and whitespace."""
    return _WS_RE.sub(" ", _URL_RE.sub("", text)).strip().casefold()


def post_matches(text: str | None, request: PublishRequest) -> bool:
    """True when a platform post's text is this request's post (marker first, then content)."""
    if not text:
        return False
    if request.marker and request.marker in text:
        return True
    wanted = normalise_text(request.content)
    return bool(wanted) and normalise_text(text) == wanted
