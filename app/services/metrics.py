"""The metric formulas of shared/spec/metrics.md, in exact decimal arithmetic.

A value whose denominator is 0 is None ("not defined"). Rounding (ROUND_HALF_UP; money to cents, ratios and
percents to 4 decimals) is applied only to presented or stored values, never to intermediate results.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import (
    ROUND_HALF_EVEN,
    ROUND_HALF_UP,
    Context,
    Decimal,
    DivisionByZero,
    InvalidOperation,
    Overflow,
    localcontext,
)

CENT = Decimal("0.01")
RATIO_PLACES = Decimal("0.0001")
HUNDRED = Decimal(100)
ZERO = Decimal(0)
ONE = Decimal(1)


def money(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def ratio(value: Decimal | None) -> Decimal | None:
    return None if value is None else value.quantize(RATIO_PLACES, rounding=ROUND_HALF_UP)


def money_or_none(value: Decimal | None) -> Decimal | None:
    return None if value is None else money(value)


# Intermediate precision. Context.divide gives exactly what `a / b` gives inside localcontext(prec=40)
# (same rounding and traps as the default context), without entering and leaving a context per division.
_PREC40 = Context(prec=40, rounding=ROUND_HALF_EVEN, traps=[InvalidOperation, DivisionByZero, Overflow])


def _div(numerator: Decimal, denominator: Decimal) -> Decimal | None:
    if denominator == 0:
        return None
    return _PREC40.divide(numerator, denominator)


@dataclass(frozen=True)
class ScoreRules:
    ctr_target: Decimal = Decimal("5")
    conversion_target: Decimal = Decimal("0.25")
    roi_target: Decimal = Decimal("500")
    weight_ctr: Decimal = Decimal("0.25")
    weight_conversion: Decimal = Decimal("0.25")
    weight_roi: Decimal = Decimal("0.5")


@dataclass(frozen=True)
class Totals:
    """Counts and money of a record or a sum of records: all the formulas need."""

    views: int = 0
    clicks: int = 0
    new_signups: int = 0
    new_organizers: int = 0
    gross_revenue: Decimal = ZERO
    net_revenue: Decimal = ZERO
    ad_spend: Decimal = ZERO
    total_cost: Decimal = ZERO


@dataclass(frozen=True)
class Derived:
    """Unrounded derived values; round with `rounded()` for storage or display."""

    ctr: Decimal | None
    roi: Decimal | None
    roas: Decimal | None
    cost_per_signup: Decimal | None
    cost_per_organizer: Decimal | None
    performance_score: int | None

    def rounded(self) -> Derived:
        return Derived(
            ctr=ratio(self.ctr),
            roi=ratio(self.roi),
            roas=ratio(self.roas),
            cost_per_signup=money_or_none(self.cost_per_signup),
            cost_per_organizer=money_or_none(self.cost_per_organizer),
            performance_score=self.performance_score,
        )


def ctr(clicks: int, views: int) -> Decimal | None:
    q = _div(Decimal(clicks), Decimal(views))
    return None if q is None else q * HUNDRED


def roi(net_revenue: Decimal, total_cost: Decimal) -> Decimal | None:
    q = _div(net_revenue - total_cost, total_cost)
    return None if q is None else q * HUNDRED


def roas(gross_revenue: Decimal, ad_spend: Decimal) -> Decimal | None:
    return _div(gross_revenue, ad_spend)


def cost_per(total_cost: Decimal, count: int) -> Decimal | None:
    return _div(total_cost, Decimal(count))


def _clamp(x: Decimal) -> Decimal:
    return max(ZERO, min(ONE, x))


def performance_score(
    ctr_value: Decimal | None, signups: int, clicks: int, roi_value: Decimal | None, rules: ScoreRules
) -> int | None:
    conversion = _div(Decimal(signups), Decimal(clicks))
    components: list[tuple[Decimal, Decimal]] = []
    if ctr_value is not None:
        components.append((rules.weight_ctr, _clamp(ctr_value / rules.ctr_target)))
    if conversion is not None:
        components.append((rules.weight_conversion, _clamp(conversion / rules.conversion_target)))
    if roi_value is not None:
        components.append((rules.weight_roi, _clamp((roi_value + HUNDRED) / (rules.roi_target + HUNDRED))))
    weight_sum = sum((w for w, _ in components), ZERO)
    if not components or weight_sum == 0:
        return None
    # Null components are left out and the remaining weights rescaled to sum to 1.
    with localcontext() as ctx:
        ctx.prec = 40
        score = HUNDRED * sum((w * c for w, c in components), ZERO) / weight_sum
    return int(score.quantize(ONE, rounding=ROUND_HALF_UP))


def derive(t: Totals, rules: ScoreRules) -> Derived:
    c = ctr(t.clicks, t.views)
    r = roi(t.net_revenue, t.total_cost)
    return Derived(
        ctr=c,
        roi=r,
        roas=roas(t.gross_revenue, t.ad_spend),
        cost_per_signup=cost_per(t.total_cost, t.new_signups),
        cost_per_organizer=cost_per(t.total_cost, t.new_organizers),
        performance_score=performance_score(c, t.new_signups, t.clicks, r, rules),
    )
