"""Logging, listing and resolving the failures of autonomous operations (seed 1.1, 1.2, 5.1)."""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import make_transient_to_detached

from app.database import driver_connection
from app.errors import NotFound, ValidationFailed
from app.models import ErrorGroup, ErrorGroupAlert, OperationError
from app.models.error import ERROR_TYPES
from app.services import notifications
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


# Error types whose cause lives with the platform account, not with one campaign: an expired token
# fails every campaign on that account, and the admin fixes it once. The others group per campaign.
ACCOUNT_SCOPED = frozenset({"token_expired", "permission_denied", "rate_limit", "network_error"})
ACCOUNT_KEYS = ("account_id", "account")
CODE_KEYS = ("platform_code", "error_code", "code")


@dataclass
class ErrorInput:
    operation_type: Any
    error_type: Any
    error_message: Any
    error_details: Any = None
    campaign_id: uuid.UUID | None = None
    platform: Any = None
    notify_admin: bool = False
    # Optional: otherwise taken from error_details (account_id/account, platform_code/error_code/code).
    account_id: Any = None
    error_code: Any = None
    # When it happened, if earlier than now (an error reported late); never in the future.
    occurred_at: datetime | None = None


def platform_label(platform: str | None) -> str:
    if not platform:
        return "the platform"
    return PLATFORM_NAMES.get(platform, platform.replace("_", " ").title())


def _detail(details: dict[str, Any], keys: tuple[str, ...]) -> Any:
    for key in keys:
        if details.get(key) not in (None, ""):
            return details[key]
    return None


def _label(value: Any, field: str, max_length: int) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise ValidationFailed(f"{field} must be a string or an integer", field=field)
    text_value = str(value).strip()
    if not text_value:
        return None
    if len(text_value) > max_length:
        raise ValidationFailed(f"{field} must be at most {max_length} characters", field=field)
    return text_value


def validate_error(data: ErrorInput, settings: Settings, now: datetime) -> dict[str, Any]:
    if data.error_type not in ERROR_TYPES:
        raise ValidationFailed(
            f"error_type must be one of {', '.join(ERROR_TYPES)}, got {data.error_type!r}", field="error_type"
        )
    details = check_json(data.error_details, "error_details", settings.max_details_bytes)
    occurred = data.occurred_at
    if occurred is not None:
        if occurred.tzinfo is None:
            raise ValidationFailed("occurred_at must include a timezone", field="occurred_at")
        if occurred > now + timedelta(minutes=1):
            raise ValidationFailed("occurred_at must not be in the future", field="occurred_at")
    return {
        "operation_type": check_identifier(data.operation_type, "operation_type"),
        "error_type": data.error_type,
        "error_message": check_text(data.error_message, "error_message", settings.max_message_length, required=True),
        "error_details": details,
        "campaign_id": data.campaign_id,
        "platform": None if data.platform is None else check_identifier(data.platform, "platform", 32),
        "notify_admin": bool(data.notify_admin),
        "account_id": _label(
            data.account_id if data.account_id is not None else _detail(details, ACCOUNT_KEYS), "account_id", 200
        ),
        "error_code": _label(
            data.error_code if data.error_code is not None else _detail(details, CODE_KEYS), "error_code", 100
        ),
        "occurred_at": (occurred or now).astimezone(UTC),
    }


def fingerprint(
    *,
    operation_type: str,
    error_type: str,
    platform: str | None,
    account_id: str | None,
    campaign_id: uuid.UUID | None,
    error_code: str | None,
) -> str:
    """What makes two errors the same problem. Never the message: it carries timestamps and ids."""
    campaign = None if error_type in ACCOUNT_SCOPED else campaign_id
    parts = [operation_type, error_type, platform or "", account_id or "", str(campaign or ""), error_code or ""]
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


def group_severity(group: ErrorGroup) -> str:
    return "urgent" if group.escalated_at is not None else ADMIN_ACTIONS[group.error_type][0]


