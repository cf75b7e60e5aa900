"""Importing performance from CSV files: a Facebook Ads export, or any CSV with a column mapping.

Rows are streamed (memory does not grow with the file), validated by the same rules as recordPerformance,
and stored in batches. A bad row is skipped with its line number and reason and never stops the import.
Every row has an idempotency key, so importing a file again stores nothing new.
"""

from __future__ import annotations

import asyncio
import csv
import hashlib
import io
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, NamedTuple, TextIO

import asyncpg
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.errors import ValidationFailed
from app.models import Campaign
from app.models.performance import COUNT_FIELDS, MONEY_FIELDS
from app.services import campaigns, performance
from app.services.row_values import (
    CopyFormatter,
    IntRowValues,
    context_is_default,
    from_decimals,
    parse_cents,
    parse_count,
)
from app.services.validation import check_identifier
from app.settings import Settings

BATCH_ROWS = 10000
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


class _Row(NamedTuple):
    line: int
    campaign_key: str
    campaign_title: str
    idempotency_key: str
    values: tuple[Any, ...]  # in performance.VALUE_COLUMNS order


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
        fast = IntRowValues(settings, self.rules)
        self.fast = fast if fast.usable and context_is_default() else None
        self.copy = CopyFormatter()

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
                ids = self.campaign_ids
                for r in batch:
                    if r.campaign_key not in ids:
                        await self._campaign_id(session, r, by_ref)
                line = self.copy.line
                stored = await performance.record_copy(
                    session, [line(ids[r.campaign_key], r.idempotency_key, r.values) for r in batch]
                )
        except (DBAPIError, asyncpg.PostgresError):
            # Should not happen after validation; find the offending rows one at a time so the rest land.
            self.campaign_ids.clear()
            for r in batch:
                await self._flush_one(r, by_ref)
            return
        campaigns_seen = self.summary.campaigns
        for key in {r.campaign_key for r in batch}:
            campaigns_seen.add(self.campaign_ids[key])
        self.summary.imported += stored
        self.summary.already_present += len(batch) - stored

    async def _flush_one(self, r: _Row, by_ref: bool) -> None:
        try:
            async with self.sessionmaker() as session, session.begin():
                cid = await self._campaign_id(session, r, by_ref)
                stored = await performance.record_copy(session, [self.copy.line(cid, r.idempotency_key, r.values)])
        except (DBAPIError, asyncpg.PostgresError) as exc:
            self.campaign_ids.pop(r.campaign_key, None)
            cause = exc.orig if isinstance(exc, DBAPIError) else exc
            self.summary.skipped.append(Skip(r.line, f"rejected by the database: {type(cause).__name__}"))
            return
        self.summary.campaigns.add(cid)
        self.summary.imported += stored
        self.summary.already_present += 1 - stored

    async def run(self, rows: Iterator[_Row | Skip], *, by_ref: bool) -> ImportSummary:
        """Parse while the previous batch is being written: PostgreSQL works on batch N (another process,
        another core) while this one validates batch N + 1. One batch in flight at a time, so batches are
        written in file order, exactly as one after the other; a batch that needs a new campaign waits for
        the one in flight (campaigns are created in order, once). Skips are reported in the same order as
        before: a batch's parse skips, then its database rejections."""
        batch: list[_Row] = []
        held: list[Skip] = []  # the parse skips of the batch being collected
        pending: asyncio.Task[None] | None = None
        summary = self.summary
        read = 0
        for item in rows:
            read += 1
            summary.rows_read = read
            if isinstance(item, Skip):
                held.append(item)
                continue
            batch.append(item)
            if len(batch) >= BATCH_ROWS:
                if pending is not None:
                    await pending
                summary.skipped.extend(held)
                held = []
                known = self.campaign_ids
                if all(r.campaign_key in known for r in batch):
                    pending = asyncio.ensure_future(self._flush_and_report(batch, by_ref))
                else:
                    pending = None
                    await self._flush_and_report(batch, by_ref)
                batch = []
            elif pending is not None and not read & 255:
                await asyncio.sleep(0)  # let the batch in flight take its next round trip
                if pending.done():
                    await pending
                    pending = None
        if pending is not None:
            await pending
        summary.skipped.extend(held)
        await self._flush_and_report(batch, by_ref)
        return summary

    async def _flush_and_report(self, batch: list[_Row], by_ref: bool) -> None:
        await self.flush(batch, by_ref=by_ref)
        if self.progress:
            self.progress(self.summary)


