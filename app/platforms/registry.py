"""One shared HTTP client for all platforms, and the adapter for each platform."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx

from app.platforms.base import Platform, PlatformAdapter
from app.platforms.facebook import FacebookAdapter
from app.platforms.instagram import InstagramAdapter
from app.platforms.linkedin import LinkedInAdapter
from app.platforms.tiktok import TikTokAdapter
from app.platforms.x import XAdapter

GRAPH_API_VERSION = "v21.0"

DEFAULT_BASE_URLS: Mapping[Platform, str] = {
    Platform.FACEBOOK: f"https://graph.facebook.com/{GRAPH_API_VERSION}",
    Platform.INSTAGRAM: f"https://graph.facebook.com/{GRAPH_API_VERSION}",
    Platform.X: "https://api.x.com",
    Platform.LINKEDIN: "https://api.linkedin.com",
    Platform.TIKTOK: "https://open.tiktokapis.com",
}

_ADAPTERS: Mapping[Platform, type[Any]] = {
    Platform.FACEBOOK: FacebookAdapter,
    Platform.INSTAGRAM: InstagramAdapter,
    Platform.X: XAdapter,
    Platform.LINKEDIN: LinkedInAdapter,
    Platform.TIKTOK: TikTokAdapter,
}


def build_http_client(
    *,
    connect_timeout: float = 5.0,
    read_timeout: float = 30.0,
    write_timeout: float = 30.0,
    pool_timeout: float = 5.0,
    max_connections: int = 50,
    max_keepalive_connections: int = 10,
) -> httpx.AsyncClient:
    """The one AsyncClient the adapters share; close it with `await client.aclose()`.

    Each timeout is explicit so a failure maps to the right transport kind (connect: nothing sent;
    read: sent, answer lost). No automatic retries or redirects: a silent re-send of a publish
    could post twice, and retries are decided by classification.
    """
    return httpx.AsyncClient(
        timeout=httpx.Timeout(connect=connect_timeout, read=read_timeout, write=write_timeout, pool=pool_timeout),
        limits=httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_keepalive_connections),
        transport=httpx.AsyncHTTPTransport(retries=0),
        follow_redirects=False,
        headers={"User-Agent": "eventops/0.1"},
    )


def get_adapter(
    platform: Platform | str,
    client: httpx.AsyncClient,
    base_urls: Mapping[Platform, str] | None = None,
    **options: Any,
) -> PlatformAdapter:
    """The adapter for `platform`, using base_urls[platform] or the real API's address.

    options go to the adapter's constructor (poll_interval, max_polls, privacy_level, version).
    """
    plat = Platform(platform)
    base_url = (base_urls or {}).get(plat) or DEFAULT_BASE_URLS[plat]
    adapter: PlatformAdapter = _ADAPTERS[plat](client, base_url, **options)
    return adapter
