"""TikTok Content Posting API: publish init, status polling; Display API video list/query for the rest."""

from __future__ import annotations

import asyncio
from datetime import datetime

import httpx

from app.platforms._http import HttpAdapter, Reply, as_int, local_error, parse_time, within
from app.platforms.base import (
    AccountCredentials,
    ErrorType,
    Platform,
    PlatformError,
    PostMetrics,
    PublishedPost,
    PublishRequest,
    post_matches,
)
from app.platforms.classification import classify

VIDEO_SUFFIXES = (".mp4", ".mov", ".webm")
PHOTO_TITLE_MAX = 90  # photo posts: title up to 90 characters, the full text goes in description
VIDEO_FIELDS = "id,title,video_description,create_time,share_url"
METRIC_FIELDS = "id,view_count,like_count,comment_count,share_count"


class TikTokAdapter(HttpAdapter):
    """creds.account_id is the user's open_id (informational); creds.access_token a user token.

    TikTok publishes asynchronously: publish() initialises with PULL_FROM_URL, then polls
    /v2/post/publish/status/fetch/ up to max_polls times. privacy_level must be one the creator
    allows (unaudited apps: SELF_ONLY).
    """

    platform = Platform.TIKTOK

    def __init__(
        self,
        client: httpx.AsyncClient,
        base_url: str,
        *,
        privacy_level: str = "PUBLIC_TO_EVERYONE",
        poll_interval: float = 3.0,
        max_polls: int = 10,
    ) -> None:
        super().__init__(client, base_url)
        self._privacy_level = privacy_level
        self._poll_interval = poll_interval
        self._max_polls = max_polls

    def _is_error(self, reply: Reply) -> bool:
        # Every answer carries error.code; anything but "ok" is an error, HTTP 200 included.
        body = reply.body
        err = body.get("error") if isinstance(body, dict) else None
        code = err.get("code") if isinstance(err, dict) else None
        return not 200 <= reply.status < 300 or (code is not None and code != "ok")

    async def publish(self, creds: AccountCredentials, request: PublishRequest) -> PublishedPost:
        if not request.image_url:
            raise local_error(
                self.platform,
                "publish",
                ErrorType.VALIDATION_ERROR,
                "TikTok posts need a photo or video and image_url is empty (media_required).",
                "media_required",
            )
        if request.image_url.lower().split("?")[0].endswith(VIDEO_SUFFIXES):
            path = "/v2/post/publish/video/init/"
            body: dict[str, object] = {
                "post_info": {"title": request.content, "privacy_level": self._privacy_level},
                "source_info": {"source": "PULL_FROM_URL", "video_url": request.image_url},
            }
        else:
            path = "/v2/post/publish/content/init/"
            body = {
                "post_info": {
                    "title": request.content.splitlines()[0][:PHOTO_TITLE_MAX] if request.content else "",
                    "description": request.content,
                    "privacy_level": self._privacy_level,
                },
                "source_info": {"source": "PULL_FROM_URL", "photo_cover_index": 0, "photo_images": [request.image_url]},
                "post_mode": "DIRECT_POST",
                "media_type": "PHOTO",
            }
        reply = await self._call("publish", "POST", path, creds.access_token, json=body)
        data = reply.body.get("data") if isinstance(reply.body, dict) else None
        publish_id = data.get("publish_id") if isinstance(data, dict) else None
        if not isinstance(publish_id, str) or not publish_id:
            raise self._unexpected(reply, "data.publish_id")
        return await self._wait_for_post(creds, publish_id)

    async def _wait_for_post(self, creds: AccountCredentials, publish_id: str) -> PublishedPost:
        for attempt in range(self._max_polls):
            reply = await self._call(
                "publish", "POST", "/v2/post/publish/status/fetch/", creds.access_token, json={"publish_id": publish_id}
            )
            data = reply.body.get("data") if isinstance(reply.body, dict) else None
            data = data if isinstance(data, dict) else {}
            status = data.get("status")
            if status == "FAILED":
                # classify reads data.fail_reason (internal / *_pull_failed retry, auth_removed halts ...).
                raise PlatformError(reply.raw, classify(reply.raw))
            # TikTok's own spelling: "publicaly".
            ids = data.get("publicaly_available_post_id")
            if status == "PUBLISH_COMPLETE" and isinstance(ids, list) and ids:
                post_id = str(ids[0])
                return PublishedPost(platform_post_id=post_id, url=await self._share_url(creds, post_id))
            if attempt + 1 < self._max_polls:
                await asyncio.sleep(self._poll_interval)
        raise local_error(
            self.platform,
            "publish",
            ErrorType.API_ERROR,
            f"TikTok publish {publish_id} still processing (publish_processing); it may appear later, so look "
            "for it before publishing again.",
            "publish_processing",
            retry="backoff",
            outcome_unknown=True,
            body={"publish_id": publish_id},
        )

    async def _share_url(self, creds: AccountCredentials, post_id: str) -> str | None:
        # Best effort: the post exists; a failed lookup must not fail the publish.
        try:
            videos = await self._query(creds, [post_id], "id,share_url", "publish")
        except PlatformError:
            return None
        url = videos[0].get("share_url") if videos else None
        return url if isinstance(url, str) else None

    async def _query(
        self, creds: AccountCredentials, ids: list[str], fields: str, operation: str
    ) -> list[dict[str, object]]:
        reply = await self._call(
            operation,  # type: ignore[arg-type]
            "POST",
            "/v2/video/query/",
            creds.access_token,
            params={"fields": fields},
            json={"filters": {"video_ids": ids}},
        )
        data = reply.body.get("data") if isinstance(reply.body, dict) else None
        videos = data.get("videos") if isinstance(data, dict) else None
        return [v for v in videos if isinstance(v, dict)] if isinstance(videos, list) else []

    async def find_post(
        self, creds: AccountCredentials, request: PublishRequest, since: datetime
    ) -> PublishedPost | None:
        reply = await self._call(
            "find",
            "POST",
            "/v2/video/list/",
            creds.access_token,
            params={"fields": VIDEO_FIELDS},
            json={"max_count": 20},
        )
        data = reply.body.get("data") if isinstance(reply.body, dict) else None
        videos = data.get("videos") if isinstance(data, dict) else None
        for video in videos if isinstance(videos, list) else []:
            if not isinstance(video, dict) or video.get("id") is None:
                continue
            created = parse_time(video.get("create_time"))
            text = " ".join(str(video.get(k) or "") for k in ("title", "video_description"))
            matched = post_matches(video.get("video_description"), request) or post_matches(video.get("title"), request)
            if within(created, since) and (matched or post_matches(text, request)):
                url = video.get("share_url")
                return PublishedPost(
                    platform_post_id=str(video["id"]), url=url if isinstance(url, str) else None, created_at=created
                )
        return None

    async def fetch_metrics(self, creds: AccountCredentials, platform_post_id: str) -> PostMetrics:
        videos = await self._query(creds, [platform_post_id], METRIC_FIELDS, "metrics")
        if not videos:
            raise local_error(
                self.platform,
                "metrics",
                ErrorType.VALIDATION_ERROR,
                f"TikTok video/query returned no video {platform_post_id} (video_not_found).",
                "video_not_found",
            )
        v = videos[0]
        likes, comments, shares = (
            as_int(v.get("like_count")),
            as_int(v.get("comment_count")),
            as_int(v.get("share_count")),
        )
        return PostMetrics(
            impressions=as_int(v.get("view_count")),
            reach=0,  # the Display API has no reach
            engagement=likes + comments + shares,
            clicks=0,
            shares=shares,
            comments=comments,
            likes=likes,
        )