def admin_notification(error: OperationError, group: Any, kind: str) -> notifications.NewNotification:
    """The notification for a change of a group's state, shaped by the seed's table 1.2."""
    severity, action_template = ADMIN_ACTIONS[error.error_type]
    label = platform_label(error.platform)
    action = action_template.format(platform=label)
    if error.error_type == "token_expired":
        title = f"URGENT: {label} token expired"
    elif error.error_type == "permission_denied":
        title = f"URGENT: {label} permission missing"
    else:
        title = f"Autonomous operation error: {error.error_type} in {error.operation_type}"
    message = f"Error in {error.operation_type}: {error.error_message}"
    if kind == "regressed":
        title = f"Regressed: {title}"
        message = f"Happened again after it was resolved. {message}"
    elif kind == "escalated":
        severity = "urgent"
        title = f"Escalated: {title}"
        message = f"{group.count} occurrences so far, faster than the alert rule allows. {message}"
    return notifications.NewNotification(
        type="system_alert",
        severity=severity,
        title=title,
        message=message,
        action=action,
        data={
            "error_id": str(error.id),
            "group_id": str(group.id),
            "alert": kind,
            "count": int(group.count),
            "error_type": error.error_type,
            "operation_type": error.operation_type,
            "platform": error.platform,
            "campaign_id": None if error.campaign_id is None else str(error.campaign_id),
            "action_url": f"/settings/integrations/{error.platform}" if error.platform else None,
        },
        dedup_key=f"group:{group.id}:{kind}:{error.id}",
    )


# One round trip for the hot path of log_error. $1 group id (if new), $2 fingerprint, $3 operation_type,
# $4 error_type, $5 platform, $6 account_id, $7 the group's campaign_id, $8 error_code, $9 occurred,
# $10 the occurrence's id, $11 message, $12 details (JSON text), $13 the occurrence's campaign_id,
# $14 notify_admin. The campaign guard (c) writes nothing and returns no row when $13 names no campaign.
# In SET, g.* is the stored row before the update: the same rules as before this was hand-written —
# only an occurrence after the resolve reopens a group (one that happened before it was just late), an
# ignore with a time that is up reopens it, and regressed_by_error_id tells exactly one caller "you
# regressed it". Data-modifying CTEs all run once, each seeing the previous one's RETURNING rows.
_LOG_ERROR_SQL = """
WITH c AS (
    SELECT 1 WHERE $13::uuid IS NULL OR EXISTS (SELECT 1 FROM campaigns WHERE id = $13::uuid)
), g AS (
    INSERT INTO error_groups AS g (id, fingerprint, operation_type, error_type, platform, account_id, campaign_id,
        error_code, count, first_seen, last_seen, latest_error_id, status)
    SELECT $1::uuid, $2, $3, $4, $5, $6, $7::uuid, $8, 1, $9::timestamptz, $9::timestamptz, $10::uuid, 'unresolved'
    FROM c
    ON CONFLICT (fingerprint) DO UPDATE SET
        count = g.count + 1,
        first_seen = least(g.first_seen, excluded.first_seen),
        last_seen = greatest(g.last_seen, excluded.last_seen),
        latest_error_id = CASE WHEN excluded.last_seen >= g.last_seen THEN excluded.latest_error_id
                               ELSE g.latest_error_id END,
        status = CASE WHEN g.status = 'resolved' AND excluded.last_seen > g.resolved_at THEN 'unresolved'
                      WHEN g.status = 'ignored' AND g.ignored_until IS NOT NULL
                           AND g.ignored_until <= excluded.last_seen THEN 'unresolved'
                      ELSE g.status END,
        ignored_until = CASE WHEN g.status = 'ignored' AND g.ignored_until IS NOT NULL
                                  AND g.ignored_until <= excluded.last_seen THEN NULL
                             ELSE g.ignored_until END,
        regressed_at = CASE WHEN g.status = 'resolved' AND excluded.last_seen > g.resolved_at
                            THEN excluded.last_seen ELSE g.regressed_at END,
        regressed_by_error_id = CASE WHEN g.status = 'resolved' AND excluded.last_seen > g.resolved_at
                                     THEN excluded.latest_error_id ELSE g.regressed_by_error_id END
    RETURNING g.*, (g.xmax = 0) AS inserted
), e AS (
    INSERT INTO autonomous_operation_errors (id, operation_type, error_type, error_message, error_details,
        campaign_id, platform, group_id, notify_admin, resolved, resolved_at, resolved_by, created_at)
    SELECT $10::uuid, $3, $4, $11, $12::jsonb, $13::uuid, $5, g.id, $14,
           g.status = 'resolved',
           CASE WHEN g.status = 'resolved' THEN g.resolved_at END,
           CASE WHEN g.status = 'resolved' THEN g.resolved_by END,
           $9::timestamptz
    FROM g
    RETURNING 1
)
SELECT * FROM g
"""


