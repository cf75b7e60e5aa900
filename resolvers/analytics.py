from __future__ import annotations

import datetime as dt
from typing import Annotated

import strawberry

from app.services import analytics
from app.services.api_keys import Role
from app.services.performance import score_rules
from resolvers.context import Info, require
from schema.enums import RankMetric
from schema.types import CampaignAnalytics, RankedCampaign, parse_id


async def campaign_analytics(
    info: Info,
    campaign_id: strawberry.ID,
    from_: Annotated[dt.datetime | None, strawberry.argument(name="from")] = None,
    to: dt.datetime | None = None,
) -> CampaignAnalytics:
    ctx = require(info, Role.VIEWER)
    async with ctx.transaction() as session:
        result = await analytics.campaign_analytics(
            session, score_rules(ctx.settings), parse_id(campaign_id, "campaignId"), start=from_, end=to
        )
    return CampaignAnalytics.from_result(result)


async def top_performing_campaigns(
    info: Info, metric: RankMetric = RankMetric.ROI, limit: int = 10
) -> list[RankedCampaign]:
    ctx = require(info, Role.VIEWER)
    limit = ctx.page_size(limit)
    async with ctx.transaction() as session:
        rows = await analytics.top_performing(session, analytics.RankMetric(metric.value), limit)
    return [RankedCampaign.from_result(r) for r in rows]
