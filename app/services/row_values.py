"""build_values for bulk imports: the same stored values, without per-row objects or Decimal arithmetic.

performance.build_values builds a PerformanceInput, a Totals, a Derived and its rounded copy, enters a
decimal context and runs every check_* helper for each row, with 40-digit divisions; that was ~75% of an
import. IntRowValues computes the stored values as Python ints (money in cents, ratios in ten-thousandths),
each one exact integer division rounded half-up, which gives the same digits (the argument is in
IntRowValues.compute); the performance score is a float taken only away from a rounding tie, else the
Decimal chain (RowValues) decides. Money is parsed from its decimal digits (parse_cents), never via float.
Anything unusual (a value that is not a plain non-negative number, any check that would fail) returns None
and the caller takes the original path, which gives the original value or the original error message.
tests/services/test_row_values.py compares the two on the real export, generated rows and stored rows.
"""

from __future__ import annotations

from datetime import datetime
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal, getcontext
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


class RowValues:
    """The arithmetic of build_values(round_money=True) in Decimal, operation for operation: the reference
    IntRowValues falls back to for a performance score that is too close to a rounding tie to trust a float."""

    def __init__(self, settings: Settings, rules: ScoreRules) -> None:
        self.keep = 1 - settings.platform_fee_rate  # build_values computes this per row: same context, same value
        self.rules = rules
        self.roi_scale = rules.roi_target + HUNDRED

    def compute_decimal(
        self,
        counts: tuple[int, ...],
        money: tuple[Decimal | None, ...],
        source: str,
        start: datetime,
        end: datetime,
    ) -> tuple[Any, ...] | None:
        """counts in COUNT_FIELDS order (already checked); money in MONEY_FIELDS order, each already
        rounded to cents (Decimal) or None; source checked; start <= end, both UTC. None: take the slow path."""
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


# The integer form of a row's values (what the import stores and formats for COPY): the tuple of
# performance.VALUE_COLUMNS with money in cents, ctr/roi/roas in ten-thousandths, cost_per_* in cents.
_SCALE = {"gross_revenue": 2, "net_revenue": 2, "ad_spend": 2, "ai_generation_cost": 2, "total_cost": 2}
_SCALE |= {"ctr": 4, "roi": 4, "roas": 4, "cost_per_signup": 2, "cost_per_organizer": 2}


