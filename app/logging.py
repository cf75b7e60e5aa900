"""Logging: one JSON object per line, with the request id when there is one, and secrets redacted.

Redaction applies to the message and the stack: API keys (eo_…), bearer tokens, passwords inside URLs
(a connection error may print the DSN) and the configured secrets themselves never reach a log line.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from datetime import UTC, datetime
from urllib.parse import urlsplit

from app.settings import Settings

_PATTERNS = [
    (re.compile(r"\beo_[A-Za-z0-9_\-]{12,}"), "eo_[redacted]"),
    (re.compile(r"(?i)\b(bearer)\s+[A-Za-z0-9._~+/=\-]{8,}"), r"\1 [redacted]"),
    # scheme://user:password@host -> scheme://user:***@host
    (re.compile(r"([a-z][a-z0-9+.\-]*://[^\s:/@]*):[^\s@/]+@", re.IGNORECASE), r"\1:***@"),
]
_SECRETS: set[str] = set()


def register_secret(value: str | None) -> None:
    if value and len(value) >= 4:
        _SECRETS.add(value)


def register_settings_secrets(settings: Settings) -> None:
    register_secret(settings.secret_key.get_secret_value())
    if settings.token_encryption_key is not None:
        register_secret(settings.token_encryption_key.get_secret_value())
    for url in (settings.database_url, settings.redis_url):
        if url:
            register_secret(urlsplit(url).password)


def redact(text: str) -> str:
    for secret in sorted(_SECRETS, key=len, reverse=True):
        text = text.replace(secret, "[redacted]")
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        from schema.error_convention import request_id_var

        entry = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": redact(record.getMessage()),
        }
        rid = request_id_var.get()
        if rid != "-":
            entry["request_id"] = rid
        if record.exc_info:
            entry["exc"] = redact(self.formatException(record.exc_info))
        return json.dumps(entry, default=str)


def configure_logging(settings: Settings) -> None:
    register_settings_secrets(settings)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(settings.log_level.upper())
    # uvicorn's own loggers propagate to the JSON handler instead of printing plain text.
    for name in ("uvicorn", "uvicorn.error", "arq", "arq.worker"):
        logger = logging.getLogger(name)
        logger.handlers[:] = []
        logger.propagate = True
