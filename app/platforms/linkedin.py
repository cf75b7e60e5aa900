"""LinkedIn Posts API (/rest/posts) with share statistics or socialActions for metrics."""

from __future__ import annotations

from datetime import datetime
from urllib.parse import quote

import httpx

from app.platforms._http import HttpAdapter, as_int, node, parse_time, within
from app.platforms.base import (
    AccountCredentials,
    Platform,
    PostMetrics,
    PublishedPost,
    PublishRequest,
    post_matches,
)

DEFAULT_LINKEDIN_VERSION = "202510"  # YYYYMM; LinkedIn sunsets versions after about a year


def author_urn(account_id: str) -> str:
    """An author URN: account ids that are not URNs are taken as organization ids."""
    return account_id if account_id.startswith("urn:li:") else f"urn:li:organization:{account_id}"


def _enc(urn: str) -> str:
    # Rest.li 2.0 wants URNs percent-encoded inside query values and paths.
    return quote(urn, safe="")


class LinkedInAdapter(HttpAdapter):
    """creds.account_id is an organization id or a person/organization URN.

    Images are not attached (LinkedIn needs the Images API upload first); posts go out as text.
    """

    platform = Platform.LINKEDIN

    def __init__(self, client: httpx.AsyncClient, base_url: str, *, version: str = DEFAULT_LINKEDIN_VERSION) -> None:
        super().__init__(client, base_url)
        self._version = version

    def _headers(self, access_token: str) -> dict[str, str]:
        return {
            **super()._headers(access_token),
            "LinkedIn-Version": self._version,
            "X-Restli-Protocol-Version": "2.0.0",
        }

    async def publish(self, creds: AccountCredentials, request: PublishRequest) -> PublishedPost:
        body = {
            "author": author_urn(creds.account_id),
            "commentary": request.content,
            "visibility": "PUBLIC",
            "distribution": {
                "feedDistribution": "MAIN_FEED",
                "targetEntities": [],
                "thirdPartyDistributionChannels": [],
            },
            "lifecycleState": "PUBLISHED",
            "isReshareDisabledByAuthor": False,
        }
        reply = await self._call("publish", "POST", "/rest/posts", creds.access_token, json=body)
        # 201 with an empty body: the new post's URN is only in the x-restli-id header.
        urn = reply.response.headers.get("x-restli-id")
        if not urn:
            raise self._unexpected(reply, "an x-restli-id header")
        return PublishedPost(platform_post_id=urn, url=f"https://www.linkedin.com/feed/update/{urn}/")

    async def find_post(
        self, creds: AccountCredentials, request: PublishRequest, since: datetime
    ) -> PublishedPost | None:
        query = f"author={_enc(author_urn(creds.account_id))}&q=author&count=50&sortBy=LAST_MODIFIED"
        reply = await self._call(
            "find",
            "GET",
            f"/rest/posts?{query}",
            creds.access_token,
            headers={"X-RestLi-Method": "FINDER"},
        )
        rows = reply.body.get("elements") if isinstance(reply.body, dict) else None
        for row in rows if isinstance(rows, list) else []:
            if not isinstance(row, dict) or not isinstance(row.get("id"), str):
                continue
            created = parse_time(row.get("publishedAt") or row.get("createdAt"))
            if within(created, since) and post_matches(row.get("commentary"), request):
                urn = row["id"]
                return PublishedPost(
                    platform_post_id=urn, url=f"https://www.linkedin.com/feed/update/{urn}/", created_at=created
                )
        return None

    async def fetch_metrics(self, creds: AccountCredentials, platform_post_id: str) -> PostMetrics:
        author = author_urn(creds.account_id)
        if author.startswith("urn:li:organization:"):
            return await self._organization_metrics(creds, author, platform_post_id)
        return await self._social_actions(creds, platform_post_id)

    async def _organization_metrics(self, creds: AccountCredentials, org: str, urn: str) -> PostMetrics:
        key = "ugcPosts" if urn.startswith("urn:li:ugcPost:") else "shares"
        query = f"q=organizationalEntity&organizationalEntity={_enc(org)}&{key}=List({_enc(urn)})"
        reply = await self._call(
            "metrics", "GET", f"/rest/organizationalEntityShareStatistics?{query}", creds.access_token
        )
        rows = reply.body.get("elements") if isinstance(reply.body, dict) else None
        first = rows[0] if isinstance(rows, list) and rows else None
        stats = node(first, "totalShareStatistics")
        likes, comments = as_int(stats.get("likeCount")), as_int(stats.get("commentCount"))
        shares, clicks = as_int(stats.get("shareCount")), as_int(stats.get("clickCount"))
        return PostMetrics(
            impressions=as_int(stats.get("impressionCount")),
            reach=as_int(stats.get("uniqueImpressionsCount")),
            # LinkedIn's own "engagement" is a rate; the count of interactions is comparable over time.
            engagement=likes + comments + shares + clicks,
            clicks=clicks,
            shares=shares,
            comments=comments,
            likes=likes,
        )

    async def _social_actions(self, creds: AccountCredentials, urn: str) -> PostMetrics:
        # Member posts have no share statistics here: likes and comments only.
        reply = await self._call("metrics", "GET", f"/rest/socialActions/{_enc(urn)}", creds.access_token)
        likes_summary = node(reply.body, "likesSummary")
        comments_summary = node(reply.body, "commentsSummary")
        likes = as_int(likes_summary.get("totalLikes"))
        comments = as_int(
            comments_summary.get("aggregatedTotalComments") or comments_summary.get("totalFirstLevelComments")
        )
        return PostMetrics(engagement=likes + comments, comments=comments, likes=likes)
