from __future__ import annotations

import strawberry

from app.services import performance
from app.services.api_keys import Role
from resolvers.context import Info, require
from schema.inputs import PerformanceInput
from schema.types import PerformanceRecord, parse_id


async def record_performance(
    info: Info, campaign_id: strawberry.ID, input: PerformanceInput, idempotency_key: str | None = None
) -> PerformanceRecord:
    ctx = require(info, Role.SERVICE)
    data = performance.PerformanceInput(**{k: getattr(input, k) for k in vars(input)})
    async with ctx.transaction() as session:
        record, created = await performance.record_performance(
            session, ctx.settings, parse_id(campaign_id, "campaignId"), data, idempotency_key=idempotency_key
        )
    return PerformanceRecord.from_model(record, replayed=not created)