def _meta_row(record: dict[str | None, Any], line: int, importer: _Importer) -> _Row | Skip:
    """One row of a Facebook Ads export the original way (the fast path's fallback and its reference)."""
    if _ragged(record):
        return Skip(line, RAGGED)
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
        return Skip(line, exc.message)
    return _Row(
        line=line,
        campaign_key=f"meta-ads:{campaign}",
        campaign_title=f"Facebook campaign {campaign}",
        idempotency_key=f"meta-ads:ad:{ad_id}",
        values=from_decimals(values, performance.VALUE_COLUMNS),
    )


def _records(fh: TextIO) -> tuple[list[str] | None, Iterator[tuple[int, list[str]]]]:
    """The header and (line, row) of a CSV file as csv.DictReader gives them, without a dict per row:
    empty rows skipped, and the line a row ends on (DictReader's line_num is the reader's after the row)."""
    reader = csv.reader(fh)
    header = next(reader, None)

    def rows() -> Iterator[tuple[int, list[str]]]:
        for row in reader:
            if row:
                yield reader.line_num, row

    return header, rows()


RAGGED = "the row does not have as many cells as the header"


def _ragged(record: dict[str | None, Any]) -> bool:
    """A missing cell (None) or extra cells (key None): a shifted or truncated row is refused, not guessed."""
    return None in record or None in record.values()


def _as_dict(header: list[str], row: list[str]) -> dict[str | None, Any]:
    """The dict csv.DictReader makes of a row (restkey None for extra cells, restval None for missing ones)."""
    d: dict[str | None, Any] = dict(zip(header, row, strict=False))
    if len(header) < len(row):
        d[None] = row[len(header) :]
    elif len(header) > len(row):
        for key in header[len(row) :]:
            d[key] = None
    return d


class _Cached:
    """Per-import caches of the per-distinct-value checks (dates, sources): bounded, so memory stays flat."""

    LIMIT = 4096

    def __init__(self, importer: _Importer) -> None:
        self.importer = importer
        self.periods: dict[str, datetime] = {}
        self.sources: dict[str, str] = {}

    def period(self, raw: str) -> datetime:
        found = self.periods.get(raw)
        if found is None:
            # build_values converts the period to UTC (_utc); the same conversion, once per distinct text.
            found = _date(raw).astimezone(UTC)
            if len(self.periods) >= self.LIMIT:
                self.periods.clear()
            self.periods[raw] = found
        return found

    def source(self, raw: str) -> str:
        found = self.sources.get(raw)
        if found is None:
            found = check_identifier(raw, "source", 32)
            if len(self.sources) >= self.LIMIT:
                self.sources.clear()
            self.sources[raw] = found
        return found


def _meta_rows(fh: TextIO, importer: _Importer) -> Iterator[_Row | Skip]:
    header, rows = _records(fh)
    missing = [c for c in META_ADS_REQUIRED if c not in (header or [])]
    if missing:
        raise ValidationFailed(f"not a Facebook Ads export: missing column(s) {', '.join(missing)}", field="file")
    assert header is not None
    index = {name: i for i, name in enumerate(header)}  # a repeated column: the last one, as in DictReader
    width = len(header)
    i_ad, i_campaign = index["ad_id"], index["xyz_campaign_id"]
    count_at = [
        (COUNT_FIELDS.index(name), index[column]) for name, column in META_ADS_MAP.items() if name in COUNT_FIELDS
    ]
    money_at = [
        (MONEY_FIELDS.index(name), index[column]) for name, column in META_ADS_MAP.items() if name in MONEY_FIELDS
    ]
    compute = importer.fast.compute if importer.fast else None
    source = "facebook"
    period = importer.now.astimezone(UTC)
    for line, row in rows:
        if compute is not None and len(row) == width:
            ad_id, campaign = row[i_ad].strip(), row[i_campaign].strip()
            counts = [0] * len(COUNT_FIELDS)
            money: list[int | None] = [None] * len(MONEY_FIELDS)
            plain = bool(ad_id and campaign)
            for at, i in count_at:
                n = parse_count(row[i])
                if n is None:
                    plain = False
                    break
                counts[at] = n
            for at, i in money_at:
                m = parse_cents(row[i].strip())  # a blank amount is an error here: the original path says so
                if m is None:
                    plain = False
                    break
                money[at] = m
            values = compute(tuple(counts), tuple(money), source, period, period) if plain else None
            if values is not None:
                yield _Row(
                    line, f"meta-ads:{campaign}", f"Facebook campaign {campaign}", f"meta-ads:ad:{ad_id}", values
                )
                continue
        yield _meta_row(_as_dict(header, row), line, importer)


