"""ORM models, one module per table. Importing this package registers every table on Base.metadata."""

from app.models.api_key import ApiKey
from app.models.base import Base
from app.models.campaign import Campaign
from app.models.connection import PlatformConnection
from app.models.error import OperationError
from app.models.error_group import ErrorGroup, ErrorGroupAlert
from app.models.job_outbox import OutboxJob
from app.models.monitoring import MonitoringIncrement, MonitoringRun
from app.models.notification import Notification
from app.models.performance import PerformanceRecord
from app.models.post import SocialPost
from app.models.report import RoiReport
from app.models.rollup import CampaignDailyTotals, CampaignTotals
from app.models.webhook import AlertWebhook, WebhookDelivery

__all__ = [
    "AlertWebhook",
    "ApiKey",
    "Base",
    "Campaign",
    "CampaignDailyTotals",
    "CampaignTotals",
    "ErrorGroup",
    "ErrorGroupAlert",
    "MonitoringIncrement",
    "MonitoringRun",
    "Notification",
    "OperationError",
    "OutboxJob",
    "PerformanceRecord",
    "PlatformConnection",
    "RoiReport",
    "SocialPost",
    "WebhookDelivery",
]
