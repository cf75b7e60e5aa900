"""Logging, listing and resolving the failures of autonomous operations (seed 1.1, 1.2, 5.1)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import and_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import NotFound, ValidationFailed
from app.models import OperationError
from app.models.error import ERROR_TYPES
from app.services import campaigns, notifications
from app.services.validation import check_identifier, check_json, check_text
from app.settings import Settings

PLATFORM_NAMES = {
    "facebook": "Facebook",
    "instagram": "Instagram",
    "x": "X",
    "linkedin": "LinkedIn",
    "tiktok": "TikTok",
    "google_ads": "Google Ads",
}

# Seed table 1.2: what the admin must do for each error type, and how loud the alert is.
ADMIN_ACTIONS: dict[str, tuple[str, str]] = {
    "token_expired": ("urgent", "Reconnect {platform} in settings"),
    "permission_denied": ("urgent", "Grant the required {platform} permissions"),
    "api_error": ("warning", "Check the {platform} API status and credentials"),
    "network_error": ("warning", "Check the internet connection and firewall"),
    "validation_error": ("warning", "Review the campaign settings"),
    "ai_generation_failed": ("warning", "Check the Gemini API key"),
    "rate_limit": ("warning", "Wait, or upgrade the {platform} API plan"),
}


@dataclass
class ErrorInput:
    operation_type: Any
    error_type: Any
    error_message: Any
    error_details: Any = None
    campaign_id: uuid.UUID | None = None
    platform: Any = None
    notify_admin: bool = False


def platform_label(platform: str | None) -> str:
    if not platform:
        return "the platform"
    return PLATFORM_NAMES.get(platform, platform.replace("_", " ").title())


def validate_error(data: ErrorInput, settings: Settings) -> dict[str, Any]:
    if data.error_type not in ERROR_TYPES:
        raise ValidationFailed(
            f"error_type must be one of {', '.join(ERROR_TYPES)}, got {data.error_type!r}", field="error_type"
        )
    return {
        "operation_type": check_identifier(data.operation_type, "operation_type"),
        "error_type": data.error_type,
        "error_message": check_text(data.error_message, "error_message", settings.max_message_length, required=True),
        "error_details": check_json(data.error_details, "error_details", settings.max_details_bytes),
        "campaign_id": data.campaign_id,
        "platform": None if data.platform is None else check_identifier(data.platform, "platform", 32),
        "notify_admin": bool(data.notify_admin),
    }


def admin_notification(error: OperationError) -> notifications.NewNotification:
    severity, action_template = ADMIN_ACTIONS[error.error_type]
    label = platform_label(error.platform)
    action = action_template.format(platform=label)
    if error.error_type == "token_expired":
        title = f"URGENT: {label} token expired"
    elif error.error_type == "permission_denied":
        title = f"URGENT: {label} permission missing"
    else:
        title = f"Autonomous operation error: {error.error_type} in {error.operation_type}"
    return notifications.NewNotification(
        type="system_alert",
        severity=severity,
        title=title,
        message=f"Error in {error.operation_type}: {error.error_message}",
        action=action,
        data={
            "error_id": str(error.id),
            "error_type": error.error_type,
            "operation_type": error.operation_type,
            "platform": error.platform,
            "campaign_id": None if error.campaign_id is None else str(error.campaign_id),
            "action_url": f"/settings/integrations/{error.platform}" if error.platform else None,
        },
        dedup_key=f"error:{error.id}",
    )


async def log_error(session: AsyncSession, settings: Settings, data: ErrorInput) -> OperationError:
    """Store the error and, with notify_admin, its admin notification in the same transaction."""
    values = validate_error(data, settings)
    if values["campaign_id"] is not None:
        await campaigns.get_campaign(session, values["campaign_id"])
    error = OperationError(**values)
    session.add(error)
    await session.flush()
    await session.refresh(error)
    if error.notify_admin:
        await notifications.create_notification(session, admin_notification(error))
    return error


async def resolve_error(
    session: AsyncSession, error_id: uuid.UUID, *, resolved_by: str, note: str | None, now: datetime | None = None
) -> OperationError:
    note = None if note is None else check_text(note, "note", 2000)
    error = await session.scalar(select(OperationError).where(OperationError.id == error_id).with_for_update())
    if error is None:
        raise NotFound(f"error {error_id} does not exist", field="id")
    if not error.resolved:
        error.resolved = True
        error.resolved_at = now or datetime.now(UTC)
        error.resolved_by = resolved_by
        error.resolution_note = note
        await session.flush()
    return error


@dataclass
class ErrorFilter:
    operation_type: str | None = None
    error_type: str | None = None
    campaign_id: uuid.UUID | None = None
    platform: str | None = None


@dataclass
class ErrorCursor:
    created_at: datetime
    id: uuid.UUID

    def encode(self) -> str:
        return f"{self.created_at.isoformat()}|{self.id}"

    @classmethod
    def decode(cls, raw: str) -> ErrorCursor:
        try:
            ts, ident = raw.split("|", 1)
            return cls(datetime.fromisoformat(ts), uuid.UUID(ident))
        except ValueError:
            raise ValidationFailed("after is not a cursor returned by this API", field="after") from None


async def unresolved_errors(
    session: AsyncSession, flt: ErrorFilter, *, first: int, after: ErrorCursor | None
) -> tuple[list[OperationError], bool]:
    """Unresolved errors newest first, keyset-paginated; returns (page, has_next)."""
    stmt = select(OperationError).where(OperationError.resolved.is_(False))
    if flt.operation_type:
        stmt = stmt.where(OperationError.operation_type == flt.operation_type)
    if flt.error_type:
        stmt = stmt.where(OperationError.error_type == flt.error_type)
    if flt.campaign_id:
        stmt = stmt.where(OperationError.campaign_id == flt.campaign_id)
    if flt.platform:
        stmt = stmt.where(OperationError.platform == flt.platform)
    if after is not None:
        stmt = stmt.where(
            or_(
                OperationError.created_at < after.created_at,
                and_(OperationError.created_at == after.created_at, OperationError.id < after.id),
            )
        )
    stmt = stmt.order_by(OperationError.created_at.desc(), OperationError.id.desc()).limit(first + 1)
    rows = list((await session.scalars(stmt)).all())
    return rows[:first], len(rows) > first


async def campaign_errors(session: AsyncSession, campaign_id: uuid.UUID, limit: int = 50) -> list[OperationError]:
    stmt = (
        select(OperationError)
        .where(OperationError.campaign_id == campaign_id)
        .order_by(OperationError.created_at.desc(), OperationError.id.desc())
        .limit(limit)
    )
    return list((await session.scalars(stmt)).all())


async def resolve_matching(
    session: AsyncSession, *, platform: str, error_type: str, resolved_by: str, note: str
) -> int:
    """Resolve every open error of a kind (used when an admin fixes its cause, e.g. reconnects)."""
    result = await session.execute(
        update(OperationError)
        .where(
            OperationError.resolved.is_(False),
            OperationError.platform == platform,
            OperationError.error_type == error_type,
        )
        .values(resolved=True, resolved_at=datetime.now(UTC), resolved_by=resolved_by, resolution_note=note)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
