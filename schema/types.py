"""GraphQL object types, each built from a model or a service result by `from_model`/`from_result`."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import cast

import strawberry
from strawberry.scalars import JSON

from app import models
from app.services import analytics, monitoring, reviews, roi_analysis
from schema.enums import (
    AlertKind,
    CampaignStatus,
    ConnectionStatus,
    ErrorGroupStatus,
    ErrorType,
    PostStatus,
    Role,
    Severity,
)
from schema.scalars import BigInt


@strawberry.type(description="A marketing campaign. All its money is in its one currency.")
class Campaign:
    id: strawberry.ID
    title: str
    status: CampaignStatus
    currency: str = strawberry.field(description="ISO 4217 code.")
    budget: Decimal | None
    external_ref: str | None = strawberry.field(description="Where an imported campaign came from.")
    created_at: dt.datetime
    updated_at: dt.datetime

    @classmethod
    def from_model(cls, c: models.Campaign) -> Campaign:
        return cls(
            id=strawberry.ID(str(c.id)),
            title=c.title,
            status=CampaignStatus(c.status),
            currency=c.currency,
            budget=c.budget,
            external_ref=c.external_ref,
            created_at=c.created_at,
            updated_at=c.updated_at,
        )


@strawberry.type(description="A failure of an autonomous operation.")
class OperationError:
    id: strawberry.ID
    operation_type: str
    error_type: ErrorType
    error_message: str
    error_details: JSON
    campaign_id: strawberry.ID | None
    platform: str | None
    notify_admin: bool
    resolved: bool
    resolved_at: dt.datetime | None
    resolved_by: str | None
    resolution_note: str | None
    created_at: dt.datetime

    @classmethod
    def from_model(cls, e: models.OperationError) -> OperationError:
        return cls(
            id=strawberry.ID(str(e.id)),
            operation_type=e.operation_type,
            error_type=ErrorType(e.error_type),
            error_message=e.error_message,
            error_details=cast(JSON, e.error_details),
            campaign_id=None if e.campaign_id is None else strawberry.ID(str(e.campaign_id)),
            platform=e.platform,
            notify_admin=e.notify_admin,
            resolved=e.resolved,
            resolved_at=e.resolved_at,
            resolved_by=e.resolved_by,
            resolution_note=e.resolution_note,
            created_at=e.created_at,
        )


@strawberry.type
class PageInfo:
    has_next_page: bool
    end_cursor: str | None


@strawberry.type
class OperationErrorConnection:
    nodes: list[OperationError]
    page_info: PageInfo


@strawberry.type(description="A change of a group's state: the notification sent, or why none was.")
class ErrorGroupAlert:
    id: strawberry.ID
    kind: AlertKind
    severity: Severity
    error_id: strawberry.ID = strawberry.field(description="The occurrence that caused the change.")
    notification_id: strawberry.ID | None
    suppressed: bool
    suppressed_reason: str | None
    created_at: dt.datetime

    @classmethod
    def from_model(cls, a: models.ErrorGroupAlert) -> ErrorGroupAlert:
        return cls(
            id=strawberry.ID(str(a.id)),
            kind=AlertKind(a.kind),
            severity=Severity(a.severity),
            error_id=strawberry.ID(str(a.error_id)),
            notification_id=None if a.notification_id is None else strawberry.ID(str(a.notification_id)),
            suppressed=a.notification_id is None,
            suppressed_reason=a.suppressed_reason,
            created_at=a.created_at,
        )


@strawberry.type(
    description="Occurrences of one problem: same operation, error type, platform, account, campaign (where "
    "relevant) and platform error code."
)
class ErrorGroup:
    id: strawberry.ID
    fingerprint: str
    operation_type: str
    error_type: ErrorType
    platform: str | None
    account_id: str | None
    campaign_id: strawberry.ID | None
    error_code: str | None
    count: BigInt
    first_seen: dt.datetime
    last_seen: dt.datetime
    status: ErrorGroupStatus
    resolved: bool
    regressed: bool = strawberry.field(description="Reopened by an occurrence after it was resolved.")
    regressed_at: dt.datetime | None
    severity: Severity = strawberry.field(description="URGENT once the rate rule escalated it.")
    escalated_at: dt.datetime | None
    ignored_until: dt.datetime | None = strawberry.field(description="null with status IGNORED: forever.")
    resolved_at: dt.datetime | None
    resolved_by: str | None
    resolution_note: str | None
    latest_occurrence: OperationError | None
    latest_error_id: strawberry.Private[uuid.UUID]

    @classmethod
    def from_model(cls, g: models.ErrorGroup, latest: models.OperationError | None = None) -> ErrorGroup:
        from app.services.errors import group_severity

        return cls(
            id=strawberry.ID(str(g.id)),
            fingerprint=g.fingerprint,
            operation_type=g.operation_type,
            error_type=ErrorType(g.error_type),
            platform=g.platform,
            account_id=g.account_id,
            campaign_id=None if g.campaign_id is None else strawberry.ID(str(g.campaign_id)),
            error_code=g.error_code,
            count=g.count,
            first_seen=g.first_seen,
            last_seen=g.last_seen,
            status=ErrorGroupStatus(g.status),
            resolved=g.status == "resolved",
            regressed=g.status != "resolved" and g.regressed_at is not None,
            regressed_at=g.regressed_at,
            severity=Severity(group_severity(g)),
            escalated_at=g.escalated_at,
            ignored_until=g.ignored_until,
            resolved_at=g.resolved_at,
            resolved_by=g.resolved_by,
            resolution_note=g.resolution_note,
            latest_occurrence=None if latest is None else OperationError.from_model(latest),
            latest_error_id=g.latest_error_id,
        )

    @strawberry.field(description="The group's occurrences, newest first, cursor-paginated.")
    async def occurrences(
        self, info: strawberry.Info, first: int = 20, after: str | None = None
    ) -> OperationErrorConnection:
        from app.services import errors

        ctx = info.context
        first = ctx.page_size(first, "first")
        cursor = None if after is None else errors.ErrorCursor.decode(after)
        async with ctx.transaction() as session:
            rows, has_next = await errors.group_occurrences(session, uuid.UUID(str(self.id)), first=first, after=cursor)
        end = errors.ErrorCursor(rows[-1].created_at, rows[-1].id).encode() if rows else None
        return OperationErrorConnection(
            nodes=[OperationError.from_model(e) for e in rows],
            page_info=PageInfo(has_next_page=has_next, end_cursor=end),
        )

    @strawberry.field(description="Changes of state, newest first: each notification sent or suppressed (and why).")
    async def alerts(self, info: strawberry.Info, limit: int = 50) -> list[ErrorGroupAlert]:
        from app.services import errors

        ctx = info.context
        limit = ctx.page_size(limit)
        async with ctx.transaction() as session:
            rows = await errors.group_alerts(session, uuid.UUID(str(self.id)), limit)
        return [ErrorGroupAlert.from_model(a) for a in rows]


@strawberry.type
class ErrorGroupConnection:
    nodes: list[ErrorGroup]
    page_info: PageInfo


@strawberry.type(description="A Slack-compatible incoming webhook. The URL is a secret: only its host is shown.")
class Webhook:
    id: strawberry.ID
    name: str
    url: str = strawberry.field(description="Masked: scheme, host and the last 4 characters.")
    min_severity: Severity
    active: bool
    failing_since: dt.datetime | None
    created_at: dt.datetime

    @classmethod
    def from_model(cls, w: models.AlertWebhook) -> Webhook:
        from app.services.webhooks import mask_url

        return cls(
            id=strawberry.ID(str(w.id)),
            name=w.name,
            url=mask_url(w.url),
            min_severity=Severity(w.min_severity),
            active=w.active,
            failing_since=w.failing_since,
            created_at=w.created_at,
        )


@strawberry.type(description="What a campaign did in one period from one source, with the derived values.")
class PerformanceRecord:
    id: strawberry.ID
    campaign_id: strawberry.ID
    source: str
    period_start: dt.datetime
    period_end: dt.datetime
    idempotency_key: str | None
    views: BigInt
    clicks: BigInt
    new_signups: BigInt
    new_organizers: BigInt
    new_events_created: BigInt
    tickets_sold: BigInt
    social_shares: BigInt
    social_likes: BigInt
    gross_revenue: Decimal
    net_revenue: Decimal
    ad_spend: Decimal
    ai_generation_cost: Decimal
    total_cost: Decimal
    ctr: Decimal | None = strawberry.field(description="clicks / views × 100, 4 decimals; null when views = 0.")
    roi: Decimal | None = strawberry.field(description="(net − cost) / cost × 100, 4 decimals; null when cost = 0.")
    roas: Decimal | None = strawberry.field(description="gross / ad spend, 4 decimals; null when ad spend = 0.")
    cost_per_signup: Decimal | None
    cost_per_organizer: Decimal | None
    performance_score: int | None
    created_at: dt.datetime
    replayed: bool = strawberry.field(
        default=False,
        description="True when recordPerformance saw this idempotency key before and returned the first record.",
    )

    @classmethod
    def from_model(cls, r: models.PerformanceRecord, *, replayed: bool = False) -> PerformanceRecord:
        return cls(
            replayed=replayed,
            id=strawberry.ID(str(r.id)),
            campaign_id=strawberry.ID(str(r.campaign_id)),
            source=r.source,
            period_start=r.period_start,
            period_end=r.period_end,
            idempotency_key=r.idempotency_key,
            views=r.views,
            clicks=r.clicks,
            new_signups=r.new_signups,
            new_organizers=r.new_organizers,
            new_events_created=r.new_events_created,
            tickets_sold=r.tickets_sold,
            social_shares=r.social_shares,
            social_likes=r.social_likes,
            gross_revenue=r.gross_revenue,
            net_revenue=r.net_revenue,
            ad_spend=r.ad_spend,
            ai_generation_cost=r.ai_generation_cost,
            total_cost=r.total_cost,
            ctr=r.ctr,
            roi=r.roi,
            roas=r.roas,
            cost_per_signup=r.cost_per_signup,
            cost_per_organizer=r.cost_per_organizer,
            performance_score=r.performance_score,
            created_at=r.created_at,
        )


@strawberry.type(description="A social media post of a campaign (social_media_post_tracking).")
class SocialPost:
    id: strawberry.ID
    campaign_id: strawberry.ID
    platform: str
    content: str
    image_url: str | None
    status: PostStatus
    platform_post_id: str | None
    post_url: str | None
    error_type: ErrorType | None
    error_message: str | None
    error_details: JSON | None
    retry_count: int
    posted_at: dt.datetime | None
    connection_id: strawberry.ID | None = strawberry.field(description="The account it is published through.")
    scheduled_at: dt.datetime | None
    next_attempt_at: dt.datetime | None = strawberry.field(description="When the next attempt is due.")
    last_attempt_at: dt.datetime | None
    outcome_unknown: bool = strawberry.field(
        description="The last attempt may have published; the next one looks for the post first."
    )
    impressions: BigInt
    reach: BigInt
    engagement: BigInt
    clicks: BigInt
    shares: BigInt
    comments: BigInt
    likes: BigInt
    created_at: dt.datetime
    updated_at: dt.datetime

    @classmethod
    def from_model(cls, p: models.SocialPost) -> SocialPost:
        return cls(
            id=strawberry.ID(str(p.id)),
            campaign_id=strawberry.ID(str(p.campaign_id)),
            platform=p.platform,
            content=p.content,
            image_url=p.image_url,
            status=PostStatus(p.status),
            platform_post_id=p.platform_post_id,
            post_url=p.post_url,
            error_type=None if p.error_type is None else ErrorType(p.error_type),
            error_message=p.error_message,
            error_details=cast(JSON | None, p.error_details),
            retry_count=p.retry_count,
            posted_at=p.posted_at,
            connection_id=None if p.connection_id is None else strawberry.ID(str(p.connection_id)),
            scheduled_at=p.scheduled_at,
            next_attempt_at=p.next_attempt_at,
            last_attempt_at=p.last_attempt_at,
            outcome_unknown=p.outcome_unknown,
            impressions=p.impressions,
            reach=p.reach,
            engagement=p.engagement,
            clicks=p.clicks,
            shares=p.shares,
            comments=p.comments,
            likes=p.likes,
            created_at=p.created_at,
            updated_at=p.updated_at,
        )


@strawberry.type(description="An admin notification.")
class Notification:
    id: strawberry.ID = strawberry.field(description="Ever-increasing; also the cursor for alerts(after:).")
    type: str
    severity: Severity
    title: str
    message: str
    action: str | None
    data: JSON
    read: bool
    read_at: dt.datetime | None
    created_at: dt.datetime

    @classmethod
    def from_model(cls, n: models.Notification) -> Notification:
        return cls(
            id=strawberry.ID(str(n.id)),
            type=n.type,
            severity=Severity(n.severity),
            title=n.title,
            message=n.message,
            action=n.action,
            data=cast(JSON, n.data),
            read=n.read_at is not None,
            read_at=n.read_at,
            created_at=n.created_at,
        )


@strawberry.type(description="Sums over a campaign's records; ratios recomputed from the sums.")
class TotalPerformance:
    records: int
    total_views: BigInt
    total_clicks: BigInt
    ctr: Decimal | None
    total_signups: BigInt
    total_organizers: BigInt
    total_events_created: BigInt
    total_tickets_sold: BigInt
    total_social_shares: BigInt
    total_social_likes: BigInt
    gross_revenue: Decimal
    net_revenue: Decimal
    total_revenue: Decimal = strawberry.field(description="The seed's total_revenue: Σ net revenue.")
    total_ad_spend: Decimal
    total_ai_generation_cost: Decimal
    total_cost: Decimal
    roi: Decimal | None = strawberry.field(description="Pooled ROI: (Σ net − Σ cost) / Σ cost × 100.")
    roas: Decimal | None
    cost_per_signup: Decimal | None
    cost_per_organizer: Decimal | None
    best_roi: Decimal | None
    worst_roi: Decimal | None
    avg_performance_score: Decimal | None

    @classmethod
    def from_result(cls, t: analytics.TotalPerformance) -> TotalPerformance:
        d = t.derived
        return cls(
            records=t.records,
            total_views=t.total_views,
            total_clicks=t.total_clicks,
            ctr=d.ctr,
            total_signups=t.total_signups,
            total_organizers=t.total_organizers,
            total_events_created=t.total_events_created,
            total_tickets_sold=t.total_tickets_sold,
            total_social_shares=t.total_social_shares,
            total_social_likes=t.total_social_likes,
            gross_revenue=t.gross_revenue,
            net_revenue=t.net_revenue,
            total_revenue=t.net_revenue,
            total_ad_spend=t.total_ad_spend,
            total_ai_generation_cost=t.total_ai_generation_cost,
            total_cost=t.total_cost,
            roi=d.roi,
            roas=d.roas,
            cost_per_signup=d.cost_per_signup,
            cost_per_organizer=d.cost_per_organizer,
            best_roi=t.best_roi,
            worst_roi=t.worst_roi,
            avg_performance_score=t.avg_performance_score,
        )


@strawberry.type
class PlatformPerformance:
    platform: str
    total_posts: int
    successful_posts: int
    failed_posts: int
    total_impressions: BigInt
    total_engagement: BigInt
    signups_attributed: BigInt


@strawberry.type
class DayPerformance:
    date: dt.date
    views: BigInt
    clicks: BigInt
    signups: BigInt
    gross_revenue: Decimal
    net_revenue: Decimal
    revenue: Decimal = strawberry.field(description="Σ net revenue of the day (the seed's revenue).")
    total_cost: Decimal
    ctr: Decimal | None
    roi: Decimal | None
    performance_score: Decimal | None = strawberry.field(description="Mean of the day's record scores.")


@strawberry.type(description="The seed's campaign analytics (2.3).")
class CampaignAnalytics:
    campaign: Campaign
    currency: str
    total_performance: TotalPerformance
    social_media_performance: list[PlatformPerformance]
    errors: list[OperationError]
    performance_over_time: list[DayPerformance]

    @classmethod
    def from_result(cls, a: analytics.CampaignAnalytics) -> CampaignAnalytics:
        return cls(
            campaign=Campaign.from_model(a.campaign),
            currency=a.campaign.currency,
            total_performance=TotalPerformance.from_result(a.total),
            social_media_performance=[PlatformPerformance(**vars(p)) for p in a.social],
            errors=[OperationError.from_model(e) for e in a.errors],
            performance_over_time=[
                DayPerformance(
                    date=d.date,
                    views=d.views,
                    clicks=d.clicks,
                    signups=d.signups,
                    gross_revenue=d.gross_revenue,
                    net_revenue=d.net_revenue,
                    revenue=d.net_revenue,
                    total_cost=d.total_cost,
                    ctr=d.derived.ctr,
                    roi=d.derived.roi,
                    performance_score=d.avg_performance_score,
                )
                for d in a.over_time
            ],
        )


@strawberry.type
class RankedCampaign:
    campaign_id: strawberry.ID
    campaign_title: str
    currency: str
    metric_value: Decimal
    total_signups: BigInt
    gross_revenue: Decimal
    net_revenue: Decimal
    total_revenue: Decimal
    total_cost: Decimal
    roi: Decimal | None
    performance_score: Decimal | None

    @classmethod
    def from_result(cls, r: analytics.RankedCampaign) -> RankedCampaign:
        return cls(
            campaign_id=strawberry.ID(str(r.campaign_id)),
            campaign_title=r.title,
            currency=r.currency,
            metric_value=r.metric_value,
            total_signups=r.total_signups,
            gross_revenue=r.gross_revenue,
            net_revenue=r.net_revenue,
            total_revenue=r.net_revenue,
            total_cost=r.total_cost,
            roi=r.roi,
            performance_score=r.avg_performance_score,
        )


@strawberry.type(description="An API key (never the key itself).")
class ApiKey:
    id: strawberry.ID
    name: str
    role: Role
    key_prefix: str
    created_at: dt.datetime
    revoked_at: dt.datetime | None

    @classmethod
    def from_model(cls, k: models.ApiKey) -> ApiKey:
        return cls(
            id=strawberry.ID(str(k.id)),
            name=k.name,
            role=Role(k.role),
            key_prefix=k.key_prefix,
            created_at=k.created_at,
            revoked_at=k.revoked_at,
        )


@strawberry.type
class CreatedApiKey:
    api_key: ApiKey
    key: str = strawberry.field(description="The key itself. Shown only this once.")


@strawberry.type(description="A connected social account. Its token is stored encrypted and never returned.")
class PlatformConnection:
    id: strawberry.ID
    platform: str
    account_id: str
    display_name: str | None
    status: ConnectionStatus
    rate_limited_until: dt.datetime | None
    has_token: bool
    token_updated_at: dt.datetime | None
    token_expires_at: dt.datetime | None
    scopes: list[str]
    last_success_at: dt.datetime | None = strawberry.field(description="When a post last went out through it.")
    halted_at: dt.datetime | None = strawberry.field(description="When posting stopped (token or permission).")
    halt_reason: str | None
    created_at: dt.datetime
    updated_at: dt.datetime

    @classmethod
    def from_model(cls, c: models.PlatformConnection, status: str | None = None) -> PlatformConnection:
        return cls(
            id=strawberry.ID(str(c.id)),
            platform=c.platform,
            account_id=c.account_id,
            display_name=c.display_name,
            status=ConnectionStatus(status or c.status),
            rate_limited_until=c.rate_limited_until,
            has_token=bool(c.token_ciphertext),
            token_updated_at=c.token_updated_at,
            token_expires_at=c.token_expires_at,
            scopes=list(c.scopes or []),
            last_success_at=c.last_success_at,
            halted_at=c.halted_at,
            halt_reason=c.halt_reason,
            created_at=c.created_at,
            updated_at=c.updated_at,
        )


@strawberry.type
class ReconnectResult:
    connection: PlatformConnection
    requeued_posts: int = strawberry.field(description="Blocked posts queued again.")


def parse_id(value: str, field: str) -> uuid.UUID:
    from app.errors import ValidationFailed

    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise ValidationFailed(f"{field} is not a valid id: {value!r}", field=field) from None


@strawberry.type
class CampaignRoi:
    campaign_id: strawberry.ID
    title: str
    currency: str
    roi: Decimal | None
    total_signups: BigInt
    total_organizers: BigInt
    total_revenue: Decimal = strawberry.field(description="Σ net revenue.")
    total_cost: Decimal

    @classmethod
    def from_result(cls, c: roi_analysis.CampaignRoi) -> CampaignRoi:
        return cls(
            campaign_id=strawberry.ID(c.campaign_id),
            title=c.title,
            currency=c.currency,
            roi=c.roi,
            total_signups=c.total_signups,
            total_organizers=c.total_organizers,
            total_revenue=c.net_revenue,
            total_cost=c.total_cost,
        )


@strawberry.type(description="Portfolio totals of one currency (currencies are never added together).")
class CurrencyPortfolio:
    currency: str
    campaigns: int
    gross_revenue: Decimal
    total_revenue: Decimal = strawberry.field(description="Σ net revenue.")
    total_cost: Decimal
    roi: Decimal | None

    @classmethod
    def from_result(cls, p: roi_analysis.CurrencyPortfolio) -> CurrencyPortfolio:
        return cls(
            currency=p.currency,
            campaigns=p.campaigns,
            gross_revenue=p.gross_revenue,
            total_revenue=p.net_revenue,
            total_cost=p.total_cost,
            roi=p.roi,
        )


@strawberry.type(description="The daily ROI analysis (seed 4.2).")
class RoiAnalysis:
    date: dt.date
    timezone: str
    window_start: dt.datetime | None
    window_end: dt.datetime
    top_performers: list[CampaignRoi]
    underperformers: list[CampaignRoi]
    insufficient_data: list[CampaignRoi]
    portfolio: list[CurrencyPortfolio]
    recommendations: list[str]

    @classmethod
    def from_result(cls, a: roi_analysis.RoiAnalysis) -> RoiAnalysis:
        return cls(
            date=a.report_date,
            timezone=a.timezone,
            window_start=a.window_start,
            window_end=a.window_end,
            top_performers=[CampaignRoi.from_result(c) for c in a.top_performers],
            underperformers=[CampaignRoi.from_result(c) for c in a.underperformers],
            insufficient_data=[CampaignRoi.from_result(c) for c in a.insufficient_data],
            portfolio=[CurrencyPortfolio.from_result(p) for p in a.portfolio],
            recommendations=a.recommendations,
        )


@strawberry.type
class ErrorTypeCount:
    error_type: ErrorType
    count: int


@strawberry.type
class TokenWarning:
    platform: str
    account: str | None
    status: str
    expires_at: dt.datetime | None
    message: str


@strawberry.type(description="The weekly review (seed 8.2).")
class WeeklyReview:
    window_start: dt.datetime
    window_end: dt.datetime
    active_campaigns: int
    portfolio: list[CurrencyPortfolio]
    operations: int
    errors: int
    error_rate_per_100: Decimal | None = strawberry.field(description="errors / operations × 100.")
    errors_by_type: list[ErrorTypeCount]
    token_warnings: list[TokenWarning]
    top_campaigns: list[CampaignRoi]
    bottom_campaigns: list[CampaignRoi]

    @classmethod
    def from_result(cls, r: reviews.WeeklyReview) -> WeeklyReview:
        return cls(
            window_start=r.window_start,
            window_end=r.window_end,
            active_campaigns=r.active_campaigns,
            portfolio=[CurrencyPortfolio.from_result(p) for p in r.portfolio],
            operations=r.operations,
            errors=r.errors,
            error_rate_per_100=r.error_rate_per_100,
            errors_by_type=[
                ErrorTypeCount(error_type=ErrorType(k), count=v) for k, v in sorted(r.errors_by_type.items())
            ],
            token_warnings=[TokenWarning(**vars(w)) for w in r.token_warnings],
            top_campaigns=[CampaignRoi.from_result(c) for c in r.top_campaigns],
            bottom_campaigns=[CampaignRoi.from_result(c) for c in r.bottom_campaigns],
        )


@strawberry.type(description="Post metrics of a campaign: cumulative totals, or what one hour added.")
class MonitoringNumbers:
    views: BigInt = strawberry.field(description="Impressions (Facebook post_media_view, Instagram views, ...).")
    clicks: BigInt
    likes: BigInt
    shares: BigInt
    comments: BigInt
    reach: BigInt

    @classmethod
    def from_result(cls, n: monitoring.Numbers) -> MonitoringNumbers:
        return cls(views=n.views, clicks=n.clicks, likes=n.likes, shares=n.shares, comments=n.comments, reach=n.reach)


@strawberry.type(description="One hourly monitoring run (the cron's, a retry's or an admin's).")
class MonitoringRun:
    id: strawberry.ID
    hour: dt.datetime = strawberry.field(
        description="The run's hour (UTC); its increments are recorded for the hour before it."
    )
    status: str = strawberry.field(description="running, succeeded, partial (some posts unreadable) or failed.")
    started_at: dt.datetime
    finished_at: dt.datetime | None
    attempts: int
    campaigns_checked: int
    posts_updated: int
    errors: int
    duration_ms: int | None
    detail: JSON = strawberry.field(description="records, skipped posts by reason, the first errors.")

    @classmethod
    def from_model(cls, r: models.MonitoringRun) -> MonitoringRun:
        return cls(
            id=strawberry.ID(str(r.id)),
            hour=r.hour,
            status=r.status,
            started_at=r.started_at,
            finished_at=r.finished_at,
            attempts=r.attempts,
            campaigns_checked=r.campaigns_checked,
            posts_updated=r.posts_updated,
            errors=r.errors,
            duration_ms=r.duration_ms,
            detail=cast(JSON, r.detail),
        )


@strawberry.type(description="A campaign's live numbers for the dashboard.")
class CampaignMonitoring:
    campaign: Campaign
    status: CampaignStatus
    totals: MonitoringNumbers = strawberry.field(description="The platforms' latest numbers over its posts.")
    last_hour: MonitoringNumbers = strawberry.field(description="What the latest monitored hour added.")
    last_hour_at: dt.datetime | None = strawberry.field(description="When lastHour was measured.")
    roi: Decimal | None = strawberry.field(description="ROI in percent over all its records; null without cost.")
    performance_score: int | None
    last_updated: dt.datetime | None
    latest_run: MonitoringRun | None

    @classmethod
    def from_result(cls, m: monitoring.CampaignMonitoring) -> CampaignMonitoring:
        return cls(
            campaign=Campaign.from_model(m.campaign),
            status=CampaignStatus(m.campaign.status),
            totals=MonitoringNumbers.from_result(m.totals),
            last_hour=MonitoringNumbers.from_result(m.last_hour),
            last_hour_at=m.last_hour_at,
            roi=m.roi,
            performance_score=m.performance_score,
            last_updated=m.last_updated,
            latest_run=None if m.latest_run is None else MonitoringRun.from_model(m.latest_run),
        )


@strawberry.type(description="A monitoring run queued by an admin.")
class MonitoringJob:
    job_id: strawberry.ID
    hour: dt.datetime = strawberry.field(description="The hour it will monitor.")
