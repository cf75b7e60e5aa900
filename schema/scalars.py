"""Custom scalars. Money travels as Decimal strings (Strawberry's Decimal); large totals as BigInt."""

from __future__ import annotations

from typing import TYPE_CHECKING, NewType

import strawberry
from strawberry.types.scalar import ScalarDefinition

if TYPE_CHECKING:
    BigInt = int  # to the type checker a BigInt is an int
else:
    BigInt = NewType("BigInt", int)

SCALAR_MAP: dict[object, ScalarDefinition] = {
    BigInt: strawberry.scalar(
        name="BigInt",
        serialize=int,
        parse_value=int,
        description="An integer that may exceed 32 bits (totals of counts). JSON number.",
    )
}
