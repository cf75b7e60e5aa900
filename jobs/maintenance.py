"""Jobs that keep the worker itself observable."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text

from app.runtime import Runtime


async def ping(ctx: dict[str, Any]) -> dict[str, str]:
    """Round trip through the worker, its database and its Redis: `eventops check` enqueues it."""
    runtime: Runtime = ctx["runtime"]
    async with runtime.engine.connect() as conn:
        await conn.execute(text("SELECT 1"))
    return {"status": "ok", "worker": str(ctx.get("worker_id", "?"))}
