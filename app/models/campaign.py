from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, DateTime, Numeric, String, Text, func
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, created_at_column, uuid_pk

CAMPAIGN_STATUSES = ("draft", "active", "paused", "completed", "archived")


class Campaign(Base):
    __tablename__ = "campaigns"
    __table_args__ = (
        CheckConstraint(f"status IN {CAMPAIGN_STATUSES}", name="status"),
        CheckConstraint("currency ~ '^[A-Z]{3}$'", name="currency"),
        CheckConstraint("budget IS NULL OR budget >= 0", name="budget_non_negative"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False, server_default="active", index=True)
    currency: Mapped[str] = mapped_column(String(3), nullable=False, server_default="EUR")
    budget: Mapped[Decimal | None] = mapped_column(Numeric(16, 2))
    # Where an imported campaign came from ("meta-ads:916"); makes re-imports find the same campaign.
    external_ref: Mapped[str | None] = mapped_column(Text, unique=True)
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now(), onupdate=func.now()
    )
