from __future__ import annotations

import strawberry

from app.services import campaigns
from app.services.api_keys import Role
from resolvers.context import Info, require
from schema.enums import CampaignStatus
from schema.inputs import CreateCampaignInput, UpdateCampaignInput
from schema.types import Campaign, parse_id


async def campaign(info: Info, id: strawberry.ID) -> Campaign:
    ctx = require(info, Role.VIEWER)
    async with ctx.transaction() as session:
        return Campaign.from_model(await campaigns.get_campaign(session, parse_id(id, "id")))


async def campaign_list(
    info: Info,
    status: CampaignStatus | None = None,
    search: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> list[Campaign]:
    ctx = require(info, Role.VIEWER)
    limit = ctx.page_size(limit)
    async with ctx.transaction() as session:
        rows = await campaigns.list_campaigns(
            session, status=None if status is None else status.value, search=search, limit=limit, offset=max(0, offset)
        )
    return [Campaign.from_model(c) for c in rows]


async def create_campaign(info: Info, input: CreateCampaignInput) -> Campaign:
    ctx = require(info, Role.SERVICE)
    async with ctx.transaction() as session:
        c = await campaigns.create_campaign(
            session, title=input.title, currency=input.currency, status=input.status.value, budget=input.budget
        )
    return Campaign.from_model(c)


async def update_campaign(info: Info, id: strawberry.ID, input: UpdateCampaignInput) -> Campaign:
    ctx = require(info, Role.SERVICE)
    changes = campaigns.CampaignChanges()
    if input.title is not strawberry.UNSET:
        changes.title = input.title if input.title is not None else ""  # null title fails as "empty"
    if input.currency is not strawberry.UNSET:
        changes.currency = input.currency if input.currency is not None else ""
    if input.status is not strawberry.UNSET and input.status is not None:
        changes.status = input.status.value
    if input.budget is not strawberry.UNSET:
        changes.budget, changes.clear_budget = input.budget, input.budget is None
    async with ctx.transaction() as session:
        c = await campaigns.update_campaign(session, parse_id(id, "id"), changes)
    return Campaign.from_model(c)
