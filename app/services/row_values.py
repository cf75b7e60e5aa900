"""build_values for bulk imports: the same Decimal operations in the same contexts, without the per-row objects.

performance.build_values builds a PerformanceInput, a Totals, a Derived and its rounded copy, enters a
decimal context and runs every check_* helper for each row; that was ~75% of an import. RowValues does
exactly the arithmetic build_values does (the same Decimal operations, in the same order, in the same
contexts, so the results are identical to the digit) on plain values, and returns a tuple in the column
order of performance.VALUE_COLUMNS. Anything unusual (a value that is not a plain non-negative number, any
check that would fail) returns None, and the caller takes the original path, which gives the original
value or the original error message. tests/services/test_row_values.py compares the two on real and
generated rows.
"""

from __future__ import annotations

from datetime import datetime
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal, InvalidOperation, getcontext
from typing import Any

from app.services.metrics import _PREC40, CENT, HUNDRED, ONE, RATIO_PLACES, ZERO, ScoreRules
from app.services.validation import MAX_COUNT, MAX_MONEY
from app.settings import Settings

_ZERO = Decimal(0)


def parse_count(raw: str) -> int | None:
    """A plain run of ASCII digits as _count + check_count accept it; None for anything else."""
    if raw.isdigit() and raw.isascii():
        value = int(raw)
        if value <= MAX_COUNT:
            return value
    return None


def parse_money(raw: str | None) -> Decimal | None | bool:
    """check_money(raw, round_to_cents=True) for plain amounts: the rounded Decimal, None when absent
    (None or blank), or False when the original check must decide (it may fail)."""
    if raw is None:
        return None
    text = raw.strip()
    if not text:
        return None
    try:
        d = Decimal(text)
    except InvalidOperation:
        return False
    if not d.is_finite() or d < 0 or d >= MAX_MONEY:
        return False
    return d.quantize(CENT, rounding=ROUND_HALF_UP)


class RowValues:
    """The arithmetic of build_values(round_money=True) for one settings/rules pair."""

    def __init__(self, settings: Settings, rules: ScoreRules) -> None:
        self.keep = 1 - settings.platform_fee_rate  # build_values computes this per row: same context, same value
        self.rules = rules
        self.roi_scale = rules.roi_target + HUNDRED

    def compute(
        self,
        counts: tuple[int, ...],
        money: tuple[Decimal | None, ...],
        source: str,
        start: datetime,
        end: datetime,
    ) -> tuple[Any, ...] | None:
        """counts in COUNT_FIELDS order (already checked); money in MONEY_FIELDS order, each already
        rounded by parse_money or None; source checked; start <= end, both UTC. None: take the slow path."""
        gross_in, net_in, ad_in, ai_in, total_in = money
        gross = gross_in or _ZERO
        ad_spend = ad_in or _ZERO
        ai_cost = ai_in or _ZERO
        if net_in is None:
            net = (gross * self.keep).quantize(CENT, rounding=ROUND_HALF_UP)
        elif net_in > gross:
            return None
        else:
            net = net_in
        if total_in is None:
            total_cost = ad_spend + ai_cost
        elif total_in < ad_spend + ai_cost:
            return None
        else:
            total_cost = total_in
        views, clicks, new_signups, new_organizers = counts[0], counts[1], counts[2], counts[3]
        divide = _PREC40.divide
        rules = self.rules
        # metrics.derive, unrounded
        ctr = None if views == 0 else divide(Decimal(clicks), Decimal(views)) * HUNDRED
        numerator = net - total_cost
        roi = None if total_cost == 0 else divide(numerator, total_cost) * HUNDRED
        roas = None if ad_spend == 0 else divide(gross, ad_spend)
        cps = None if new_signups == 0 else divide(total_cost, Decimal(new_signups))
        cpo = None if new_organizers == 0 else divide(total_cost, Decimal(new_organizers))
        # metrics.performance_score
        conversion = None if clicks == 0 else divide(Decimal(new_signups), Decimal(clicks))
        weights: list[Decimal] = []
        parts: list[Decimal] = []
        if ctr is not None:
            x = ctr / rules.ctr_target
            x = x if x < ONE else ONE
            weights.append(rules.weight_ctr)
            parts.append(x if x > ZERO else ZERO)
        if conversion is not None:
            x = conversion / rules.conversion_target
            x = x if x < ONE else ONE
            weights.append(rules.weight_conversion)
            parts.append(x if x > ZERO else ZERO)
        if roi is not None:
            x = (roi + HUNDRED) / self.roi_scale
            x = x if x < ONE else ONE
            weights.append(rules.weight_roi)
            parts.append(x if x > ZERO else ZERO)
        score: int | None = None
        if weights:
            weight_sum = sum(weights, ZERO)
            if weight_sum != 0:
                acc = ZERO
                for w, c in zip(weights, parts, strict=True):
                    acc = _PREC40.add(acc, _PREC40.multiply(w, c))
                s = _PREC40.divide(_PREC40.multiply(HUNDRED, acc), weight_sum)
                score = int(s.quantize(ONE, rounding=ROUND_HALF_UP))
        return (
            source,
            start,
            end,
            *counts,
            gross,
            net,
            ad_spend,
            ai_cost,
            total_cost,
            None if ctr is None else ctr.quantize(RATIO_PLACES, rounding=ROUND_HALF_UP),
            None if roi is None else roi.quantize(RATIO_PLACES, rounding=ROUND_HALF_UP),
            None if roas is None else roas.quantize(RATIO_PLACES, rounding=ROUND_HALF_UP),
            None if cps is None else cps.quantize(CENT, rounding=ROUND_HALF_UP),
            None if cpo is None else cpo.quantize(CENT, rounding=ROUND_HALF_UP),
            score,
        )


def context_is_default() -> bool:
    """performance_score rounds in a copy of the thread's context with prec 40; RowValues uses _PREC40,
    which is that copy only while the thread's context has the default rounding and exponent limits."""
    ctx = getcontext()
    return ctx.rounding == ROUND_HALF_EVEN and ctx.Emax == 999999 and ctx.Emin == -999999 and ctx.clamp == 0
