"""Facebook Pages via the Graph API: /{page-id}/feed and /photos, post insights."""

from __future__ import annotations

from datetime import datetime

from app.platforms._http import as_int, node
from app.platforms._meta import GraphAdapter, insights_values
from app.platforms.base import (
    AccountCredentials,
    Platform,
    PostMetrics,
    PublishedPost,
    PublishRequest,
)

# Current names: the post_impressions family was retired in 2025-2026, and one invalid name fails
# the whole request with (#100).
INSIGHT_METRICS = ("post_media_view", "post_total_media_view_unique", "post_reactions_by_type_total", "post_clicks")


class FacebookAdapter(GraphAdapter):
    """A Facebook Page: creds.account_id is the Page id, creds.access_token a Page access token.

    Construct with (client: httpx.AsyncClient, base_url: str), base_url including the API version.
    """

    platform = Platform.FACEBOOK

    async def publish(self, creds: AccountCredentials, request: PublishRequest) -> PublishedPost:
        if request.image_url:
            reply = await self._call(
                "publish",
                "POST",
                f"/{creds.account_id}/photos",
                creds.access_token,
                json={"url": request.image_url, "message": request.content},
            )
            # /photos answers {"id": <photo id>, "post_id": <feed post id>}; insights need the post id.
            post_id = reply.body.get("post_id") if isinstance(reply.body, dict) else None
        else:
            reply = await self._call(
                "publish", "POST", f"/{creds.account_id}/feed", creds.access_token, json={"message": request.content}
            )
            post_id = reply.body.get("id") if isinstance(reply.body, dict) else None
        if not isinstance(post_id, str) or not post_id:
            raise self._unexpected(reply, "a post id")
        return PublishedPost(platform_post_id=post_id, url=f"https://www.facebook.com/{post_id}")

    async def find_post(
        self, creds: AccountCredentials, request: PublishRequest, since: datetime
    ) -> PublishedPost | None:
        return await self._find_in_edge(
            creds,
            request,
            since,
            edge="posts",
            text_field="message",
            time_field="created_time",
            link_field="permalink_url",
            default_url="https://www.facebook.com/{id}",
        )

    async def fetch_metrics(self, creds: AccountCredentials, platform_post_id: str) -> PostMetrics:
        insights = await self._call(
            "metrics",
            "GET",
            f"/{platform_post_id}/insights",
            creds.access_token,
            params={"metric": ",".join(INSIGHT_METRICS), "period": "lifetime"},
        )
        values = insights_values(insights.body)
        # Comments and shares are fields of the post itself, not insights.
        post = await self._call(
            "metrics",
            "GET",
            f"/{platform_post_id}",
            creds.access_token,
            params={"fields": "shares,comments.summary(true).limit(0)"},
        )
        # `shares` is left out of the answer when nobody has shared the post.
        shares = as_int(node(post.body, "shares").get("count"))
        comments = as_int(node(node(post.body, "comments"), "summary").get("total_count"))
        likes = values.get("post_reactions_by_type_total", 0)
        clicks = values.get("post_clicks", 0)
        return PostMetrics(
            impressions=values.get("post_media_view", 0),
            reach=values.get("post_total_media_view_unique", 0),
            engagement=likes + comments + shares + clicks,
            clicks=clicks,
            shares=shares,
            comments=comments,
            likes=likes,
        )