async def log_error(
    session: AsyncSession, settings: Settings, data: ErrorInput, *, now: datetime | None = None
) -> OperationError:
    """Store the occurrence in its group and, on a change of the group's state, the admin notification
    (or the reason it was suppressed), all in the caller's transaction.

    The hot path is one statement (_LOG_ERROR_SQL): the campaign check, the upsert of the group row and
    the insert of the occurrence. The upsert's row lock serialises occurrences of one group until commit,
    so counts and state changes are exact under concurrency.
    """
    now = now or datetime.now(UTC)
    values = validate_error(data, settings, now)
    occurred: datetime = values.pop("occurred_at")
    account_id = values.pop("account_id")
    error_code = values.pop("error_code")
    error_id = uuid.uuid4()
    fp = fingerprint(
        operation_type=values["operation_type"],
        error_type=values["error_type"],
        platform=values["platform"],
        account_id=account_id,
        campaign_id=values["campaign_id"],
        error_code=error_code,
    )
    conn = await driver_connection(session)
    row = await conn.fetchrow(
        _LOG_ERROR_SQL,
        uuid.uuid4(),
        fp,
        values["operation_type"],
        values["error_type"],
        values["platform"],
        account_id,
        None if values["error_type"] in ACCOUNT_SCOPED else values["campaign_id"],
        error_code,
        occurred,
        error_id,
        values["error_message"],
        json.dumps(values["error_details"]),
        values["campaign_id"],
        values["notify_admin"],
    )
    if row is None:  # the campaign guard let nothing through: nothing was written
        raise NotFound(f"campaign {values['campaign_id']} (campaignId) does not exist", field="campaignId")
    group = SimpleNamespace(**dict(row.items()))
    resolved = group.status == "resolved"
    # The stored occurrence, as the statement wrote it (not attached to the session: nothing to flush).
    error = OperationError(
        id=error_id,
        group_id=group.id,
        created_at=occurred,
        resolved=resolved,
        resolved_at=group.resolved_at if resolved else None,
        resolved_by=group.resolved_by if resolved else None,
        resolution_note=None,
        **values,
    )
    # Attached as the stored row (no INSERT again): a caller's later change to it (the publishing
    # pipeline sets notify_admin on a final failure) is flushed as an UPDATE, as before.
    make_transient_to_detached(error)
    session.add(error)

    kinds: list[str] = []
    if group.inserted:
        kinds.append("new")
    elif group.regressed_by_error_id == error_id:
        kinds.append("regressed")
    elif error.notify_admin and group.alert_decided_at is None and group.status == "unresolved":
        # Earlier occurrences did not ask for the admin; this one does (e.g. the third failed post).
        kinds.append("regressed" if group.regressed_at is not None else "new")
    if await _rate_rule_fires(session, settings, group, occurred):
        kinds.append("escalated")
    for kind in kinds:
        await _alert(session, settings, group, error, kind, occurred)
    return error


async def _rate_rule_fires(session: AsyncSession, settings: Settings, group: Any, occurred: datetime) -> bool:
    """More than N occurrences within M minutes, once per episode. Reads at most N+1 index entries, and
    only for a group that has more than N occurrences and has not escalated yet."""
    n = settings.alert_escalation_count
    if group.escalated_at is not None or group.count <= n or group.status == "resolved":
        return False
    since = occurred - timedelta(minutes=settings.alert_escalation_minutes)
    window_filter = [
        OperationError.group_id == group.id,
        OperationError.created_at > since,
        OperationError.created_at <= occurred,
    ]
    if group.regressed_at is not None and group.regressed_at > since:
        # Only this episode counts: occurrences before the resolve were already dealt with.
        window_filter.append(OperationError.created_at >= group.regressed_at)
    window = select(OperationError.id).where(*window_filter).limit(n + 1).subquery()
    if int(await session.scalar(select(func.count()).select_from(window)) or 0) <= n:
        return False
    fired = await session.scalar(
        update(ErrorGroup)
        .where(ErrorGroup.id == group.id, ErrorGroup.escalated_at.is_(None))
        .values(escalated_at=occurred)
        .returning(ErrorGroup.id)
    )
    return fired is not None


