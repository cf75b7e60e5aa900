"""ORM models, one module per table. Importing this package registers every table on Base.metadata."""

from app.models.api_key import ApiKey
from app.models.base import Base
from app.models.campaign import Campaign
from app.models.connection import PlatformConnection
from app.models.error import OperationError
from app.models.job_outbox import OutboxJob
from app.models.notification import Notification
from app.models.performance import PerformanceRecord
from app.models.post import SocialPost

__all__ = [
    "ApiKey",
    "Base",
    "Campaign",
    "Notification",
    "OperationError",
    "OutboxJob",
    "PerformanceRecord",
    "PlatformConnection",
    "SocialPost",
]
