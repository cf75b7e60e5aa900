"""The Strawberry schema: queries, mutations and (from the alerts work) subscriptions.

Built once per process. The parser and validation caches are shared across requests, so a repeated
document is parsed and validated once.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.extensions import ParserCache, ValidationCache
from strawberry.schema.config import StrawberryConfig
from strawberry.types import ExecutionContext

from resolvers import alerts as alerts_r
from resolvers import analytics as analytics_r
from resolvers import api_keys as api_keys_r
from resolvers import campaigns as campaigns_r
from resolvers import connections as connections_r
from resolvers import errors as errors_r
from resolvers import monitoring as monitoring_r
from resolvers import notifications as notifications_r
from resolvers import performance as performance_r
from resolvers import posts as posts_r
from resolvers import publishing as publishing_r
from resolvers import reports as reports_r
from schema.error_convention import ErrorConvention, log_unexpected
from schema.limits import QueryLimits, limits_extension
from schema.scalars import SCALAR_MAP
from schema.types import (
    ApiKey,
    Campaign,
    CampaignAnalytics,
    CampaignMonitoring,
    CreatedApiKey,
    ErrorGroup,
    ErrorGroupConnection,
    MonitoringJob,
    MonitoringRun,
    Notification,
    OperationError,
    PerformanceRecord,
    PlatformConnection,
    RankedCampaign,
    ReconnectResult,
    RoiAnalysis,
    SocialPost,
    Webhook,
    WeeklyReview,
)

# The LRU caches are module-level in Strawberry, keyed by maxsize; tests read their cache_info().
PARSER_CACHE_SIZE = 512
VALIDATION_CACHE_SIZE = 512


@strawberry.type
class Query:
    campaign: Campaign = strawberry.field(resolver=campaigns_r.campaign, description="One campaign.")
    campaigns: list[Campaign] = strawberry.field(
        resolver=campaigns_r.campaign_list, description="Campaigns, newest first, with filters and limit/offset."
    )
    campaign_analytics: CampaignAnalytics = strawberry.field(
        resolver=analytics_r.campaign_analytics,
        description="Totals, per-platform social performance, errors and per-day performance of a campaign.",
    )
    top_performing_campaigns: list[RankedCampaign] = strawberry.field(
        resolver=analytics_r.top_performing_campaigns,
        description="Campaigns ranked by an aggregate metric; campaigns where it is not defined are left out.",
    )
    unresolved_errors: ErrorGroupConnection = strawberry.field(
        resolver=errors_r.unresolved_errors,
        description="Unresolved error groups (each with its latest occurrence), most recently seen first, "
        "cursor-paginated.",
    )
    error_group: ErrorGroup = strawberry.field(
        resolver=errors_r.error_group, description="One error group, with its occurrences and alerts."
    )
    social_posts: list[SocialPost] = strawberry.field(
        resolver=posts_r.social_posts, description="Posts, newest first, with filters and limit/offset."
    )
    platform_connections: list[PlatformConnection] = strawberry.field(
        resolver=connections_r.platform_connections, description="Connected social accounts and their health."
    )
    notifications: list[Notification] = strawberry.field(
        resolver=notifications_r.notification_list, description="Admin notifications, newest first."
    )
    unread_notification_count: int = strawberry.field(resolver=notifications_r.unread_notification_count)
    api_keys: list[ApiKey] = strawberry.field(resolver=api_keys_r.api_key_list, description="Admin only.")
    roi_analysis: RoiAnalysis = strawberry.field(
        resolver=reports_r.roi_analysis_report,
        description="A day's stored ROI report (date in REPORT_TIMEZONE); the latest when no date is given.",
    )
    weekly_review: WeeklyReview = strawberry.field(
        resolver=reports_r.weekly_review, description="The last 7 days: the seed's weekly review (8.2)."
    )
    webhooks: list[Webhook] = strawberry.field(resolver=alerts_r.webhook_list, description="Admin only.")
    campaign_monitoring: CampaignMonitoring = strawberry.field(
        resolver=monitoring_r.campaign_monitoring,
        description="A campaign's platform numbers: totals, the change in the last monitored hour, ROI, score.",
    )
    monitoring_runs: list[MonitoringRun] = strawberry.field(
        resolver=monitoring_r.monitoring_runs, description="Hourly monitoring runs, newest first."
    )


@strawberry.type
class Mutation:
    create_campaign: Campaign = strawberry.mutation(resolver=campaigns_r.create_campaign)
    update_campaign: Campaign = strawberry.mutation(resolver=campaigns_r.update_campaign)
    log_error: OperationError = strawberry.mutation(
        resolver=errors_r.log_error,
        description="Store an operation's error; with notifyAdmin, also an admin notification, atomically.",
    )
    resolve_error: ErrorGroup = strawberry.mutation(
        resolver=errors_r.resolve_error,
        description="Admin only. Resolves an error group (given its id, or one of its occurrences' ids); a later "
        "occurrence reopens it as regressed.",
    )
    ignore_error_group: ErrorGroup = strawberry.mutation(
        resolver=errors_r.ignore_error_group,
        description="Admin only. Ignore a group until a time (then it is unresolved again) or, without until, forever.",
    )
    record_performance: PerformanceRecord = strawberry.mutation(
        resolver=performance_r.record_performance,
        description="Store one period's performance with its derived values; an idempotency key stores once.",
    )
    track_social_post: SocialPost = strawberry.mutation(resolver=posts_r.track_social_post)
    update_post_status: SocialPost = strawberry.mutation(
        resolver=posts_r.update_post_status,
        description="Record a post's outcome; a failure increments retryCount and logs the error.",
    )
    schedule_post: SocialPost = strawberry.mutation(
        resolver=publishing_r.schedule_post,
        description="Queue a pending post for scheduledAt through its platform's (or the named) account.",
    )
    publish_post: SocialPost = strawberry.mutation(
        resolver=publishing_r.publish_post, description="Queue a pending post for publishing now."
    )
    retry_post: SocialPost = strawberry.mutation(
        resolver=publishing_r.retry_post,
        description="Publish a failed post again with a fresh retry budget, or a waiting one now.",
    )
    cancel_post: SocialPost = strawberry.mutation(
        resolver=publishing_r.cancel_post, description="Cancel a post that is not published or publishing."
    )
    connect_platform: PlatformConnection = strawberry.mutation(
        resolver=connections_r.connect_platform, description="Admin only. Connect a social account with its token."
    )
    reconnect_platform: ReconnectResult = strawberry.mutation(
        resolver=connections_r.reconnect_platform,
        description="Admin only. Store a new token, lift the account's halt and queue its blocked posts.",
    )
    mark_notifications_read: int = strawberry.mutation(
        resolver=notifications_r.mark_notifications_read,
        description="Marks the given notifications (all, without ids) read; returns how many changed.",
    )
    create_api_key: CreatedApiKey = strawberry.mutation(resolver=api_keys_r.create_api_key)
    revoke_api_key: ApiKey = strawberry.mutation(resolver=api_keys_r.revoke_api_key)
    run_roi_analysis: RoiAnalysis = strawberry.mutation(
        resolver=reports_r.run_roi_analysis,
        description="Admin: run today's ROI analysis now (stored and notified as the daily job does).",
    )
    run_monitoring: MonitoringJob = strawberry.mutation(
        resolver=monitoring_r.run_monitoring,
        description="Admin: queue the current hour's monitoring run now (a conflict when it already ran).",
    )
    add_webhook: Webhook = strawberry.mutation(
        resolver=alerts_r.add_webhook,
        description="Admin only. A Slack-compatible incoming webhook for notifications of at least minSeverity.",
    )
    remove_webhook: Webhook = strawberry.mutation(resolver=alerts_r.remove_webhook, description="Admin only.")


@strawberry.type
class Subscription:
    alerts: Notification = strawberry.subscription(  # type: ignore[assignment]  # an async generator resolver
        resolver=alerts_r.alerts,
        description="New notifications of at least minSeverity, each once, in id order. With after (a "
        "notification id), first those missed since then, then live ones, with no gap and no duplicate.",
    )


class CachingParser(ParserCache):
    """Strawberry's ParserCache, except that a syntax error is left for Strawberry's own parse step:
    raised from this hook it would escape the operation, skipping the error convention and metrics."""

    def on_parse(self) -> Iterator[None]:
        ec = self.execution_context
        try:
            ec.graphql_document = self.cached_parse_document(ec.query, **ec.parse_options)
        except GraphQLError:
            pass  # parsed again (bounded by the token limit) and reported inside the operation
        yield


class EventopsSchema(strawberry.Schema):
    def process_errors(self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None) -> None:
        log_unexpected(errors)


def build_schema(
    *,
    introspection: bool = True,
    limits: QueryLimits | None = None,
    extra_extensions: list[Any] | None = None,
) -> strawberry.Schema:
    """The schema with its caches, operation limits (built once, see schema.limits) and error convention."""
    # Hooks unwind in reverse order: extra extensions (metrics) come first so they see the errors as
    # the error convention left them. Limits before the caches: they set the parser option and
    # validation rules the caches then key on.
    extensions: list[Any] = [
        *(extra_extensions or []),
        limits_extension(limits or QueryLimits(), introspection=introspection),
        lambda: CachingParser(maxsize=PARSER_CACHE_SIZE),
        lambda: ValidationCache(maxsize=VALIDATION_CACHE_SIZE),
        ErrorConvention,
    ]
    return EventopsSchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        extensions=extensions,
        config=StrawberryConfig(auto_camel_case=True, scalar_map=SCALAR_MAP),
    )
