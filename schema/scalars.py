"""Custom scalars. Money travels as Decimal strings (Strawberry's Decimal); large totals as BigInt."""

from __future__ import annotations

from typing import NewType

import strawberry

BigInt = strawberry.scalar(
    NewType("BigInt", int),
    serialize=int,
    parse_value=int,
    description="An integer that may exceed 32 bits (totals of counts). JSON number.",
)