def _half_up(numerator: int, denominator: int) -> int:
    """numerator / denominator rounded half away from zero (ROUND_HALF_UP), denominator > 0."""
    if numerator >= 0:
        return (2 * numerator + denominator) // (2 * denominator)
    return -((-2 * numerator + denominator) // (2 * denominator))


def parse_cents(raw: str) -> int | None:
    """check_money(raw, round_to_cents=True) in cents for a plain amount ("12", "1.429999948"): digits,
    optionally a point and digits, below MAX_MONEY; rounded half-up from the decimal digits themselves (no
    float). None for anything else: the caller asks the original check."""
    units, point, fraction = raw.partition(".")
    if not (units.isdigit() and units.isascii()) or (
        point and fraction and not (fraction.isdigit() and fraction.isascii())
    ):
        return None
    whole = int(units)
    if whole >= _MAX_UNITS:
        return None
    cents = whole * 100 + (int(fraction[:2].ljust(2, "0")) if fraction else 0)
    if len(fraction) > 2 and fraction[2] >= "5":
        cents += 1
    return cents


_MAX_UNITS = int(MAX_MONEY)


class IntRowValues:
    """build_values(round_money=True) in Python ints: every stored value is one exact integer division
    rounded half-up, which equals the Decimal computation (see tests/services/test_row_values.py and the
    proofs in the comments); the performance score is computed in float and taken only when it is far
    from a rounding tie, else from the exact Decimal chain (RowValues.compute_decimal)."""

    def __init__(self, settings: Settings, rules: ScoreRules) -> None:
        self.exact = RowValues(settings, rules)
        keep = 1 - settings.platform_fee_rate
        _, digits, exponent = keep.as_tuple()
        # gross * keep is exact in the 28-digit context when keep has at most 12 digits (gross has <= 16)
        self.usable = False
        self.keep_num, self.keep_den = 0, 1
        if isinstance(exponent, int) and keep >= 0 and len(digits) <= 12:
            self.usable = True
            if exponent < 0:
                self.keep_num, self.keep_den = int(keep.scaleb(-exponent)), 10**-exponent
            else:
                self.keep_num = int(keep)
        weights = (rules.weight_ctr, rules.weight_conversion, rules.weight_roi)
        targets = (rules.ctr_target, rules.conversion_target, rules.roi_target + HUNDRED)
        # the float score's error bound holds for non-negative weights and positive targets
        self.float_score = all(w >= 0 for w in weights) and all(t > 0 for t in targets)
        self.w = tuple(float(w) for w in weights)
        self.t = tuple(float(t) for t in targets)
        # whether the Decimal weight sum of each combination of present components is non-zero
        self.weighted = {
            (a, b, c): sum((w for w, on in zip(weights, (a, b, c), strict=True) if on), ZERO) != 0
            for a in (False, True)
            for b in (False, True)
            for c in (False, True)
        }

    def compute(
        self,
        counts: tuple[int, ...],
        money: tuple[int | None, ...],
        source: str,
        start: datetime,
        end: datetime,
    ) -> tuple[Any, ...] | None:
        """counts in COUNT_FIELDS order (checked), money in MONEY_FIELDS order in cents or None (not given).
        None: a check fails or the case is unusual; take the original path."""
        if not self.usable:
            return None
        gross_in, net_in, ad_in, ai_in, total_in = money
        gross = gross_in or 0
        ad = ad_in or 0
        ai = ai_in or 0
        if net_in is None:
            # money(gross * (1 - fee)): the product is exact (see __init__), then one half-up rounding
            net = _half_up(gross * self.keep_num, self.keep_den)
        elif net_in > gross:
            return None
        else:
            net = net_in
        if total_in is None:
            total = ad + ai
        elif total_in < ad + ai:
            return None
        else:
            total = total_in
        views, clicks, signups, organizers = counts[0], counts[1], counts[2], counts[3]
        # Each ratio below is a rational p/q with q <= 10^16; the Decimal path rounds it to 40 and then 28
        # significant digits before the final half-up rounding. A rational with denominator q that is not
        # exactly on a tie is at least 1/(2q) away from it, far more than those intermediate roundings can
        # move a value of at most 10^22 (28 digits leave at least 10^-6 resolution on 10^4 * value), so
        # the single exact rounding here gives the same digits.
        ctr = None if views == 0 else _half_up(1_000_000 * clicks, views)  # clicks / views * 100, 4 places
        roi = None if total == 0 else _half_up(1_000_000 * (net - total), total)
        roas = None if ad == 0 else _half_up(10_000 * gross, ad)
        cps = None if signups == 0 else _half_up(total, signups)  # cents / count = cents
        cpo = None if organizers == 0 else _half_up(total, organizers)
        present = (views != 0, clicks != 0, total != 0)
        score: int | None = None
        if any(present) and self.weighted[present]:
            score = self._score(views, clicks, signups, net, total, present) if self.float_score else None
            if score is None:  # near a tie: the exact chain decides
                exact = self.exact.compute_decimal(
                    counts, _decimals_money(gross_in, net_in, ad_in, ai_in, total_in), source, start, end
                )
                if exact is None:
                    return None
                score = exact[-1]
        return (source, start, end, *counts, gross, net, ad, ai, total, ctr, roi, roas, cps, cpo, score)

    def _score(
        self, views: int, clicks: int, signups: int, net: int, total: int, present: tuple[bool, bool, bool]
    ) -> int | None:
        (w_ctr, w_conv, w_roi), (t_ctr, t_conv, t_roi) = self.w, self.t
        acc = 0.0
        weight = 0.0
        if present[0]:
            x = 100.0 * clicks / views / t_ctr
            acc += w_ctr * (1.0 if x > 1.0 else x)
            weight += w_ctr
        if present[1]:
            x = signups / clicks / t_conv
            acc += w_conv * (1.0 if x > 1.0 else x)
            weight += w_conv
        if present[2]:
            x = (100.0 * (net - total) / total + 100.0) / t_roi
            acc += w_roi * (0.0 if x < 0.0 else 1.0 if x > 1.0 else x)
            weight += w_roi
        if weight <= 0.0:
            return None
        score = 100.0 * acc / weight
        # float error here is below 1e-12 (about 15 operations on values of at most 100); the Decimal
        # chain's below 1e-20: away from a .5 tie both round alike
        floor = int(score)
        fraction = score - floor
        if abs(fraction - 0.5) < 1e-9:
            return None
        return floor + 1 if fraction > 0.5 else floor


def _decimals_money(*cents: int | None) -> tuple[Decimal | None, ...]:
    return tuple(None if c is None else Decimal(c).scaleb(-2) for c in cents)


def to_decimals(values: tuple[Any, ...], columns: tuple[str, ...]) -> dict[str, Any]:
    """The integer form as build_values returns it (Decimals with 2 or 4 places)."""
    out: dict[str, Any] = {}
    for name, value in zip(columns, values, strict=True):
        scale = _SCALE.get(name)
        out[name] = value if scale is None or value is None else Decimal(value).scaleb(-scale)
    return out


def from_decimals(values: dict[str, Any], columns: tuple[str, ...]) -> tuple[Any, ...]:
    """build_values' dict in the integer form (its Decimals are already rounded to their places)."""
    out: list[Any] = []
    for name in columns:
        value = values[name]
        scale = _SCALE.get(name)
        out.append(value if scale is None or value is None else int(value.scaleb(scale)))
    return tuple(out)


_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def copy_text(value: str) -> str:
    """A text value in COPY's text format (backslash, tab, newline, carriage return escaped)."""
    if "\\" in value or "\t" in value or "\n" in value or "\r" in value:
        return value.translate(_COPY_ESCAPES)
    return value


def _fixed2(n: int | None) -> str:
    if n is None:
        return "\\N"
    if n < 0:
        return "-" + _fixed2(-n)
    q, r = divmod(n, 100)
    return f"{q}.{r:02d}"


def _fixed4(n: int | None) -> str:
    if n is None:
        return "\\N"
    if n < 0:
        return "-" + _fixed4(-n)
    q, r = divmod(n, 10_000)
    return f"{q}.{r:04d}"


class CopyFormatter:
    """COPY text lines of (campaign_id, idempotency_key, *integer-form values); the text of repeated
    values (campaign ids, periods) is kept, bounded, so the per-row cost is mostly the numbers."""

    LIMIT = 4096

    def __init__(self) -> None:
        self.texts: dict[Any, str] = {}

    def _text(self, value: Any) -> str:
        found = self.texts.get(value)
        if found is None:
            if len(self.texts) >= self.LIMIT:
                self.texts.clear()
            found = self.texts[value] = copy_text(str(value))
        return found

    def line(self, campaign_id: Any, key: str, v: tuple[Any, ...]) -> str:
        text = self._text
        score = v[21]
        return "\t".join(
            (
                text(campaign_id),
                copy_text(key),
                text(v[0]),
                text(v[1]),
                text(v[2]),
                str(v[3]),
                str(v[4]),
                str(v[5]),
                str(v[6]),
                str(v[7]),
                str(v[8]),
                str(v[9]),
                str(v[10]),
                _fixed2(v[11]),
                _fixed2(v[12]),
                _fixed2(v[13]),
                _fixed2(v[14]),
                _fixed2(v[15]),
                _fixed4(v[16]),
                _fixed4(v[17]),
                _fixed4(v[18]),
                _fixed2(v[19]),
                _fixed2(v[20]),
                "\\N" if score is None else str(score),
            )
        )
