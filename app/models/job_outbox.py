from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, DateTime, Identity, Index, Integer, String, Text, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, created_at_column


class OutboxJob(Base):
    """A background job to enqueue, written in the transaction that decided it.

    Redis may be down when the transaction commits; the relay (app/services/job_outbox.py) moves rows to the
    arq queue when it can, so a committed decision never loses its job.
    """

    __tablename__ = "job_outbox"
    __table_args__ = (Index("ix_job_outbox_pending", "id", postgresql_where=text("enqueued_at IS NULL")),)

    id: Mapped[int] = mapped_column(BigInteger, Identity(always=True), primary_key=True)
    function: Mapped[str] = mapped_column(String(100), nullable=False)
    args: Mapped[list[Any]] = mapped_column(JSONB, nullable=False, server_default=text("'[]'::jsonb"))
    # arq's job id: the same id is never queued twice while its job or result exists.
    job_id: Mapped[str] = mapped_column(Text, nullable=False, unique=True)
    defer_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = created_at_column()
    enqueued_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
