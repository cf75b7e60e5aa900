"""Input checks shared by every service: each failure names the field and stores nothing."""

from __future__ import annotations

import json
import math
import re
from decimal import Decimal, InvalidOperation
from typing import Any

from app.errors import ValidationFailed

MAX_COUNT = 10**12
_IDENTIFIER = re.compile(r"[a-z][a-z0-9_]*")
MAX_MONEY = Decimal("100000000000000")  # 10^14, inside NUMERIC(16, 2)


def check_count(value: Any, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        if isinstance(value, float) and value.is_integer() and math.isfinite(value):
            value = int(value)
        else:
            raise ValidationFailed(f"{field} must be a whole number, got {value!r}", field=field)
    if value < 0:
        raise ValidationFailed(f"{field} must not be negative, got {value}", field=field)
    if value > MAX_COUNT:
        raise ValidationFailed(f"{field} is too large (at most {MAX_COUNT})", field=field)
    return value


def to_decimal(value: Any, field: str) -> Decimal:
    if isinstance(value, Decimal):
        d = value
    elif isinstance(value, bool):
        raise ValidationFailed(f"{field} must be a decimal amount, got {value!r}", field=field)
    elif isinstance(value, (int, str)):
        try:
            d = Decimal(str(value).strip())
        except InvalidOperation:
            raise ValidationFailed(
                f'{field} must be a decimal amount such as "12.50", got {value!r}', field=field
            ) from None
    elif isinstance(value, float):
        d = Decimal(repr(value))
    else:
        raise ValidationFailed(f"{field} must be a decimal amount, got {type(value).__name__}", field=field)
    if not d.is_finite():
        raise ValidationFailed(f"{field} must be a finite amount, not {value}", field=field)
    return d


def check_money(value: Any, field: str, *, round_to_cents: bool = False) -> Decimal:
    d = to_decimal(value, field)
    if d < 0:
        raise ValidationFailed(f"{field} must not be negative, got {d}", field=field)
    if d >= MAX_MONEY:
        raise ValidationFailed(f"{field} is too large (below {MAX_MONEY})", field=field)
    if round_to_cents:
        from app.services.metrics import money

        return money(d)
    exponent = d.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -2 and d != d.quantize(Decimal("0.01")):
        raise ValidationFailed(f"{field} has more than 2 decimal places: {d}", field=field)
    return d.quantize(Decimal("0.01"))


def check_text(value: Any, field: str, max_length: int, *, required: bool = False) -> str:
    if not isinstance(value, str):
        raise ValidationFailed(f"{field} must be a string", field=field)
    if "\x00" in value:
        raise ValidationFailed(f"{field} must not contain NUL characters", field=field)
    if required and not value.strip():
        raise ValidationFailed(f"{field} must not be empty", field=field)
    if len(value) > max_length:
        raise ValidationFailed(f"{field} is too long ({len(value)} characters, at most {max_length})", field=field)
    return value.strip() if required else value


def check_json(value: Any, field: str, max_bytes: int) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ValidationFailed(f"{field} must be a JSON object", field=field)
    try:
        encoded = json.dumps(value, allow_nan=False, ensure_ascii=False)
    except (ValueError, TypeError) as exc:
        raise ValidationFailed(f"{field} is not valid JSON: {exc}", field=field) from None
    if "\\u0000" in encoded:
        raise ValidationFailed(f"{field} must not contain NUL characters", field=field)
    if len(encoded.encode()) > max_bytes:
        raise ValidationFailed(f"{field} is too large (at most {max_bytes} bytes as JSON)", field=field)
    return value


def check_identifier(value: Any, field: str, max_length: int = 64) -> str:
    """Lower-case snake_case names such as operation types and sources."""
    text = check_text(value, field, max_length, required=True)
    if not _IDENTIFIER.fullmatch(text):
        raise ValidationFailed(
            f"{field} must be lower-case letters, digits and underscores, starting with a letter, got {value!r}",
            field=field,
        )
    return text