async def _alert(
    session: AsyncSession, settings: Settings, group: Any, error: OperationError, kind: str, occurred: datetime
) -> None:
    """Send the notification for a change of state, or record why it was suppressed."""
    reason = None
    ignored = group.status == "ignored" and (group.ignored_until is None or group.ignored_until > occurred)
    if ignored:
        until = "forever" if group.ignored_until is None else f"until {group.ignored_until.isoformat()}"
        reason = f"the group is ignored {until}"
    elif kind != "escalated" and not error.notify_admin:
        reason = "notify_admin was not requested for this occurrence"
    else:
        last_sent = await session.scalar(
            select(func.max(ErrorGroupAlert.created_at)).where(
                ErrorGroupAlert.group_id == group.id,
                ErrorGroupAlert.kind == kind,
                ErrorGroupAlert.notification_id.is_not(None),
            )
        )
        cooldown = timedelta(seconds=settings.alert_cooldown_seconds)
        if last_sent is not None and occurred - last_sent < cooldown:
            reason = (
                f"cooldown: a {kind} notification for this group was sent at {last_sent.isoformat()}; "
                f"the cooldown is {settings.alert_cooldown_seconds} s"
            )
    n = admin_notification(error, group, kind)
    created = None
    if reason is None:
        created = await notifications.create_notification(session, n)
        if created is None:
            reason = "a notification with the same dedup key exists"
    session.add(
        ErrorGroupAlert(
            group_id=group.id,
            kind=kind,
            severity=n.severity,
            error_id=error.id,
            notification_id=None if created is None else created.id,
            suppressed_reason=reason,
            created_at=occurred,
        )
    )
    if kind != "escalated" and (created is not None or error.notify_admin):
        await session.execute(update(ErrorGroup).where(ErrorGroup.id == group.id).values(alert_decided_at=occurred))
    await session.flush()


async def get_group(session: AsyncSession, group_id: uuid.UUID, *, lock: bool = False) -> ErrorGroup:
    stmt = select(ErrorGroup).where(ErrorGroup.id == group_id)
    if lock:
        stmt = stmt.with_for_update()
    group = await session.scalar(stmt)
    if group is None:
        raise NotFound(f"error group {group_id} does not exist", field="id")
    return group


async def _group_for(session: AsyncSession, ident: uuid.UUID) -> ErrorGroup:
    """A group by its id, or the group of an occurrence id (what the frontends held before groups)."""
    group = await session.scalar(select(ErrorGroup).where(ErrorGroup.id == ident).with_for_update())
    if group is None:
        group_id = await session.scalar(select(OperationError.group_id).where(OperationError.id == ident))
        if group_id is None:
            raise NotFound(f"error group {ident} does not exist", field="id")
        group = await get_group(session, group_id, lock=True)
    return group


async def resolve_error(
    session: AsyncSession, ident: uuid.UUID, *, resolved_by: str, note: str | None, now: datetime | None = None
) -> ErrorGroup:
    """Resolve a group (given its id or one of its occurrences' ids) and its open occurrences. A later
    occurrence reopens it as regressed."""
    note = None if note is None else check_text(note, "note", 2000)
    group = await _group_for(session, ident)
    if group.status != "resolved":
        now = now or datetime.now(UTC)
        group.status = "resolved"
        group.resolved_at = now
        group.resolved_by = resolved_by
        group.resolution_note = note
        group.ignored_until = None
        # A new episode starts with the next occurrence: it may alert and escalate again.
        group.escalated_at = None
        group.alert_decided_at = None
        await session.execute(
            update(OperationError)
            .where(OperationError.group_id == group.id, OperationError.resolved.is_(False))
            .values(resolved=True, resolved_at=now, resolved_by=resolved_by, resolution_note=note)
        )
        await session.flush()
    return group


async def ignore_group(
    session: AsyncSession, group_id: uuid.UUID, *, until: datetime | None, now: datetime | None = None
) -> ErrorGroup:
    """Ignore a group until a time (then it counts as unresolved again) or, with until None, forever."""
    now = now or datetime.now(UTC)
    if until is not None:
        if until.tzinfo is None:
            raise ValidationFailed("until must include a timezone", field="until")
        if until <= now:
            raise ValidationFailed("until must be in the future", field="until")
    group = await get_group(session, group_id, lock=True)
    group.status = "ignored"
    group.ignored_until = until
    await session.flush()
    return group


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


