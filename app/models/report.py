from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Date, String
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, created_at_column


class RoiReport(Base):
    """A day's ROI analysis (seed 4.2), one per report date in the configured time zone."""

    __tablename__ = "roi_reports"

    report_date: Mapped[date] = mapped_column(Date, primary_key=True)
    timezone: Mapped[str] = mapped_column(String(64), nullable=False)
    # Decimals are kept as strings so the stored report is exact.
    body: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False)
    generated_at: Mapped[datetime] = created_at_column()
