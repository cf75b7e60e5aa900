"""Campaign monitoring: the dashboard's numbers, the runs, and an admin's "run it now"."""

from __future__ import annotations

import uuid

import strawberry

from app.services import job_outbox, monitoring
from app.services.api_keys import Role
from resolvers.context import Info, require
from resolvers.publishing import clock_of
from schema.types import CampaignMonitoring, MonitoringJob, MonitoringRun, parse_id


async def campaign_monitoring(info: Info, campaign_id: strawberry.ID) -> CampaignMonitoring:
    ctx = require(info, Role.VIEWER)
    async with ctx.transaction() as session:
        result = await monitoring.campaign_monitoring(session, ctx.settings, parse_id(campaign_id, "campaignId"))
    return CampaignMonitoring.from_result(result)


async def monitoring_runs(info: Info, limit: int = 24) -> list[MonitoringRun]:
    ctx = require(info, Role.VIEWER)
    limit = ctx.page_size(limit)
    async with ctx.transaction() as session:
        return [MonitoringRun.from_model(r) for r in await monitoring.list_runs(session, limit)]


async def run_monitoring(info: Info) -> MonitoringJob:
    ctx = require(info, Role.ADMIN)
    async with ctx.transaction() as session:
        hour = await monitoring.check_can_run(session, ctx.settings, clock_of(ctx).now())
        job_id = await job_outbox.enqueue(
            session, monitoring.JOB, job_id=f"monitor:manual:{monitoring.hour_label(hour)}:{uuid.uuid4().hex[:8]}"
        )
    ctx.runtime.kick_outbox()
    return MonitoringJob(job_id=strawberry.ID(job_id), hour=hour)
