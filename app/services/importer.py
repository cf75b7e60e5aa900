"""Importing performance from CSV files: a Facebook Ads export, or any CSV with a column mapping.

Rows are streamed (memory does not grow with the file), validated by the same rules as recordPerformance,
and stored in batches. A bad row is skipped with its line number and reason and never stops the import.
Every row has an idempotency key, so importing a file again stores nothing new.
"""

from __future__ import annotations

import csv
import hashlib
import io
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, TextIO

import asyncpg
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.errors import ValidationFailed
from app.models import Campaign
from app.models.performance import COUNT_FIELDS, MONEY_FIELDS
from app.services import campaigns, performance
from app.settings import Settings

BATCH_ROWS = 1000
MAPPABLE = set(COUNT_FIELDS) | set(MONEY_FIELDS) | {"campaign", "date", "source"}

# The Facebook Ads export layout (shared/data/meta-ads/README.md) onto performance fields.
META_ADS_MAP = {
    "views": "Impressions",
    "clicks": "Clicks",
    "ad_spend": "Spent",
    "new_signups": "Total_Conversion",
    "tickets_sold": "Approved_Conversion",
}
META_ADS_REQUIRED = ("ad_id", "xyz_campaign_id", *META_ADS_MAP.values())


@dataclass
class Skip:
    line: int
    reason: str


@dataclass
class ImportSummary:
    rows_read: int = 0
    imported: int = 0
    already_present: int = 0
    skipped: list[Skip] = field(default_factory=list)
    campaigns: set[uuid.UUID] = field(default_factory=set)

    def as_text(self) -> str:
        lines = [
            f"rows read: {self.rows_read:,}",
            f"imported: {self.imported:,}",
            f"already present (re-import): {self.already_present:,}",
            f"skipped: {len(self.skipped):,}",
            f"campaigns: {len(self.campaigns):,}",
        ]
        lines += [f"  line {s.line}: {s.reason}" for s in self.skipped[:1000]]
        if len(self.skipped) > 1000:
            lines.append(f"  ... and {len(self.skipped) - 1000:,} more")
        return "\n".join(lines)


def parse_mapping(spec: str) -> dict[str, str]:
    """`views=Impressions,clicks=Clicks,campaign=Name` -> {"views": "Impressions", ...}."""
    mapping: dict[str, str] = {}
    for part in spec.split(","):
        if not part.strip():
            continue
        name, sep, column = part.partition("=")
        name, column = name.strip(), column.strip()
        if not sep or not name or not column:
            raise ValidationFailed(f"--map entry {part!r} is not FIELD=COLUMN", field="map")
        if name not in MAPPABLE:
            raise ValidationFailed(f"--map field {name!r} is not one of {', '.join(sorted(MAPPABLE))}", field="map")
        if name in mapping:
            raise ValidationFailed(f"--map names the field {name!r} twice", field="map")
        mapping[name] = column
    if "campaign" not in mapping:
        raise ValidationFailed("--map must name the campaign column (campaign=COLUMN)", field="map")
    return mapping


def _open(path: Path) -> TextIO:
    # utf-8-sig drops the byte order mark that exports such as the Facebook one start with.
    return io.TextIOWrapper(path.open("rb"), encoding="utf-8-sig", newline="")


def _count(raw: str, name: str) -> int:
    text = raw.strip()
    if text == "":
        return 0
    try:
        value = float(text) if any(c in text for c in ".eE") else int(text)
    except ValueError:
        raise ValidationFailed(f"{name} is not a number: {raw!r}", field=name) from None
    if isinstance(value, float):
        if not value.is_integer():
            raise ValidationFailed(f"{name} must be a whole number, got {raw!r}", field=name)
        value = int(value)
    return value


def _date(raw: str) -> datetime:
    text = raw.strip()
    try:
        if len(text) == 10:
            d = date.fromisoformat(text)
            return datetime(d.year, d.month, d.day, tzinfo=UTC)
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValidationFailed(f"date is not an ISO date or date-time: {raw!r}", field="date") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


@dataclass
class _Row:
    line: int
    campaign_key: str
    campaign_title: str
    idempotency_key: str
    values: dict[str, Any]


