"""GraphQL input objects. Money fields are Decimal strings; omitted fields take the spec's defaults."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import strawberry
from strawberry.scalars import JSON

from schema.enums import CampaignStatus, ErrorType


@strawberry.input
class CreateCampaignInput:
    title: str
    currency: str = "EUR"
    status: CampaignStatus = CampaignStatus.ACTIVE
    budget: Decimal | None = None


@strawberry.input
class UpdateCampaignInput:
    title: str | None = strawberry.UNSET
    currency: str | None = strawberry.UNSET
    status: CampaignStatus | None = strawberry.UNSET
    budget: Decimal | None = strawberry.field(
        default=strawberry.UNSET, description="null clears the budget; omit to keep it."
    )


@strawberry.input(description="The seed's log_autonomous_error arguments.")
class LogErrorInput:
    operation_type: str = strawberry.field(description="snake_case, e.g. social_posting, campaign_creation.")
    error_type: ErrorType
    error_message: str
    error_details: JSON | None = None
    campaign_id: strawberry.ID | None = None
    platform: str | None = None
    notify_admin: bool = False
    account_id: str | None = strawberry.field(
        default=None, description="The platform account; default: errorDetails.account_id."
    )
    error_code: str | None = strawberry.field(
        default=None, description="The platform's error code; default: errorDetails.platform_code/error_code/code."
    )
    occurred_at: dt.datetime | None = strawberry.field(
        default=None, description="When it happened, if reported late (not in the future). Default: now."
    )


@strawberry.input(description="One period's increments. Counts default to 0; see shared/spec/metrics.md.")
class PerformanceInput:
    views: int | None = None
    clicks: int | None = None
    new_signups: int | None = None
    new_organizers: int | None = None
    new_events_created: int | None = None
    tickets_sold: int | None = None
    social_shares: int | None = None
    social_likes: int | None = None
    gross_revenue: Decimal | None = None
    net_revenue: Decimal | None = strawberry.field(
        default=None, description="Default: gross × (1 − platform fee rate)."
    )
    ad_spend: Decimal | None = None
    ai_generation_cost: Decimal | None = None
    total_cost: Decimal | None = strawberry.field(default=None, description="Default: ad spend + AI generation cost.")
    source: str = "manual"
    period_start: dt.datetime | None = None
    period_end: dt.datetime | None = None


@strawberry.input
class ErrorFilterInput:
    operation_type: str | None = None
    error_type: ErrorType | None = None
    campaign_id: strawberry.ID | None = None
    platform: str | None = None


@strawberry.input(description="A social account and its access token (stored encrypted, never returned).")
class ConnectPlatformInput:
    platform: str = strawberry.field(description="facebook, instagram, x, linkedin or tiktok.")
    account_id: str = strawberry.field(description="Page id, IG user id, X user id, LinkedIn URN/id, TikTok open id.")
    access_token: str
    display_name: str | None = None
    token_expires_at: dt.datetime | None = None
    scopes: list[str] | None = None


@strawberry.input(description="A new access token for a connected account; lifts a halt and resumes its posts.")
class ReconnectPlatformInput:
    platform: str
    access_token: str
    account_id: str | None = strawberry.field(
        default=None, description="Needed only when several accounts of the platform are connected."
    )
    token_expires_at: dt.datetime | None = None
    scopes: list[str] | None = strawberry.field(default=None, description="Omit to keep the stored scopes.")
