"""GraphQL enums; their values are the strings stored in the database."""

from __future__ import annotations

from enum import Enum

import strawberry


@strawberry.enum(description="The seed's error types (section 1.2).")
class ErrorType(Enum):
    TOKEN_EXPIRED = "token_expired"
    API_ERROR = "api_error"
    NETWORK_ERROR = "network_error"
    VALIDATION_ERROR = "validation_error"
    AI_GENERATION_FAILED = "ai_generation_failed"
    RATE_LIMIT = "rate_limit"
    PERMISSION_DENIED = "permission_denied"


@strawberry.enum
class Severity(Enum):
    INFO = "info"
    WARNING = "warning"
    URGENT = "urgent"


@strawberry.enum
class CampaignStatus(Enum):
    DRAFT = "draft"
    ACTIVE = "active"
    PAUSED = "paused"
    COMPLETED = "completed"
    ARCHIVED = "archived"


@strawberry.enum
class PostStatus(Enum):
    PENDING = "pending"
    POSTING = "posting"
    POSTED = "posted"
    FAILED = "failed"
    BLOCKED = "blocked"
    CANCELLED = "cancelled"


@strawberry.enum(description="Outcomes a caller may report with updatePostStatus.")
class PostOutcome(Enum):
    PENDING = "pending"
    POSTED = "posted"
    FAILED = "failed"


@strawberry.enum
class RankMetric(Enum):
    ROI = "roi"
    SIGNUPS = "signups"
    REVENUE = "revenue"
    ROAS = "roas"
    PERFORMANCE_SCORE = "performance_score"


@strawberry.enum
class Role(Enum):
    VIEWER = "viewer"
    SERVICE = "service"
    ADMIN = "admin"


@strawberry.enum(description="unresolved (open), resolved, or ignored (until a time, or forever).")
class ErrorGroupStatus(Enum):
    UNRESOLVED = "unresolved"
    RESOLVED = "resolved"
    IGNORED = "ignored"


@strawberry.enum(description="A change of an error group's state that calls for a notification.")
class AlertKind(Enum):
    NEW = "new"
    REGRESSED = "regressed"
    ESCALATED = "escalated"


@strawberry.enum(description="Health of a connected social account.")
class ConnectionStatus(Enum):
    CONNECTED = "connected"
    EXPIRED = "expired"
    PERMISSION_MISSING = "permission_missing"
    RATE_LIMITED = "rate_limited"