class _Importer:
    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        settings: Settings,
        *,
        currency: str,
        now: datetime,
        progress: Callable[[ImportSummary], None] | None,
    ) -> None:
        self.sessionmaker = sessionmaker
        self.settings = settings
        self.currency = currency
        self.now = now
        self.progress = progress
        self.summary = ImportSummary()
        self.campaign_ids: dict[str, uuid.UUID] = {}
        self.rules = performance.score_rules(settings)  # once, not per row

    def values(self, fields: dict[str, Any], source: str, period: datetime | None) -> dict[str, Any]:
        data = performance.PerformanceInput(
            source=source, period_start=period or self.now, period_end=period or self.now
        )
        for name, raw in fields.items():
            setattr(data, name, raw)
        return performance.build_values(data, self.settings, now=self.now, round_money=True, rules=self.rules)

    async def _campaign_id(self, session: AsyncSession, row: _Row, by_ref: bool) -> uuid.UUID:
        cached = self.campaign_ids.get(row.campaign_key)
        if cached is not None:
            return cached
        if by_ref:
            cid = await campaigns.get_or_create_by_ref(
                session, external_ref=row.campaign_key, title=row.campaign_title, currency=self.currency
            )
        else:
            found = await session.scalar(
                select(Campaign.id).where(Campaign.title == row.campaign_title).order_by(Campaign.created_at).limit(1)
            )
            if found is None:
                found = (await campaigns.create_campaign(session, title=row.campaign_title, currency=self.currency)).id
            cid = found
        self.campaign_ids[row.campaign_key] = cid
        return cid

    async def flush(self, batch: list[_Row], *, by_ref: bool) -> None:
        if not batch:
            return
        try:
            async with self.sessionmaker() as session, session.begin():
                rows = []
                for r in batch:
                    cid = await self._campaign_id(session, r, by_ref)
                    rows.append({**r.values, "campaign_id": cid, "idempotency_key": r.idempotency_key})
                stored = await performance.record_many(session, rows)
        except (DBAPIError, asyncpg.PostgresError):
            # Should not happen after validation; find the offending rows one at a time so the rest land.
            self.campaign_ids.clear()
            for r in batch:
                await self._flush_one(r, by_ref)
            return
        for r in batch:
            self.summary.campaigns.add(self.campaign_ids[r.campaign_key])
        self.summary.imported += stored
        self.summary.already_present += len(batch) - stored

    async def _flush_one(self, r: _Row, by_ref: bool) -> None:
        try:
            async with self.sessionmaker() as session, session.begin():
                cid = await self._campaign_id(session, r, by_ref)
                stored = await performance.record_many(
                    session, [{**r.values, "campaign_id": cid, "idempotency_key": r.idempotency_key}]
                )
        except (DBAPIError, asyncpg.PostgresError) as exc:
            self.campaign_ids.pop(r.campaign_key, None)
            cause = exc.orig if isinstance(exc, DBAPIError) else exc
            self.summary.skipped.append(Skip(r.line, f"rejected by the database: {type(cause).__name__}"))
            return
        self.summary.campaigns.add(cid)
        self.summary.imported += stored
        self.summary.already_present += 1 - stored

    async def run(self, rows: Iterator[_Row | Skip], *, by_ref: bool) -> ImportSummary:
        batch: list[_Row] = []
        for item in rows:
            self.summary.rows_read += 1
            if isinstance(item, Skip):
                self.summary.skipped.append(item)
                continue
            batch.append(item)
            if len(batch) >= BATCH_ROWS:
                await self.flush(batch, by_ref=by_ref)
                batch = []
                if self.progress:
                    self.progress(self.summary)
        await self.flush(batch, by_ref=by_ref)
        if self.progress:
            self.progress(self.summary)
        return self.summary


