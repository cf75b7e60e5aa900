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

from resolvers import analytics as analytics_r
from resolvers import api_keys as api_keys_r
from resolvers import campaigns as campaigns_r
from resolvers import errors as errors_r
from resolvers import notifications as notifications_r
from resolvers import performance as performance_r
from resolvers import posts as posts_r
from schema.error_convention import ErrorConvention, log_unexpected
from schema.limits import QueryLimits, limits_extension
from schema.scalars import SCALAR_MAP
from schema.types import (
    ApiKey,
    Campaign,
    CampaignAnalytics,
    CreatedApiKey,
    Notification,
    OperationError,
    OperationErrorConnection,
    PerformanceRecord,
    RankedCampaign,
    SocialPost,
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
    unresolved_errors: OperationErrorConnection = strawberry.field(
        resolver=errors_r.unresolved_errors, description="Unresolved errors, newest first, cursor-paginated."
    )
    social_posts: list[SocialPost] = strawberry.field(resolver=posts_r.social_posts)
    notifications: list[Notification] = strawberry.field(
        resolver=notifications_r.notification_list, description="Admin notifications, newest first."
    )
    unread_notification_count: int = strawberry.field(resolver=notifications_r.unread_notification_count)
    api_keys: list[ApiKey] = strawberry.field(resolver=api_keys_r.api_key_list, description="Admin only.")


@strawberry.type
class Mutation:
    create_campaign: Campaign = strawberry.mutation(resolver=campaigns_r.create_campaign)
    update_campaign: Campaign = strawberry.mutation(resolver=campaigns_r.update_campaign)
    log_error: OperationError = strawberry.mutation(
        resolver=errors_r.log_error,
        description="Store an operation's error; with notifyAdmin, also an admin notification, atomically.",
    )
    resolve_error: OperationError = strawberry.mutation(resolver=errors_r.resolve_error, description="Admin only.")
    record_performance: PerformanceRecord = strawberry.mutation(
        resolver=performance_r.record_performance,
        description="Store one period's performance with its derived values; an idempotency key stores once.",
    )
    track_social_post: SocialPost = strawberry.mutation(resolver=posts_r.track_social_post)
    update_post_status: SocialPost = strawberry.mutation(
        resolver=posts_r.update_post_status,
        description="Record a post's outcome; a failure increments retryCount and logs the error.",
    )
    mark_notifications_read: int = strawberry.mutation(
        resolver=notifications_r.mark_notifications_read,
        description="Marks the given notifications (all, without ids) read; returns how many changed.",
    )
    create_api_key: CreatedApiKey = strawberry.mutation(resolver=api_keys_r.create_api_key)
    revoke_api_key: ApiKey = strawberry.mutation(resolver=api_keys_r.revoke_api_key)


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
        extensions=extensions,
        config=StrawberryConfig(auto_camel_case=True, scalar_map=SCALAR_MAP),
    )
