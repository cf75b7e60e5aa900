from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, CheckConstraint, DateTime, ForeignKey, Index, String, Text, text
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, created_at_column, uuid_pk

ERROR_TYPES = (
    "token_expired",
    "api_error",
    "network_error",
    "validation_error",
    "ai_generation_failed",
    "rate_limit",
    "permission_denied",
)


class OperationError(Base):
    """One failure of an autonomous operation (the seed's autonomous_operation_errors)."""

    __tablename__ = "autonomous_operation_errors"
    __table_args__ = (
        CheckConstraint(f"error_type IN {ERROR_TYPES}", name="error_type"),
        # The admin's list: unresolved errors, newest first.
        Index(
            "ix_errors_unresolved_created",
            text("created_at DESC"),
            text("id DESC"),
            postgresql_where=text("NOT resolved"),
        ),
        Index("ix_errors_campaign_created", "campaign_id", text("created_at DESC")),
        # A group's occurrences, newest first (errorGroup pages, the rate rule's window count).
        Index("ix_errors_group_created", "group_id", text("created_at DESC"), text("id DESC")),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    operation_type: Mapped[str] = mapped_column(String(64), nullable=False)
    error_type: Mapped[str] = mapped_column(String(32), nullable=False)
    error_message: Mapped[str] = mapped_column(Text, nullable=False)
    error_details: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False, server_default=text("'{}'::jsonb"))
    campaign_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("campaigns.id", ondelete="SET NULL")
    )
    platform: Mapped[str | None] = mapped_column(String(32))
    group_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("error_groups.id", ondelete="SET NULL")
    )
    notify_admin: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=text("false"))
    resolved: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=text("false"))
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    resolved_by: Mapped[str | None] = mapped_column(String(200))
    resolution_note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = created_at_column()
