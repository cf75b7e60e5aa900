"""The write-path baseline: a bare Starlette + asyncpg app doing the same inserts as logError and
recordPerformance, with no GraphQL, validation, authentication or ORM.

Run: DATABASE_URL=... uvicorn bench.baselines.starlette_app:app
"""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from decimal import Decimal

import asyncpg
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from app.database import asyncpg_dsn

POOL: dict[str, asyncpg.Pool] = {}

LOG_ERROR = """
INSERT INTO autonomous_operation_errors (operation_type, error_type, error_message, platform, notify_admin)
VALUES ($1, $2, $3, $4, $5) RETURNING id, created_at
"""
RECORD = """
INSERT INTO campaign_performance_metrics
    (campaign_id, source, period_start, period_end, views, clicks, new_signups, gross_revenue, net_revenue,
     ad_spend, total_cost)
VALUES ($1, 'manual', now(), now(), $2, $3, $4, $5, $6, $7, $7) RETURNING id, created_at
"""


@asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[None]:
    POOL["db"] = await asyncpg.create_pool(asyncpg_dsn(os.environ["DATABASE_URL"]), min_size=10, max_size=10)
    yield
    await POOL["db"].close()


async def log_error(request: Request) -> Response:
    body = json.loads(await request.body())
    row = await POOL["db"].fetchrow(
        LOG_ERROR, body["operationType"], body["errorType"], body["errorMessage"], body.get("platform"), False
    )
    return Response(
        json.dumps({"id": str(row["id"]), "createdAt": row["created_at"].isoformat()}), media_type="application/json"
    )


async def record_performance(request: Request) -> Response:
    b = json.loads(await request.body())
    gross = Decimal(b["grossRevenue"])
    row = await POOL["db"].fetchrow(
        RECORD,
        b["campaignId"],
        b["views"],
        b["clicks"],
        b["newSignups"],
        gross,
        gross * Decimal("0.95"),
        Decimal(b["adSpend"]),
    )
    return Response(
        json.dumps({"id": str(row["id"]), "createdAt": row["created_at"].isoformat()}), media_type="application/json"
    )


async def healthz(request: Request) -> Response:
    return Response("ok")


app = Starlette(
    routes=[
        Route("/log_error", log_error, methods=["POST"]),
        Route("/record_performance", record_performance, methods=["POST"]),
        Route("/healthz", healthz),
    ],
    lifespan=lifespan,
)
