"""Custom scalars. Money travels as Decimal strings (Strawberry's Decimal); large totals as BigInt."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any, NewType

import dateutil.parser
import strawberry
from strawberry.types.scalar import ScalarDefinition

if TYPE_CHECKING:
    BigInt = int  # to the type checker a BigInt is an int
else:
    BigInt = NewType("BigInt", int)

EARLIEST_YEAR, LAST_YEAR = 1900, 9000


def _parse_datetime(value: Any) -> dt.datetime:
    """ISO 8601 as Strawberry parses it, within years 1900–9000: a year-1 or year-9999 instant with an offset
    cannot even be converted to UTC, and nothing eventops records lives there."""
    if not isinstance(value, str):
        raise ValueError(f"DateTime must be an ISO 8601 string, got {type(value).__name__}")
    try:
        parsed = dateutil.parser.isoparse(value)
    except (ValueError, OverflowError) as exc:
        raise ValueError(f"Value cannot represent a DateTime: {value!r}. {exc}") from None
    if not EARLIEST_YEAR <= parsed.year <= LAST_YEAR:
        raise ValueError(f"DateTime must be between the years {EARLIEST_YEAR} and {LAST_YEAR}, got {value!r}")
    return parsed


SCALAR_MAP: dict[object, ScalarDefinition] = {
    dt.datetime: strawberry.scalar(
        name="DateTime",
        description="Date with time (ISO 8601; give an offset, e.g. 2026-12-01T10:00:00Z), years 1900–9000.",
        serialize=lambda v: v.isoformat(),
        parse_value=_parse_datetime,
    ),
    BigInt: strawberry.scalar(
        name="BigInt",
        serialize=int,
        parse_value=int,
        description="An integer that may exceed 32 bits (totals of counts). JSON number.",
    ),
}
