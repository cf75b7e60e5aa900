"""Scheduled analysis: the daily ROI report (arq cron at ROI_REPORT_HOUR:ROI_REPORT_MINUTE, REPORT_TIMEZONE)."""

from __future__ import annotations

from typing import Any

from app.clock import SYSTEM_CLOCK, Clock
from app.database import transaction
from app.runtime import Runtime
from app.services import roi_analysis


async def analyze_campaign_roi(ctx: dict[str, Any]) -> dict[str, Any]:
    """Store today's ROI report and notify the admin once. arq's cron gives each tick one job id, so with
    several workers a tick runs once; a rerun of the same day replaces the report and sends nothing new."""
    runtime: Runtime = ctx["runtime"]
    clock: Clock = ctx.get("clock", SYSTEM_CLOCK)
    async with transaction(runtime.sessionmaker) as session:
        analysis = await roi_analysis.run_daily_report(session, runtime.settings, now=clock.now())
    return {
        "report_date": analysis.report_date.isoformat(),
        "top_performers": len(analysis.top_performers),
        "underperformers": len(analysis.underperformers),
        "insufficient_data": len(analysis.insufficient_data),
    }