@dataclass
class GroupWithLatest:
    group: ErrorGroup
    latest: OperationError | None


async def unresolved_groups(
    session: AsyncSession, flt: ErrorFilter, *, first: int, after: ErrorCursor | None, now: datetime | None = None
) -> tuple[list[GroupWithLatest], bool]:
    """Unresolved groups (and ignored ones whose time is up), most recently seen first, keyset-paginated
    on (last_seen, id); each with its latest occurrence. Returns (page, has_next)."""
    now = now or datetime.now(UTC)
    stmt = select(ErrorGroup).where(
        or_(
            ErrorGroup.status == "unresolved",
            and_(ErrorGroup.status == "ignored", ErrorGroup.ignored_until <= now),
        )
    )
    if flt.operation_type:
        stmt = stmt.where(ErrorGroup.operation_type == flt.operation_type)
    if flt.error_type:
        stmt = stmt.where(ErrorGroup.error_type == flt.error_type)
    if flt.campaign_id:
        # Account-scoped groups have no campaign of their own: match them through their occurrences.
        stmt = stmt.where(
            or_(
                ErrorGroup.campaign_id == flt.campaign_id,
                ErrorGroup.id.in_(select(OperationError.group_id).where(OperationError.campaign_id == flt.campaign_id)),
            )
        )
    if flt.platform:
        stmt = stmt.where(ErrorGroup.platform == flt.platform)
    if after is not None:
        stmt = stmt.where(
            or_(
                ErrorGroup.last_seen < after.created_at,
                and_(ErrorGroup.last_seen == after.created_at, ErrorGroup.id < after.id),
            )
        )
    stmt = stmt.order_by(ErrorGroup.last_seen.desc(), ErrorGroup.id.desc()).limit(first + 1)
    rows = list((await session.scalars(stmt)).all())
    page, has_next = rows[:first], len(rows) > first
    latest_ids = [g.latest_error_id for g in page]
    latest = {
        e.id: e for e in (await session.scalars(select(OperationError).where(OperationError.id.in_(latest_ids)))).all()
    }
    return [GroupWithLatest(g, latest.get(g.latest_error_id)) for g in page], has_next


async def latest_occurrence(session: AsyncSession, group: ErrorGroup) -> OperationError | None:
    return await session.get(OperationError, group.latest_error_id)


async def group_occurrences(
    session: AsyncSession, group_id: uuid.UUID, *, first: int, after: ErrorCursor | None
) -> tuple[list[OperationError], bool]:
    """A group's occurrences, newest first, keyset-paginated on (created_at, id)."""
    stmt = select(OperationError).where(OperationError.group_id == group_id)
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


async def group_alerts(session: AsyncSession, group_id: uuid.UUID, limit: int = 100) -> list[ErrorGroupAlert]:
    """The group's changes of state, newest first: the notification sent, or why it was suppressed."""
    stmt = (
        select(ErrorGroupAlert)
        .where(ErrorGroupAlert.group_id == group_id)
        .order_by(ErrorGroupAlert.id.desc())
        .limit(limit)
    )
    return list((await session.scalars(stmt)).all())


async def resolve_matching(
    session: AsyncSession, *, platform: str, error_type: str, resolved_by: str, note: str
) -> int:
    """Resolve every open group of a kind and its occurrences (used when an admin fixes its cause, e.g.
    reconnects); returns how many groups."""
    now = datetime.now(UTC)
    result = await session.execute(
        update(ErrorGroup)
        .where(ErrorGroup.status != "resolved", ErrorGroup.platform == platform, ErrorGroup.error_type == error_type)
        .values(
            status="resolved",
            resolved_at=now,
            resolved_by=resolved_by,
            resolution_note=note,
            ignored_until=None,
            escalated_at=None,
            alert_decided_at=None,
        )
    )
    await session.execute(
        update(OperationError)
        .where(
            OperationError.resolved.is_(False),
            OperationError.platform == platform,
            OperationError.error_type == error_type,
        )
        .values(resolved=True, resolved_at=now, resolved_by=resolved_by, resolution_note=note)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
