"""Custom scalars. Money travels as Decimal strings (Strawberry's Decimal); large totals as BigInt."""

from __future__ import annotations

from typing import NewType

import strawberry

BigInt = NewType("BigInt", int)

SCALAR_MAP = {
    BigInt: strawberry.scalar(
        name="BigInt",
        serialize=int,
        parse_value=int,
        description="An integer that may exceed 32 bits (totals of counts). JSON number.",
    )
}
