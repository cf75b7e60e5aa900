"""The formulas of shared/spec/metrics.md, on the seed's worked examples and every edge case."""

from decimal import Decimal as D

import pytest

from app.services.metrics import ScoreRules, Totals, derive, performance_score

RULES = ScoreRules()


def rounded(**kw):  # type: ignore[no-untyped-def]
    return derive(Totals(**kw), RULES).rounded()


def test_seed_2_2_example() -> None:
    d = rounded(
        views=5000,
        clicks=250,
        new_signups=50,
        new_organizers=10,
        gross_revenue=D("2500.00"),
        net_revenue=D("2375.00"),
        ad_spend=D("100.00"),
        total_cost=D("100.05"),
    )
    assert (d.ctr, d.roi, d.roas) == (D("5.0000"), D("2273.8131"), D("25.0000"))
    assert (d.cost_per_signup, d.cost_per_organizer, d.performance_score) == (D("2.00"), D("10.01"), 95)


def test_seed_7_2_example_has_no_roas_without_ad_spend() -> None:
    d = rounded(
        views=1000,
        clicks=50,
        new_signups=10,
        new_organizers=2,
        gross_revenue=D("500"),
        net_revenue=D("475"),
        total_cost=D("50"),
    )
    assert (d.ctr, d.roi, d.roas) == (D("5.0000"), D("850.0000"), None)
    assert (d.cost_per_signup, d.cost_per_organizer, d.performance_score) == (D("5.00"), D("25.00"), 95)


def test_zero_denominators_give_null_never_zero() -> None:
    d = rounded()
    assert d == type(d)(None, None, None, None, None, None)


def test_cost_per_organizer_rounds_half_up_to_cents() -> None:
    # 100.05 / 10 = 10.005 -> 10.01 (banker's rounding would give 10.00)
    assert rounded(total_cost=D("100.05"), new_organizers=10).cost_per_organizer == D("10.01")


def test_small_ctr_keeps_four_decimals() -> None:
    assert rounded(views=7350, clicks=1).ctr == D("0.0136")


def test_losing_money_gives_negative_roi_and_low_score() -> None:
    d = rounded(views=100, clicks=0, net_revenue=D("0"), gross_revenue=D("0"), total_cost=D("10"))
    assert d.roi == D("-100.0000")
    # ctr 0 -> 0, conversion null (no clicks) -> left out, roi -100 % -> 0
    assert d.performance_score == 0


def test_score_rescales_weights_when_a_component_is_null() -> None:
    # Only CTR is defined (no cost, no clicks): the score is the CTR component alone.
    assert performance_score(D("2.5"), 0, 0, None, RULES) == 50
    assert performance_score(None, 0, 0, None, RULES) is None


def test_score_components_are_clamped() -> None:
    # 40 % CTR and 1000 % conversion still count as 1 each; ROI of -500 % counts as 0.
    assert performance_score(D("40"), 100, 10, D("-500"), RULES) == 50


@pytest.mark.parametrize(("roi", "expected"), [(D("200"), 75), (D("-100"), 50), (D("500"), 100)])
def test_roi_component_is_linear_between_minus_100_and_500(roi: D, expected: int) -> None:
    # CTR and conversion at full marks (0.5 of the weight), ROI component (roi + 100) / 600.
    assert performance_score(D("5"), 25, 100, roi, RULES) == expected


def test_division_context_equals_localcontext_division() -> None:
    """_div uses one shared 40-digit context instead of entering localcontext per division: the same
    quotients, digit for digit, over awkward random operands."""
    import random
    from decimal import Decimal, localcontext

    from app.services.metrics import _div

    rng = random.Random(7)
    for _ in range(5000):
        n = Decimal(rng.randint(0, 10**16)) / Decimal(10 ** rng.randint(0, 4))
        d = Decimal(rng.randint(1, 10**12)) / Decimal(10 ** rng.randint(0, 4))
        with localcontext() as ctx:
            ctx.prec = 40
            expected = n / d
        got = _div(n, d)
        assert got is not None and str(got) == str(expected)
    assert _div(Decimal(1), Decimal(0)) is None
