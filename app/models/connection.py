from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, DateTime, String, Text, UniqueConstraint, func, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, created_at_column, uuid_pk

CONNECTION_STATUSES = ("connected", "expired", "permission_missing", "rate_limited")
# Statuses in which nothing may be posted until an admin acts (reconnectPlatform).
HALTED_STATUSES = ("expired", "permission_missing")


class PlatformConnection(Base):
    """One connected social account: its token (encrypted), health and posting history.

    The token is Fernet ciphertext under TOKEN_ENCRYPTION_KEY; it is decrypted only to call the platform
    and never leaves the process otherwise (no API field, no log line).
    """

    __tablename__ = "platform_connections"
    __table_args__ = (
        UniqueConstraint("platform", "account_id"),
        CheckConstraint(f"status IN {CONNECTION_STATUSES}", name="status"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    platform: Mapped[str] = mapped_column(String(32), nullable=False)
    account_id: Mapped[str] = mapped_column(String(200), nullable=False)
    display_name: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(32), nullable=False, server_default="connected")
    rate_limited_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    token_ciphertext: Mapped[str | None] = mapped_column(Text)
    token_updated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    token_expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    scopes: Mapped[list[str]] = mapped_column(ARRAY(Text), nullable=False, server_default=text("'{}'"))
    last_success_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Set when a token/permission error stops the account; cleared by a reconnect. halt_notified makes
    # the admin hear about one halt once, however many posts fail against it.
    halted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    halt_reason: Mapped[str | None] = mapped_column(Text)
    halt_notified: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=text("false"))
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now(), onupdate=func.now()
    )

    def __repr__(self) -> str:  # the default would be harmless, but say so explicitly: no token here
        return f"PlatformConnection(id={self.id!s}, platform={self.platform!r}, account_id={self.account_id!r})"