def _csv_key(ordered: list[tuple[str, str]], record: dict[str | None, Any], line: int) -> str:
    # The key is the row's content and the line it ends on. Importing the same file again gives every
    # row its key again, and so does a file with rows appended (the earlier rows keep their lines and
    # content), so only new rows are stored; two identical rows on different lines are two records.
    # Nothing is remembered across rows, so memory does not grow with the file (the earlier key,
    # content + "#n-th repeat", needed a counter of every distinct row). A file edited above a row
    # (lines inserted or removed) moves that row's line: it is stored again, as a changed file is.
    content = "\x1f".join(f"{k}={record.get(c, '')}" for k, c in ordered)
    return "csv:" + hashlib.sha256(content.encode()).hexdigest()[:40] + f"@{line}"


def _csv_row(record: dict[str | None, Any], line: int, mapping: dict[str, str], importer: _Importer) -> _Row | Skip:
    """One row of a mapped CSV the original way (the fast path's fallback and its reference)."""
    if _ragged(record):
        return Skip(line, RAGGED)
    key = _csv_key(sorted(mapping.items()), record, line)
    try:
        title = (record.get(mapping["campaign"]) or "").strip()
        if not title:
            raise ValidationFailed("the campaign column is empty", field="campaign")
        if len(title) > campaigns.MAX_TITLE:
            raise ValidationFailed(f"campaign title is longer than {campaigns.MAX_TITLE} characters", field="campaign")
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
        return Skip(line, exc.message)
    return _Row(
        line=line,
        campaign_key=f"title:{title}",
        campaign_title=title,
        idempotency_key=key,
        values=from_decimals(values, performance.VALUE_COLUMNS),
    )


def _csv_rows(fh: TextIO, mapping: dict[str, str], importer: _Importer) -> Iterator[_Row | Skip]:
    header, rows = _records(fh)
    missing = [c for c in mapping.values() if c not in (header or [])]
    if missing:
        raise ValidationFailed(f"the file has no column(s) {', '.join(missing)}", field="map")
    assert header is not None
    index = {name: i for i, name in enumerate(header)}  # a repeated column: the last one, as in DictReader
    width = len(header)
    ordered = sorted(mapping.items())
    # the key's content: "field=cell" joined by \x1f, in field order
    key_at = [(f"{k}=", index[c]) for k, c in ordered]
    i_title = index[mapping["campaign"]]
    i_date = index[mapping["date"]] if "date" in mapping else None
    i_source = index[mapping["source"]] if "source" in mapping else None
    count_at = [(COUNT_FIELDS.index(name), index[column]) for name, column in mapping.items() if name in COUNT_FIELDS]
    money_at = [(MONEY_FIELDS.index(name), index[column]) for name, column in mapping.items() if name in MONEY_FIELDS]
    n_counts, n_money = len(COUNT_FIELDS), len(MONEY_FIELDS)
    compute = importer.fast.compute if importer.fast else None
    cached = _Cached(importer)
    now = importer.now.astimezone(UTC)
    sha256 = hashlib.sha256
    max_title = campaigns.MAX_TITLE
    for line, row in rows:
        if compute is not None and len(row) == width:
            values = None
            title = row[i_title].strip()
            if title and len(title) <= max_title:
                counts = [0] * n_counts
                money: list[int | None] = [None] * n_money
                plain = True
                for at, i in count_at:
                    raw = row[i]
                    if raw:  # an empty cell counts 0
                        n = parse_count(raw)
                        if n is None:
                            plain = False
                            break
                        counts[at] = n
                if plain:
                    for at, i in money_at:
                        text = row[i].strip()
                        if text:  # a blank amount is not given
                            m = parse_cents(text)
                            if m is None:
                                plain = False
                                break
                            money[at] = m
                if plain:
                    try:
                        period = now if i_date is None else cached.period(row[i_date].strip())
                        source = "import" if i_source is None else cached.source(row[i_source].strip() or "import")
                    except ValidationFailed:
                        pass
                    else:
                        values = compute(tuple(counts), tuple(money), source, period, period)
            if values is not None:
                content = "\x1f".join([prefix + row[i] for prefix, i in key_at])
                key = "csv:" + sha256(content.encode()).hexdigest()[:40] + f"@{line}"
                yield _Row(line, f"title:{title}", title, key, values)
                continue
        yield _csv_row(_as_dict(header, row), line, mapping, importer)


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
        return await importer.run(_meta_rows(fh, importer), by_ref=True)


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
        return await importer.run(_csv_rows(fh, mapping, importer), by_ref=False)
