"""A local fake of the five social platforms' APIs, for adapter and end-to-end tests.

One Starlette app on one port serves the real paths and answer shapes of:

- Graph API (Facebook Pages and Instagram), under /v21.0 (any /vNN.N prefix):
  POST /{page}/feed, /{page}/photos; GET /{page}/posts (and /feed); GET /{post}/insights;
  GET /{post}?fields=shares,comments...; POST /{ig-user}/media, /{ig-user}/media_publish;
  GET /{container}?fields=status_code; GET /{ig-user}/media; GET /{media}/insights; GET /{media}.
- X API v2: POST /2/tweets; GET /2/users/{id}/tweets; GET /2/tweets/{id}.
- LinkedIn: POST /rest/posts (201, x-restli-id); GET /rest/posts?q=author;
  GET /rest/organizationalEntityShareStatistics; GET /rest/socialActions/{urn}.
- TikTok: POST /v2/post/publish/content/init/, /v2/post/publish/video/init/,
  /v2/post/publish/status/fetch/, /v2/video/list/, /v2/video/query/.

Usage::

    fake = FakePlatforms()
    with fake:                                   # or fake.start() ... fake.stop()
        adapter = get_adapter(Platform.X, client, fake.base_urls)
        fake.script(Platform.X, "publish", DropAfterAccept())
        fake.fail_times(Platform.FACEBOOK, "publish", 2, Respond(500, {}, {...}))
        fake.script(Platform.LINKEDIN, "publish", Respond.from_case(case))
        fake.set_metrics(post_id, impressions=120, likes=7)
        assert fake.publish_count(Platform.X) == 1

Scripted behaviours queue per (platform, operation) and are used one per matching request, before
the normal answer; an empty queue means normal service. Operations: "publish" (the request that
creates the post: FB feed/photos, IG media_publish, X tweets, LinkedIn posts, TikTok init),
"container" (IG media container), "status" (IG container status, TikTok status fetch), "find"
(listing the account's posts, IG permalink lookup) and "metrics" (insights, post fields,
statistics, TikTok video query). Behaviours: Respond (any status/headers/body, e.g. a cases.jsonl
case), Hang (sleep past the client's read timeout, optionally after storing the post),
DropAfterAccept (store the post, then close the connection without an answer) and Drop.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import socket
import threading
import time
from collections import Counter, defaultdict, deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from app.platforms._http import node as json_object
from app.platforms.base import Platform

GRAPH_VERSION = "v21.0"
FB_METRICS = {"post_media_view", "post_total_media_view_unique", "post_reactions_by_type_total", "post_clicks"}
IG_METRICS = {"views", "reach", "saved", "likes", "comments", "shares", "total_interactions", "follows"}


# --------------------------------------------------------------------------------------------------
# scripted behaviours


@dataclass(frozen=True)
class Respond:
    """Answer with exactly this status, headers and body (dict/list as JSON, str as text/html)."""

    status: int
    headers: Mapping[str, str] = field(default_factory=dict)
    body: Any = None

    @classmethod
    def from_case(cls, case: Mapping[str, Any]) -> Respond:
        """A cases.jsonl line (http_status, headers, body) as a response."""
        if case.get("http_status") is None:
            raise ValueError(f"case {case.get('id')} has no HTTP response (transport_error case)")
        return cls(int(case["http_status"]), dict(case.get("headers") or {}), case.get("body"))


@dataclass(frozen=True)
class Hang:
    """Sleep `seconds` before answering (set it above the client's read timeout).

    accept=True stores the post first, like a platform that published but answered too late.
    """

    seconds: float = 2.0
    accept: bool = False


@dataclass(frozen=True)
class DropAfterAccept:
    """Store the post, then close the connection without a complete answer."""


@dataclass(frozen=True)
class Drop:
    """Close the connection without storing anything."""


Behaviour = Respond | Hang | DropAfterAccept | Drop


# --------------------------------------------------------------------------------------------------
# state


@dataclass
class FakeMetrics:
    impressions: int = 0
    reach: int = 0
    likes: int = 0
    comments: int = 0
    shares: int = 0
    clicks: int = 0
    saves: int = 0
    quotes: int = 0
    bookmarks: int = 0
    reactions: dict[str, int] | None = None  # Facebook breakdown; defaults to {"like": likes}


@dataclass
class FakePost:
    platform: Platform
    post_id: str
    account_id: str
    text: str
    image_url: str | None
    created_at: datetime
    metrics: FakeMetrics = field(default_factory=FakeMetrics)
    photo_id: str | None = None  # Facebook /photos
    publish_id: str | None = None  # TikTok


@dataclass(frozen=True)
class RecordedRequest:
    platform: Platform
    operation: str
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    json: Any


class _DroppedConnection(Exception):
    """Raised after the response started so uvicorn closes the connection mid-answer."""


class _DropResponse(Response):
    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        # Headers promise a body that never comes; uvicorn then closes the transport, and the client
        # sees the connection drop (httpx.RemoteProtocolError) instead of any answer.
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"1000")]})
        raise _DroppedConnection("fake platform dropped the connection on purpose")


async def _until_disconnected(request: Request) -> None:
    while (await request.receive())["type"] != "http.disconnect":
        pass


def _iso_meta(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S+0000")


def _iso_x(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _meta_error(status: int, code: int, message: str, subcode: int | None = None) -> JSONResponse:
    err: dict[str, Any] = {"message": message, "type": "OAuthException", "code": code, "fbtrace_id": "FAKE"}
    if subcode is not None:
        err["error_subcode"] = subcode
    return JSONResponse({"error": err}, status_code=status)


def _tiktok(data: Any, status: int = 200, code: str = "ok", message: str = "") -> JSONResponse:
    return JSONResponse(
        {"data": data, "error": {"code": code, "message": message, "log_id": "FAKE_LOG_ID"}}, status_code=status
    )


class FakePlatforms:
    """The fake platforms: state, scripting, and a background uvicorn server."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._ids = itertools.count(1001)
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self.url: str = ""
        self.reset()
        self.app = Starlette(routes=self._routes())

    # ---- test API ---------------------------------------------------------------------------

    def reset(self) -> None:
        """Forget posts, scripts, counters and recorded requests."""
        with self._lock:
            self._queues: dict[tuple[Platform, str], deque[Behaviour]] = defaultdict(deque)
            self._posts: dict[str, FakePost] = {}
            self._containers: dict[str, dict[str, Any]] = {}
            self.publish_attempts: Counter[Platform] = Counter()
            self.requests: list[RecordedRequest] = []

    def script(self, platform: Platform | str, operation: str, *behaviours: Behaviour) -> None:
        """Queue behaviours for the next matching requests (one each), before normal service."""
        with self._lock:
            self._queues[(Platform(platform), operation)].extend(behaviours)

    def fail_times(self, platform: Platform | str, operation: str, times: int, behaviour: Behaviour) -> None:
        """Answer the next `times` matching requests with `behaviour`, then serve normally."""
        self.script(platform, operation, *([behaviour] * times))

    def pending(self, platform: Platform | str, operation: str) -> int:
        """Scripted behaviours not used yet."""
        with self._lock:
            return len(self._queues[(Platform(platform), operation)])

    def set_metrics(self, post_id: str, **values: Any) -> None:
        """Set a post's cumulative metrics (FakeMetrics fields: impressions, reach, likes, ...)."""
        with self._lock:
            post = self._posts[post_id]
            for name, value in values.items():
                if not hasattr(post.metrics, name):
                    raise AttributeError(f"FakeMetrics has no field {name!r}")
                setattr(post.metrics, name, value)

    def posts(self, platform: Platform | str | None = None) -> list[FakePost]:
        """Stored posts, oldest first."""
        with self._lock:
            return [p for p in self._posts.values() if platform is None or p.platform == Platform(platform)]

    def publish_count(self, platform: Platform | str) -> int:
        """Posts that exist on `platform` (accepted publishes, dropped answers included)."""
        return len(self.posts(platform))

    def add_post(
        self,
        platform: Platform | str,
        account_id: str,
        text: str,
        *,
        image_url: str | None = None,
        created_at: datetime | None = None,
    ) -> FakePost:
        """Put a post on the platform directly (e.g. one published by someone else)."""
        return self._store(Platform(platform), account_id, text, image_url, created_at)

    @property
    def base_urls(self) -> dict[Platform, str]:
        """Adapter base URLs pointing at this server (pass to get_adapter)."""
        return {
            Platform.FACEBOOK: f"{self.url}/{GRAPH_VERSION}",
            Platform.INSTAGRAM: f"{self.url}/{GRAPH_VERSION}",
            Platform.X: self.url,
            Platform.LINKEDIN: self.url,
            Platform.TIKTOK: self.url,
        }

    # ---- server lifecycle -------------------------------------------------------------------

    def start(self) -> str:
        """Serve on 127.0.0.1 and a free port in a background thread; returns the base URL."""
        if self._server is not None:
            return self.url
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        config = uvicorn.Config(
            self.app,
            lifespan="off",
            log_level="critical",  # the deliberate drops would otherwise log tracebacks
            access_log=False,
            timeout_graceful_shutdown=1,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [sock]}, name="fake-platforms", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("fake platform server did not start")
            time.sleep(0.01)
        self.url = f"http://127.0.0.1:{port}"
        return self.url

    def stop(self) -> None:
        if self._server is None:
            return
        self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._server = None
        self._thread = None

    def __enter__(self) -> FakePlatforms:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ---- internals --------------------------------------------------------------------------

    def _next_id(self) -> str:
        with self._lock:
            return str(next(self._ids))

    def _store(
        self, platform: Platform, account_id: str, text: str, image_url: str | None, created_at: datetime | None = None
    ) -> FakePost:
        n = self._next_id()
        post_id = {
            Platform.FACEBOOK: f"{account_id}_{n}",
            Platform.INSTAGRAM: f"1790{n}",
            Platform.X: f"18{n}",
            Platform.LINKEDIN: f"urn:li:share:7{n}",
            Platform.TIKTOK: f"73{n}",
        }[platform]
        post = FakePost(platform, post_id, account_id, text, image_url, created_at or datetime.now(UTC))
        with self._lock:
            self._posts[post_id] = post
        return post

    def _pop(self, platform: Platform, operation: str) -> Behaviour | None:
        with self._lock:
            queue = self._queues[(platform, operation)]
            return queue.popleft() if queue else None

    async def _record(self, request: Request, platform: Platform, operation: str) -> Any:
        try:
            payload = await request.json() if await request.body() else None
        except ValueError:
            payload = None
        with self._lock:
            self.requests.append(
                RecordedRequest(
                    platform,
                    operation,
                    request.method,
                    request.url.path,
                    dict(request.query_params),
                    dict(request.headers),
                    payload,
                )
            )
            if operation == "publish":
                self.publish_attempts[platform] += 1
        return payload

    async def _serve(self, request: Request, platform: Platform, operation: str, accept: Any = None) -> Response | None:
        """Apply the next scripted behaviour, if any. `accept()` stores the post (for publish)."""
        behaviour = self._pop(platform, operation)
        if behaviour is None:
            return None
        if isinstance(behaviour, Respond):
            if isinstance(behaviour.body, dict | list):
                return JSONResponse(behaviour.body, status_code=behaviour.status, headers=dict(behaviour.headers))
            headers = {"content-type": "text/html", **dict(behaviour.headers)}
            return Response(behaviour.body or "", status_code=behaviour.status, headers=headers)
        if isinstance(behaviour, Hang):
            if behaviour.accept and accept is not None:
                accept()
            # Wait out the sleep, or stop early once the client has given up and disconnected.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(_until_disconnected(request), behaviour.seconds)
            return JSONResponse({"late": True}, status_code=504)
        if isinstance(behaviour, DropAfterAccept) and accept is not None:
            accept()
        return _DropResponse()

    @staticmethod
    def _accepted(accept: Callable[[], FakePost | None] | None) -> FakePost:
        post = accept() if accept is not None else None
        assert post is not None, "accept() stores the post on this route"
        return post

    @staticmethod
    def _bearer(request: Request) -> str | None:
        auth = request.headers.get("authorization", "")
        return auth[7:] if auth.startswith("Bearer ") and len(auth) > 7 else None

    # ---- routes -----------------------------------------------------------------------------

    def _routes(self) -> list[Route]:
        return [
            # TikTok before the Graph catch-alls: /v2/... would otherwise look like a Graph path.
            Route("/v2/post/publish/content/init/", self._tt_init, methods=["POST"]),
            Route("/v2/post/publish/video/init/", self._tt_init, methods=["POST"]),
            Route("/v2/post/publish/status/fetch/", self._tt_status, methods=["POST"]),
            Route("/v2/video/list/", self._tt_list, methods=["POST"]),
            Route("/v2/video/query/", self._tt_query, methods=["POST"]),
            Route("/2/tweets", self._x_create, methods=["POST"]),
            Route("/2/tweets/{tweet_id}", self._x_get, methods=["GET"]),
            Route("/2/users/{user_id}/tweets", self._x_timeline, methods=["GET"]),
            Route("/rest/posts", self._li_posts, methods=["GET", "POST"]),
            Route("/rest/organizationalEntityShareStatistics", self._li_stats, methods=["GET"]),
            Route("/rest/socialActions/{urn:path}", self._li_social, methods=["GET"]),
            Route("/{version}/{node}/{edge}", self._graph_edge, methods=["GET", "POST"]),
            Route("/{version}/{node}", self._graph_node, methods=["GET"]),
        ]

    # ---- Graph API --------------------------------------------------------------------------

    def _graph_platform(self, node: str, edge: str | None) -> tuple[Platform, str]:
        if edge in ("feed", "photos", "posts"):
            return Platform.FACEBOOK, "find"
        if edge in ("media", "media_publish"):
            return Platform.INSTAGRAM, "find"
        with self._lock:
            post = self._posts.get(node)
        if node in self._containers:
            return Platform.INSTAGRAM, "status"
        return (post.platform if post else Platform.FACEBOOK), "metrics"

    async def _graph_edge(self, request: Request) -> Response:
        node, edge = request.path_params["node"], request.path_params["edge"]
        platform, operation = self._graph_platform(node, edge)
        if request.method == "POST":
            operation = {"feed": "publish", "photos": "publish", "media": "container"}.get(edge, "publish")
        payload = await self._record(request, platform, operation)
        body = payload if isinstance(payload, dict) else {}
        accept: Callable[[], FakePost | None] | None = None
        if request.method == "POST" and edge in ("feed", "photos"):
            text = str(body.get("message") or body.get("caption") or "")

            def accept() -> FakePost | None:
                post = self._store(Platform.FACEBOOK, node, text, body.get("url"))
                if edge == "photos":
                    post.photo_id = self._next_id()
                return post
        elif request.method == "POST" and edge == "media_publish":
            container = self._containers.get(str(body.get("creation_id")))

            def accept() -> FakePost | None:  # noqa: F811 - one accept per branch
                if container is None or container.get("published"):
                    return None
                container["published"] = True
                return self._store(Platform.INSTAGRAM, node, container["caption"], container["image_url"])

        if (scripted := await self._serve(request, platform, operation, accept)) is not None:
            return scripted
        if self._bearer(request) is None:
            return _meta_error(400, 2500, "An active access token must be used to query information.")
        if request.method == "POST":
            if edge == "feed":
                if not body.get("message"):
                    return _meta_error(400, 100, "(#100) Missing message or link")
                post = self._accepted(accept)
                return JSONResponse({"id": post.post_id})
            if edge == "photos":
                if not body.get("url"):
                    return _meta_error(400, 324, "(#324) Requires upload file")
                post = self._accepted(accept)
                return JSONResponse({"id": post.photo_id, "post_id": post.post_id})
            if edge == "media":
                if not body.get("image_url"):
                    return _meta_error(400, 100, "(#100) The parameter image_url is required")
                container_id = f"c{self._next_id()}"
                self._containers[container_id] = {
                    "caption": str(body.get("caption") or ""),
                    "image_url": body["image_url"],
                    "published": False,
                }
                return JSONResponse({"id": container_id})
            if edge == "media_publish":
                published = accept() if accept is not None else None
                if published is None:
                    return _meta_error(400, 9007, "Media ID is not available", 2207027)
                return JSONResponse({"id": published.post_id})
            return _meta_error(400, 100, f"(#100) Unsupported post request: {edge}")
        if edge in ("posts", "feed"):
            return self._graph_list(request, Platform.FACEBOOK, node)
        if edge == "media":
            return self._graph_list(request, Platform.INSTAGRAM, node)
        if edge == "insights":
            return self._graph_insights(request, node)
        return _meta_error(400, 100, f"(#100) Tried accessing nonexisting field ({edge})")

    def _graph_list(self, request: Request, platform: Platform, account: str) -> Response:
        since = int(request.query_params.get("since", "0") or 0)
        limit = int(request.query_params.get("limit", "25") or 25)
        posts = [
            p for p in reversed(self.posts(platform)) if p.account_id == account and p.created_at.timestamp() >= since
        ][:limit]
        if platform is Platform.FACEBOOK:
            rows = [
                {
                    "id": p.post_id,
                    "message": p.text,
                    "created_time": _iso_meta(p.created_at),
                    "permalink_url": f"https://www.facebook.com/{p.post_id}",
                }
                for p in posts
            ]
        else:
            rows = [
                {
                    "id": p.post_id,
                    "caption": p.text,
                    "timestamp": _iso_meta(p.created_at),
                    "permalink": f"https://www.instagram.com/p/FAKE{p.post_id}/",
                }
                for p in posts
            ]
        return JSONResponse({"data": rows, "paging": {"cursors": {"before": "B", "after": "A"}}})

    def _graph_insights(self, request: Request, node: str) -> Response:
        with self._lock:
            post = self._posts.get(node)
        if post is None:
            return _meta_error(400, 100, "(#100) Object does not exist or missing permissions", 33)
        names = [m for m in request.query_params.get("metric", "").split(",") if m]
        allowed = FB_METRICS if post.platform is Platform.FACEBOOK else IG_METRICS
        bad = [m for m in names if m not in allowed]
        if not names or bad:
            return _meta_error(400, 100, f"(#100) The value must be a valid insights metric: {','.join(bad)}")
        m = post.metrics
        if post.platform is Platform.FACEBOOK:
            values: dict[str, Any] = {
                "post_media_view": m.impressions,
                "post_total_media_view_unique": m.reach,
                "post_reactions_by_type_total": m.reactions if m.reactions is not None else {"like": m.likes},
                "post_clicks": m.clicks,
            }
        else:
            values = {
                "views": m.impressions,
                "reach": m.reach,
                "saved": m.saves,
                "likes": m.likes,
                "comments": m.comments,
                "shares": m.shares,
                "total_interactions": 0,
                "follows": 0,
            }
        rows: list[dict[str, Any]] = []
        for name in names:
            if post.platform is Platform.FACEBOOK and name == "post_media_view":
                # Like the real API: a stale `day` row beside the `lifetime` one.
                rows.append(
                    {"name": name, "period": "day", "values": [{"value": 0}], "id": f"{node}/insights/{name}/day"}
                )
            rows.append(
                {
                    "name": name,
                    "period": "lifetime",
                    "values": [{"value": values[name]}],
                    "title": name,
                    "id": f"{node}/insights/{name}/lifetime",
                }
            )
        return JSONResponse({"data": rows, "paging": {"previous": "P", "next": "N"}})

    async def _graph_node(self, request: Request) -> Response:
        node = request.path_params["node"]
        platform, operation = self._graph_platform(node, None)
        if platform is Platform.INSTAGRAM and operation == "metrics":
            operation = "find"  # the permalink lookup after media_publish
        await self._record(request, platform, operation)
        if (scripted := await self._serve(request, platform, operation)) is not None:
            return scripted
        if self._bearer(request) is None:
            return _meta_error(400, 2500, "An active access token must be used to query information.")
        if node in self._containers:
            status = "PUBLISHED" if self._containers[node]["published"] else "FINISHED"
            return JSONResponse({"status_code": status, "status": status, "id": node})
        with self._lock:
            post = self._posts.get(node)
        if post is None:
            return _meta_error(400, 100, "(#100) Object does not exist or missing permissions", 33)
        if post.platform is Platform.INSTAGRAM:
            return JSONResponse(
                {
                    "id": post.post_id,
                    "permalink": f"https://www.instagram.com/p/FAKE{post.post_id}/",
                    "timestamp": _iso_meta(post.created_at),
                }
            )
        out: dict[str, Any] = {"id": post.post_id}
        if post.metrics.shares:  # the real API leaves `shares` out when nobody shared
            out["shares"] = {"count": post.metrics.shares}
        out["comments"] = {
            "data": [],
            "summary": {"order": "ranked", "total_count": post.metrics.comments, "can_comment": True},
        }
        return JSONResponse(out)

    # ---- X ----------------------------------------------------------------------------------

    @staticmethod
    def _x_unauthorized() -> JSONResponse:
        return JSONResponse(
            {"title": "Unauthorized", "type": "about:blank", "status": 401, "detail": "Unauthorized"}, status_code=401
        )

    async def _x_create(self, request: Request) -> Response:
        payload = await self._record(request, Platform.X, "publish")
        text = str((payload or {}).get("text") or "")
        # The fake knows one X account per token: the test's creds.account_id is not sent on create.
        account = self._bearer(request) or ""

        def accept() -> FakePost:
            return self._store(Platform.X, account, text, None)

        if (scripted := await self._serve(request, Platform.X, "publish", accept)) is not None:
            return scripted
        if not account:
            return self._x_unauthorized()
        if not text:
            return JSONResponse(
                {
                    "errors": [{"message": "text is required"}],
                    "title": "Invalid Request",
                    "detail": "One or more parameters to your request was invalid.",
                    "type": "https://api.twitter.com/2/problems/invalid-request",
                },
                status_code=400,
            )
        if any(p.text == text and p.account_id == account for p in self.posts(Platform.X)):
            return JSONResponse(
                {
                    "detail": "You are not allowed to create a Tweet with duplicate content.",
                    "type": "about:blank",
                    "title": "Forbidden",
                    "status": 403,
                },
                status_code=403,
            )
        post = accept()
        return JSONResponse(
            {"data": {"id": post.post_id, "text": text, "edit_history_tweet_ids": [post.post_id]}}, status_code=201
        )

    async def _x_timeline(self, request: Request) -> Response:
        await self._record(request, Platform.X, "find")
        if (scripted := await self._serve(request, Platform.X, "find")) is not None:
            return scripted
        token = self._bearer(request)
        if token is None:
            return self._x_unauthorized()
        start = request.query_params.get("start_time")
        since = datetime.fromisoformat(start.replace("Z", "+00:00")) if start else None
        limit = int(request.query_params.get("max_results", "10"))
        # Posts are keyed by token on create (see _x_create); the timeline owner is the same token.
        posts = [
            p
            for p in reversed(self.posts(Platform.X))
            if p.account_id == token and (since is None or p.created_at >= since)
        ][:limit]
        if not posts:
            return JSONResponse({"meta": {"result_count": 0}})
        rows = [
            {"id": p.post_id, "text": p.text, "created_at": _iso_x(p.created_at), "edit_history_tweet_ids": [p.post_id]}
            for p in posts
        ]
        return JSONResponse(
            {"data": rows, "meta": {"result_count": len(rows), "newest_id": rows[0]["id"], "oldest_id": rows[-1]["id"]}}
        )

    async def _x_get(self, request: Request) -> Response:
        tweet_id = request.path_params["tweet_id"]
        await self._record(request, Platform.X, "metrics")
        if (scripted := await self._serve(request, Platform.X, "metrics")) is not None:
            return scripted
        if self._bearer(request) is None:
            return self._x_unauthorized()
        with self._lock:
            post = self._posts.get(tweet_id)
        if post is None or post.platform is not Platform.X:
            return JSONResponse(
                {
                    "errors": [
                        {
                            "value": tweet_id,
                            "detail": f"Could not find tweet with id: [{tweet_id}].",
                            "title": "Not Found Error",
                            "resource_type": "tweet",
                            "parameter": "id",
                            "resource_id": tweet_id,
                            "type": "https://api.twitter.com/2/problems/resource-not-found",
                        }
                    ]
                }
            )
        m = post.metrics
        data: dict[str, Any] = {"id": post.post_id, "text": post.text, "edit_history_tweet_ids": [post.post_id]}
        if "public_metrics" in request.query_params.get("tweet.fields", ""):
            data["public_metrics"] = {
                "retweet_count": m.shares,
                "reply_count": m.comments,
                "like_count": m.likes,
                "quote_count": m.quotes,
                "bookmark_count": m.bookmarks,
                "impression_count": m.impressions,
            }
        return JSONResponse({"data": data})

    # ---- LinkedIn ---------------------------------------------------------------------------

    def _li_check(self, request: Request) -> Response | None:
        if self._bearer(request) is None:
            return JSONResponse(
                {
                    "status": 401,
                    "serviceErrorCode": 65600,
                    "code": "INVALID_ACCESS_TOKEN",
                    "message": "Invalid access token",
                },
                status_code=401,
            )
        if not request.headers.get("linkedin-version"):
            return JSONResponse(
                {
                    "status": 426,
                    "code": "VERSION_MISSING",
                    "message": "A version must be present. Please specify a version by adding the "
                    "LinkedIn-Version header.",
                },
                status_code=426,
            )
        return None

    async def _li_posts(self, request: Request) -> Response:
        operation = "publish" if request.method == "POST" else "find"
        payload = await self._record(request, Platform.LINKEDIN, operation)
        body = payload if isinstance(payload, dict) else {}

        def accept() -> FakePost:
            return self._store(Platform.LINKEDIN, str(body.get("author")), str(body.get("commentary") or ""), None)

        scripted = await self._serve(request, Platform.LINKEDIN, operation, accept if operation == "publish" else None)
        if scripted is not None:
            return scripted
        if (problem := self._li_check(request)) is not None:
            return problem
        if request.method == "POST":
            missing = [
                k for k in ("author", "commentary", "visibility", "distribution", "lifecycleState") if k not in body
            ]
            if missing:
                return JSONResponse(
                    {"status": 422, "message": f"Missing fields: {missing}", "code": "UNPROCESSABLE_ENTITY"},
                    status_code=422,
                )
            post = accept()
            return Response(status_code=201, headers={"x-restli-id": post.post_id, "x-linkedin-id": post.post_id})
        if request.query_params.get("q") != "author":
            return JSONResponse(
                {"status": 400, "message": "Unsupported finder", "code": "ILLEGAL_ARGUMENT"}, status_code=400
            )
        author = request.query_params.get("author", "")
        count = int(request.query_params.get("count", "10"))
        posts = [p for p in reversed(self.posts(Platform.LINKEDIN)) if p.account_id == author][:count]
        rows = [
            {
                "id": p.post_id,
                "author": p.account_id,
                "commentary": p.text,
                "visibility": "PUBLIC",
                "lifecycleState": "PUBLISHED",
                "createdAt": int(p.created_at.timestamp() * 1000),
                "publishedAt": int(p.created_at.timestamp() * 1000),
                "lastModifiedAt": int(p.created_at.timestamp() * 1000),
                "distribution": {
                    "feedDistribution": "MAIN_FEED",
                    "targetEntities": [],
                    "thirdPartyDistributionChannels": [],
                },
            }
            for p in posts
        ]
        return JSONResponse({"paging": {"start": 0, "count": count, "links": [], "total": len(rows)}, "elements": rows})

    async def _li_stats(self, request: Request) -> Response:
        await self._record(request, Platform.LINKEDIN, "metrics")
        if (scripted := await self._serve(request, Platform.LINKEDIN, "metrics")) is not None:
            return scripted
        if (problem := self._li_check(request)) is not None:
            return problem
        org = request.query_params.get("organizationalEntity", "")
        listed = request.query_params.get("shares") or request.query_params.get("ugcPosts") or ""
        urns = [u for u in listed.removeprefix("List(").removesuffix(")").split(",") if u]
        elements = []
        for urn in urns:
            with self._lock:
                post = self._posts.get(urn)
            if post is None:
                continue
            m = post.metrics
            engagement = (m.likes + m.comments + m.shares + m.clicks) / m.impressions if m.impressions else 0.0
            elements.append(
                {
                    "share": urn,
                    "organizationalEntity": org,
                    "totalShareStatistics": {
                        "uniqueImpressionsCount": m.reach,
                        "shareCount": m.shares,
                        "engagement": engagement,
                        "clickCount": m.clicks,
                        "likeCount": m.likes,
                        "impressionCount": m.impressions,
                        "commentCount": m.comments,
                    },
                }
            )
        return JSONResponse({"paging": {"start": 0, "count": 10, "links": []}, "elements": elements})

    async def _li_social(self, request: Request) -> Response:
        urn = request.path_params["urn"]
        await self._record(request, Platform.LINKEDIN, "metrics")
        if (scripted := await self._serve(request, Platform.LINKEDIN, "metrics")) is not None:
            return scripted
        if (problem := self._li_check(request)) is not None:
            return problem
        with self._lock:
            post = self._posts.get(urn)
        if post is None:
            return JSONResponse({"status": 404, "message": f"Not found: {urn}", "code": "NOT_FOUND"}, status_code=404)
        m = post.metrics
        return JSONResponse(
            {
                "likesSummary": {"totalLikes": m.likes, "aggregatedTotalLikes": m.likes, "likedByCurrentUser": False},
                "commentsSummary": {"totalFirstLevelComments": m.comments, "aggregatedTotalComments": m.comments},
                "target": urn,
                "$URN": f"urn:li:socialActions:{urn}",
            }
        )

    # ---- TikTok -----------------------------------------------------------------------------

    def _tt_auth(self, request: Request) -> Response | None:
        if self._bearer(request) is None:
            return _tiktok({}, 401, "access_token_invalid", "The access token is invalid or not found in the request.")
        return None

    async def _tt_init(self, request: Request) -> Response:
        payload = await self._record(request, Platform.TIKTOK, "publish")
        body = payload if isinstance(payload, dict) else {}
        post_info = json_object(body, "post_info")
        source = json_object(body, "source_info")
        is_photo = request.url.path.endswith("/content/init/")
        media = (source.get("photo_images") or [None])[0] if is_photo else source.get("video_url")
        text = str(post_info.get("description") or post_info.get("title") or "")
        account = self._bearer(request) or ""
        holder: dict[str, FakePost] = {}

        def accept() -> FakePost:
            post = self._store(Platform.TIKTOK, account, text, media)
            post.publish_id = f"p_pub_url~v2.{self._next_id()}"
            holder["post"] = post
            return post

        if (scripted := await self._serve(request, Platform.TIKTOK, "publish", accept)) is not None:
            return scripted
        if (problem := self._tt_auth(request)) is not None:
            return problem
        if (
            not media
            or source.get("source") != "PULL_FROM_URL"
            or not post_info.get("privacy_level")
            or (is_photo and (body.get("media_type") != "PHOTO" or not body.get("post_mode")))
        ):
            return _tiktok({}, 400, "invalid_params", "The request parameters are invalid.")
        post = accept()
        return _tiktok({"publish_id": post.publish_id})

    async def _tt_status(self, request: Request) -> Response:
        payload = await self._record(request, Platform.TIKTOK, "status")
        if (scripted := await self._serve(request, Platform.TIKTOK, "status")) is not None:
            return scripted
        if (problem := self._tt_auth(request)) is not None:
            return problem
        publish_id = (payload or {}).get("publish_id")
        post = next((p for p in self.posts(Platform.TIKTOK) if p.publish_id == publish_id), None)
        if post is None:
            return _tiktok({}, 400, "invalid_publish_id", "The publish_id does not exist.")
        return _tiktok(
            {
                "status": "PUBLISH_COMPLETE",
                "publicaly_available_post_id": [int(post.post_id)],
                "uploaded_bytes": 0,
                "downloaded_bytes": 123456,
            }
        )

    def _tt_video(self, post: FakePost, fields: list[str]) -> dict[str, Any]:
        m = post.metrics
        full = {
            "id": post.post_id,
            "title": post.text[:90],
            "video_description": post.text,
            "create_time": int(post.created_at.timestamp()),
            "share_url": f"https://www.tiktok.com/@fake/video/{post.post_id}",
            "view_count": m.impressions,
            "like_count": m.likes,
            "comment_count": m.comments,
            "share_count": m.shares,
        }
        return {k: v for k, v in full.items() if k in fields}

    async def _tt_list(self, request: Request) -> Response:
        payload = await self._record(request, Platform.TIKTOK, "find")
        if (scripted := await self._serve(request, Platform.TIKTOK, "find")) is not None:
            return scripted
        if (problem := self._tt_auth(request)) is not None:
            return problem
        fields = request.query_params.get("fields", "").split(",")
        count = int((payload or {}).get("max_count", 10))
        token = self._bearer(request)
        posts = [p for p in reversed(self.posts(Platform.TIKTOK)) if p.account_id == token][:count]
        return _tiktok({"videos": [self._tt_video(p, fields) for p in posts], "cursor": 0, "has_more": False})

    async def _tt_query(self, request: Request) -> Response:
        payload = await self._record(request, Platform.TIKTOK, "metrics")
        if (scripted := await self._serve(request, Platform.TIKTOK, "metrics")) is not None:
            return scripted
        if (problem := self._tt_auth(request)) is not None:
            return problem
        fields = request.query_params.get("fields", "").split(",")
        ids = ((payload or {}).get("filters") or {}).get("video_ids") or []
        with self._lock:
            found = [self._posts[i] for i in map(str, ids) if i in self._posts]
        return _tiktok({"videos": [self._tt_video(p, fields) for p in found], "cursor": 0, "has_more": False})
