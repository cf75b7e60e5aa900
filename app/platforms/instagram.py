"""Instagram professional accounts via the Graph API: media container, then media_publish."""

from __future__ import annotations

import asyncio
from datetime import datetime

import httpx

from app.platforms._http import as_int, local_error, parse_time
from app.platforms._meta import GraphAdapter, insights_values
from app.platforms.base import (
    AccountCredentials,
    ErrorType,
    Platform,
    PlatformError,
    PostMetrics,
    PublishedPost,
    PublishRequest,
)

# No impressions since v22: views is the reach-like count that replaced them.
INSIGHT_METRICS = ("views", "reach", "saved", "likes", "comments", "shares")


class InstagramAdapter(GraphAdapter):
    """creds.account_id is the IG user id; creds.access_token a token with instagram_content_publish.

    Construct with (client, base_url) where base_url includes the API version
    (https://graph.facebook.com/v21.0). poll_interval/max_polls bound the wait for a container
    to become FINISHED before media_publish.
    """

    platform = Platform.INSTAGRAM

    def __init__(
        self, client: httpx.AsyncClient, base_url: str, *, poll_interval: float = 2.0, max_polls: int = 10
    ) -> None:
        super().__init__(client, base_url)
        self._poll_interval = poll_interval
        self._max_polls = max_polls

    async def publish(self, creds: AccountCredentials, request: PublishRequest) -> PublishedPost:
        if not request.image_url:
            raise local_error(
                self.platform,
                "publish",
                ErrorType.VALIDATION_ERROR,
                "Instagram posts need an image and image_url is empty (image_required).",
                "image_required",
            )
        container = await self._call(
            "publish",
            "POST",
            f"/{creds.account_id}/media",
            creds.access_token,
            json={"image_url": request.image_url, "caption": request.content},
        )
        container_id = container.body.get("id") if isinstance(container.body, dict) else None
        if not isinstance(container_id, str) or not container_id:
            raise self._unexpected(container, "a container id")
        await self._wait_until_finished(creds, container_id)
        # A new container per attempt: containers expire (2207020) and may be published only once.
        published = await self._call(
            "publish",
            "POST",
            f"/{creds.account_id}/media_publish",
            creds.access_token,
            json={"creation_id": container_id},
        )
        media_id = published.body.get("id") if isinstance(published.body, dict) else None
        if not isinstance(media_id, str) or not media_id:
            raise self._unexpected(published, "a media id")
        url, created = await self._permalink(creds, media_id)
        return PublishedPost(platform_post_id=media_id, url=url, created_at=created)

    async def _wait_until_finished(self, creds: AccountCredentials, container_id: str) -> None:
        for attempt in range(self._max_polls):
            reply = await self._call(
                "publish", "GET", f"/{container_id}", creds.access_token, params={"fields": "status_code,status"}
            )
            status = reply.body.get("status_code") if isinstance(reply.body, dict) else None
            if status in ("FINISHED", None):
                # None: the API did not say; media_publish answers 2207027 if it is not ready.
                return
            if status in ("ERROR", "EXPIRED"):
                raise local_error(
                    self.platform,
                    "publish",
                    ErrorType.VALIDATION_ERROR if status == "ERROR" else ErrorType.API_ERROR,
                    f"Instagram container status_code {status}: the media could not be processed.",
                    f"container-{status.lower()}",
                    retry="never" if status == "ERROR" else "backoff",
                    body=reply.body,
                )
            if attempt + 1 < self._max_polls:
                await asyncio.sleep(self._poll_interval)
        raise local_error(
            self.platform,
            "publish",
            ErrorType.API_ERROR,
            "Instagram container status_code IN_PROGRESS after polling; nothing was published.",
            "container-in-progress",
            retry="backoff",
        )

    async def _permalink(self, creds: AccountCredentials, media_id: str) -> tuple[str | None, datetime | None]:
        # Best effort: the post exists already, so a failure here must not fail the publish.
        try:
            reply = await self._call(
                "find", "GET", f"/{media_id}", creds.access_token, params={"fields": "id,permalink,timestamp"}
            )
        except PlatformError:
            return None, None
        body = reply.body if isinstance(reply.body, dict) else {}
        permalink = body.get("permalink")
        return (permalink if isinstance(permalink, str) else None), parse_time(body.get("timestamp"))

    async def find_post(
        self, creds: AccountCredentials, request: PublishRequest, since: datetime
    ) -> PublishedPost | None:
        return await self._find_in_edge(
            creds,
            request,
            since,
            edge="media",
            text_field="caption",
            time_field="timestamp",
            link_field="permalink",
            default_url=None,
        )

    async def fetch_metrics(self, creds: AccountCredentials, platform_post_id: str) -> PostMetrics:
        reply = await self._call(
            "metrics",
            "GET",
            f"/{platform_post_id}/insights",
            creds.access_token,
            params={"metric": ",".join(INSIGHT_METRICS)},
        )
        v = insights_values(reply.body)
        likes, comments, shares, saved = (as_int(v.get(k)) for k in ("likes", "comments", "shares", "saved"))
        return PostMetrics(
            impressions=v.get("views", 0),
            reach=v.get("reach", 0),
            engagement=likes + comments + shares + saved,
            clicks=0,  # Instagram media insights have no click metric
            shares=shares,
            comments=comments,
            likes=likes,
        )