def _meta_rows(reader: csv.DictReader[str], importer: _Importer) -> Iterator[_Row | Skip]:
    missing = [c for c in META_ADS_REQUIRED if c not in (reader.fieldnames or [])]
    if missing:
        raise ValidationFailed(f"not a Facebook Ads export: missing column(s) {', '.join(missing)}", field="file")
    for record in reader:
        line = reader.line_num
        if None in record or None in record.values():
            yield Skip(line, "the row does not have as many cells as the header")
            continue
        try:
            ad_id = (record.get("ad_id") or "").strip()
            campaign = (record.get("xyz_campaign_id") or "").strip()
            if not ad_id or not campaign:
                raise ValidationFailed("ad_id and xyz_campaign_id are required", field="ad_id")
            fields: dict[str, Any] = {}
            for name, column in META_ADS_MAP.items():
                raw = record.get(column)
                if raw is None:
                    raise ValidationFailed(f"{column} is missing", field=name)
                fields[name] = raw.strip() if name in MONEY_FIELDS else _count(raw, name)
            values = importer.values(fields, "facebook", None)
        except ValidationFailed as exc:
            yield Skip(line, exc.message)
            continue
        yield _Row(
            line=line,
            campaign_key=f"meta-ads:{campaign}",
            campaign_title=f"Facebook campaign {campaign}",
            idempotency_key=f"meta-ads:ad:{ad_id}",
            values=values,
        )


def _csv_rows(reader: csv.DictReader[str], mapping: dict[str, str], importer: _Importer) -> Iterator[_Row | Skip]:
    missing = [c for c in mapping.values() if c not in (reader.fieldnames or [])]
    if missing:
        raise ValidationFailed(f"the file has no column(s) {', '.join(missing)}", field="map")
    ordered = sorted(mapping.items())
    for record in reader:
        line = reader.line_num
        if None in record or None in record.values():
            yield Skip(line, "the row does not have as many cells as the header")
            continue
        # The key is the row's content and the line it ends on. Importing the same file again gives every
        # row its key again, and so does a file with rows appended (the earlier rows keep their lines and
        # content), so only new rows are stored; two identical rows on different lines are two records.
        # Nothing is remembered across rows, so memory does not grow with the file (the earlier key,
        # content + "#n-th repeat", needed a counter of every distinct row). A file edited above a row
        # (lines inserted or removed) moves that row's line: it is stored again, as a changed file is.
        content = "\x1f".join(f"{k}={record.get(c, '')}" for k, c in ordered)
        key = "csv:" + hashlib.sha256(content.encode()).hexdigest()[:40] + f"@{line}"
        try:
            title = (record.get(mapping["campaign"]) or "").strip()
            if not title:
                raise ValidationFailed("the campaign column is empty", field="campaign")
            if len(title) > campaigns.MAX_TITLE:
                raise ValidationFailed(
                    f"campaign title is longer than {campaigns.MAX_TITLE} characters", field="campaign"
                )
            fields: dict[str, Any] = {}
            for name, column in mapping.items():
                if name in ("campaign", "date", "source"):
                    continue
                raw = record.get(column) or ""
                if name in MONEY_FIELDS:
                    fields[name] = raw.strip() or None
                else:
                    fields[name] = _count(raw, name)
            period = _date(record[mapping["date"]]) if "date" in mapping else None
            source = (record.get(mapping["source"]) or "").strip() if "source" in mapping else "import"
            values = importer.values(fields, source or "import", period)
        except ValidationFailed as exc:
            yield Skip(line, exc.message)
            continue
        yield _Row(line=line, campaign_key=f"title:{title}", campaign_title=title, idempotency_key=key, values=values)


async def import_meta_ads(
    sessionmaker: async_sessionmaker[AsyncSession],
    settings: Settings,
    path: Path,
    *,
    currency: str = "EUR",
    now: datetime | None = None,
    progress: Callable[[ImportSummary], None] | None = None,
) -> ImportSummary:
    from app.services.currencies import validate_currency

    importer = _Importer(
        sessionmaker, settings, currency=validate_currency(currency), now=now or datetime.now(UTC), progress=progress
    )
    with _open(path) as fh:
        return await importer.run(_meta_rows(csv.DictReader(fh), importer), by_ref=True)


async def import_csv(
    sessionmaker: async_sessionmaker[AsyncSession],
    settings: Settings,
    path: Path,
    mapping: dict[str, str],
    *,
    currency: str = "EUR",
    now: datetime | None = None,
    progress: Callable[[ImportSummary], None] | None = None,
) -> ImportSummary:
    from app.services.currencies import validate_currency

    importer = _Importer(
        sessionmaker, settings, currency=validate_currency(currency), now=now or datetime.now(UTC), progress=progress
    )
    with _open(path) as fh:
        return await importer.run(_csv_rows(csv.DictReader(fh), mapping, importer), by_ref=False)
