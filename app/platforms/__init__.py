"""Social platform adapters and error classification.

Shared types live in app.platforms.base; classify/classify_raw/exponential_backoff in
app.platforms.classification; get_adapter/build_http_client in app.platforms.registry.
"""

from app.platforms.base import (
    AccountCredentials,
    Classification,
    ErrorType,
    Platform,
    PlatformAdapter,
    PlatformError,
    PostMetrics,
    PublishedPost,
    PublishRequest,
    RawResponse,
)
from app.platforms.classification import classify, classify_raw, exponential_backoff

__all__ = [
    "AccountCredentials",
    "Classification",
    "ErrorType",
    "Platform",
    "PlatformAdapter",
    "PlatformError",
    "PostMetrics",
    "PublishRequest",
    "PublishedPost",
    "RawResponse",
    "classify",
    "classify_raw",
    "exponential_backoff",
]
