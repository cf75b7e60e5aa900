"""Campaigns: the unit every record, post and error belongs to. Each has one currency."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import NotFound, ValidationFailed
from app.models import Campaign
from app.models.campaign import CAMPAIGN_STATUSES
from app.services.currencies import validate_currency
from app.services.validation import check_money, check_text

MAX_TITLE = 200


@dataclass
class CampaignChanges:
    title: str | None = None
    status: str | None = None
    currency: str | None = None
    budget: Decimal | None = None
    clear_budget: bool = False


def _validate_status(status: str) -> str:
    if status not in CAMPAIGN_STATUSES:
        raise ValidationFailed(f"status must be one of {', '.join(CAMPAIGN_STATUSES)}, got {status!r}", field="status")
    return status


async def create_campaign(
    session: AsyncSession,
    *,
    title: str,
    currency: str = "EUR",
    status: str = "active",
    budget: Decimal | None = None,
    external_ref: str | None = None,
) -> Campaign:
    campaign = Campaign(
        title=check_text(title, "title", MAX_TITLE, required=True),
        currency=validate_currency(currency),
        status=_validate_status(status),
        budget=None if budget is None else check_money(budget, "budget"),
        external_ref=external_ref,
    )
    session.add(campaign)
    await session.flush()
    await session.refresh(campaign)
    return campaign


async def update_campaign(session: AsyncSession, campaign_id: uuid.UUID, changes: CampaignChanges) -> Campaign:
    campaign = await get_campaign(session, campaign_id, for_update=True)
    if changes.title is not None:
        campaign.title = check_text(changes.title, "title", MAX_TITLE, required=True)
    if changes.status is not None:
        campaign.status = _validate_status(changes.status)
    if changes.currency is not None:
        new_currency = validate_currency(changes.currency)
        if new_currency != campaign.currency and await _has_money(session, campaign_id):
            # Re-labelling recorded money would silently convert it.
            raise ValidationFailed("currency cannot change once performance has been recorded in it", field="currency")
        campaign.currency = new_currency
    if changes.clear_budget:
        campaign.budget = None
    elif changes.budget is not None:
        campaign.budget = check_money(changes.budget, "budget")
    await session.flush()
    await session.refresh(campaign)
    return campaign


async def _has_money(session: AsyncSession, campaign_id: uuid.UUID) -> bool:
    from app.models import PerformanceRecord

    found = await session.scalar(
        select(PerformanceRecord.id).where(PerformanceRecord.campaign_id == campaign_id).limit(1)
    )
    return found is not None


async def get_campaign(session: AsyncSession, campaign_id: uuid.UUID, *, for_update: bool = False) -> Campaign:
    stmt = select(Campaign).where(Campaign.id == campaign_id)
    if for_update:
        stmt = stmt.with_for_update()
    campaign = await session.scalar(stmt)
    if campaign is None:
        raise NotFound(f"campaign {campaign_id} (campaignId) does not exist", field="campaignId")
    return campaign


async def list_campaigns(
    session: AsyncSession,
    *,
    status: str | None = None,
    search: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> list[Campaign]:
    stmt = select(Campaign).order_by(Campaign.created_at.desc(), Campaign.id).limit(limit).offset(offset)
    if status is not None:
        stmt = stmt.where(Campaign.status == _validate_status(status))
    if search:
        stmt = stmt.where(Campaign.title.ilike("%" + search.replace("%", r"\%").replace("_", r"\_") + "%"))
    return list((await session.scalars(stmt)).all())


async def get_or_create_by_ref(session: AsyncSession, *, external_ref: str, title: str, currency: str) -> uuid.UUID:
    """The campaign imported under external_ref, created on first sight (safe under concurrent imports)."""
    stmt = (
        insert(Campaign)
        .values(external_ref=external_ref, title=title, currency=validate_currency(currency), status="active")
        .on_conflict_do_nothing(index_elements=[Campaign.external_ref])
        .returning(Campaign.id)
    )
    created = await session.scalar(stmt)
    if created is not None:
        return created
    existing = await session.scalar(select(Campaign.id).where(Campaign.external_ref == external_ref))
    assert existing is not None
    return existing
