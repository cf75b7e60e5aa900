from __future__ import annotations

import datetime as dt

from app.clock import SYSTEM_CLOCK
from app.services import reviews, roi_analysis
from app.services.api_keys import Role
from resolvers.context import Info, require
from schema.types import RoiAnalysis, WeeklyReview


async def roi_analysis_report(info: Info, date: dt.date | None = None) -> RoiAnalysis:
    ctx = require(info, Role.VIEWER)
    async with ctx.transaction() as session:
        return RoiAnalysis.from_result(await roi_analysis.get_report(session, date))


async def run_roi_analysis(info: Info) -> RoiAnalysis:
    ctx = require(info, Role.ADMIN)
    async with ctx.transaction() as session:
        result = await roi_analysis.run_daily_report(session, ctx.settings, now=SYSTEM_CLOCK.now())
    return RoiAnalysis.from_result(result)


async def weekly_review(info: Info) -> WeeklyReview:
    ctx = require(info, Role.VIEWER)
    async with ctx.transaction() as session:
        return WeeklyReview.from_result(await reviews.weekly_review(session, ctx.settings, now=SYSTEM_CLOCK.now()))
