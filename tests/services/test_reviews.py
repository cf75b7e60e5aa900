"""The weekly review: active campaigns, per-currency ROI, error rate per 100 operations, top and bottom."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal as D

from app.database import transaction
from app.runtime import Runtime
from app.services import errors, posts, reviews
from app.settings import Settings
from tests.services.test_roi_analysis import portfolio


async def test_weekly_review_of_the_fixture_portfolio(runtime: Runtime, settings: Settings) -> None:
    # records a day old, so they fall into the week ending now whatever today's date is
    ids = await portfolio(runtime, settings, at=datetime.now(UTC) - timedelta(days=1))
    async with transaction(runtime.sessionmaker) as s:
        post = await posts.track_post(s, settings, campaign_id=uuid.UUID(ids["A"]), platform="facebook", content="hi")
        await posts.update_post_status(
            s, settings, post.id, posts.StatusUpdate("failed", error_type="token_expired", error_message="expired")
        )
        await errors.log_error(
            s, settings, errors.ErrorInput("content_generation", "ai_generation_failed", "Gemini refused")
        )
    async with runtime.sessionmaker() as s:
        # posts and errors are stamped with the database's clock: review the week ending now
        review = await reviews.weekly_review(s, settings, now=datetime.now(UTC))
        before_errors = await reviews.weekly_review(s, settings, now=datetime.now(UTC) - timedelta(hours=12))
    assert review.active_campaigns == 5  # F is paused
    # 6 performance records + 1 post tracked and failed once (2 attempts) + 1 other failed operation = 9
    assert (review.operations, review.errors) == (9, 2)
    assert review.error_rate_per_100 == D("22.2222")
    assert {e: c for e, c in review.errors_by_type.items()} == {"token_expired": 1, "ai_generation_failed": 1}
    assert [w.platform for w in review.token_warnings] == ["facebook"]
    # ranking leaves out C (no cost) and E (below the minimum spend); F is paused but still earned this week
    assert [c.title for c in review.top_campaigns] == ["F", "A", "D"]
    assert [c.title for c in review.bottom_campaigns] == ["B", "D", "A"]
    # the week's portfolio counts paused F too: EUR (700 + 50 + 100 + 9000 - 210) / 210 = 4590.4762 %
    assert before_errors.errors == 0
    assert [(p.currency, p.roi) for p in before_errors.portfolio] == [("EUR", D("4590.4762")), ("USD", D("95.1220"))]
