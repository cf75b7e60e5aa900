"""X (API v2): POST /2/tweets, the user's timeline for find_post, public_metrics for monitoring."""

from __future__ import annotations

from datetime import UTC, datetime

from app.platforms._http import CLOCK_SKEW, HttpAdapter, Reply, as_int, local_error, parse_time, within
from app.platforms.base import (
    AccountCredentials,
    ErrorType,
    Platform,
    PostMetrics,
    PublishedPost,
    PublishRequest,
    post_matches,
)


class XAdapter(HttpAdapter):
    """creds.account_id is the X user id; creds.access_token an OAuth 2.0 user token (tweet.write).

    Images are not attached: X needs its media upload flow first, which this adapter does not do;
    the post goes out as text.
    """

    platform = Platform.X

    def _is_error(self, reply: Reply) -> bool:
        # A 200 may carry only {"errors": [...]} (e.g. the post was deleted): that is a failure too.
        body = reply.body
        partial = isinstance(body, dict) and "data" not in body and isinstance(body.get("errors"), list)
        return not 200 <= reply.status < 300 or partial

    async def publish(self, creds: AccountCredentials, request: PublishRequest) -> PublishedPost:
        reply = await self._call("publish", "POST", "/2/tweets", creds.access_token, json={"text": request.content})
        data = reply.body.get("data") if isinstance(reply.body, dict) else None
        post_id = data.get("id") if isinstance(data, dict) else None
        if not isinstance(post_id, str) or not post_id:
            raise self._unexpected(reply, "data.id")
        return PublishedPost(platform_post_id=post_id, url=f"https://x.com/i/web/status/{post_id}")

    async def find_post(
        self, creds: AccountCredentials, request: PublishRequest, since: datetime
    ) -> PublishedPost | None:
        start = (since - CLOCK_SKEW).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        reply = await self._call(
            "find",
            "GET",
            f"/2/users/{creds.account_id}/tweets",
            creds.access_token,
            params={"max_results": 100, "start_time": start, "tweet.fields": "created_at,text"},
        )
        rows = reply.body.get("data") if isinstance(reply.body, dict) else None
        for row in rows if isinstance(rows, list) else []:  # no "data" key when there are no posts
            if not isinstance(row, dict) or not isinstance(row.get("id"), str):
                continue
            created = parse_time(row.get("created_at"))
            if within(created, since) and post_matches(row.get("text"), request):
                return PublishedPost(
                    platform_post_id=row["id"], url=f"https://x.com/i/web/status/{row['id']}", created_at=created
                )
        return None

    async def fetch_metrics(self, creds: AccountCredentials, platform_post_id: str) -> PostMetrics:
        reply = await self._call(
            "metrics",
            "GET",
            f"/2/tweets/{platform_post_id}",
            creds.access_token,
            params={"tweet.fields": "public_metrics"},
        )
        data = reply.body.get("data") if isinstance(reply.body, dict) else None
        pm = data.get("public_metrics") if isinstance(data, dict) else None
        if not isinstance(pm, dict):
            raise local_error(
                self.platform,
                "metrics",
                ErrorType.API_ERROR,
                "X answered without data.public_metrics (missing-public-metrics).",
                "missing-public-metrics",
                retry="backoff",
                body=reply.body,
            )
        likes, replies = as_int(pm.get("like_count")), as_int(pm.get("reply_count"))
        retweets, quotes = as_int(pm.get("retweet_count")), as_int(pm.get("quote_count"))
        return PostMetrics(
            impressions=as_int(pm.get("impression_count")),
            reach=0,  # X reports no unique reach for a post
            engagement=likes + replies + retweets + quotes + as_int(pm.get("bookmark_count")),
            clicks=0,  # link clicks are only in non_public_metrics (owner, recent posts)
            shares=retweets + quotes,
            comments=replies,
            likes=likes,
        )
