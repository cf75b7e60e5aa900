from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    String,
    Text,
    text,
)
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, created_at_column, uuid_pk

GROUP_STATUSES = ("unresolved", "resolved", "ignored")
ALERT_KINDS = ("new", "regressed", "escalated")


class ErrorGroup(Base):
    """Every occurrence with one fingerprint (operation, error type, platform, account, campaign where
    relevant, platform error code). The hot path is one upsert of this row per occurrence."""

    __tablename__ = "error_groups"
    __table_args__ = (
        CheckConstraint(f"status IN {GROUP_STATUSES}", name="status"),
        Index(
            "ix_error_groups_open_last_seen",
            text("last_seen DESC"),
            "id",
            postgresql_where=text("status <> 'resolved'"),
        ),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    fingerprint: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    operation_type: Mapped[str] = mapped_column(String(64), nullable=False)
    error_type: Mapped[str] = mapped_column(String(32), nullable=False)
    platform: Mapped[str | None] = mapped_column(String(32))
    account_id: Mapped[str | None] = mapped_column(String(200))
    campaign_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("campaigns.id", ondelete="SET NULL")
    )
    error_code: Mapped[str | None] = mapped_column(String(100))
    count: Mapped[int] = mapped_column(BigInteger, nullable=False, server_default="1")
    first_seen: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    last_seen: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    # No foreign key: the group row is upserted before its occurrence is inserted (one round trip each).
    latest_error_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False, server_default="unresolved")
    ignored_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    resolved_by: Mapped[str | None] = mapped_column(String(200))
    resolution_note: Mapped[str | None] = mapped_column(Text)
    # The occurrence that reopened a resolved group: lets the upsert tell its caller "you regressed it".
    regressed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    regressed_by_error_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    # Set when the rate rule fired in this episode (cleared by resolve): escalation happens once.
    escalated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # When this episode's new/regressed alert was decided with the admin asked for (sent, or suppressed by
    # cooldown). Unset while every occurrence so far came without notify_admin: a later one that asks for
    # the admin then still alerts (a post failing for the third time).
    alert_decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = created_at_column()


class ErrorGroupAlert(Base):
    """A change of a group's state that called for a notification: the one sent, or why none was."""

    __tablename__ = "error_group_alerts"
    __table_args__ = (
        CheckConstraint(f"kind IN {ALERT_KINDS}", name="kind"),
        Index("ix_error_group_alerts_group", "group_id", "id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(always=True), primary_key=True)
    group_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("error_groups.id", ondelete="CASCADE"), nullable=False
    )
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    severity: Mapped[str] = mapped_column(String(16), nullable=False)
    error_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    notification_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("notifications.id", ondelete="SET NULL"))
    suppressed_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
