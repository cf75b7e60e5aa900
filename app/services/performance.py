"""Recording campaign performance: validate, derive every value per shared/spec/metrics.md, store once."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.database import driver_connection
from app.errors import NotFound, ValidationFailed
from app.models import PerformanceRecord
from app.models.performance import COUNT_FIELDS, MONEY_FIELDS
from app.services.metrics import ScoreRules, Totals, derive, money
from app.services.validation import check_count, check_identifier, check_money, check_text
from app.settings import Settings

MAX_IDEMPOTENCY_KEY = 200


@dataclass
class PerformanceInput:
    """What a caller may send; None means "not given" (counts default to 0, money per the spec)."""

    views: Any = None
    clicks: Any = None
    new_signups: Any = None
    new_organizers: Any = None
    new_events_created: Any = None
    tickets_sold: Any = None
    social_shares: Any = None
    social_likes: Any = None
    gross_revenue: Any = None
    net_revenue: Any = None
    ad_spend: Any = None
    ai_generation_cost: Any = None
    total_cost: Any = None
    source: Any = "manual"
    period_start: datetime | None = None
    period_end: datetime | None = None

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> PerformanceInput:
        names = {f.name for f in fields(cls)}
        unknown = set(data) - names
        if unknown:
            raise ValidationFailed(f"unknown field {sorted(unknown)[0]!r}", field=sorted(unknown)[0])
        return cls(**dict(data))


def score_rules(settings: Settings) -> ScoreRules:
    return ScoreRules(
        ctr_target=settings.score_ctr_target,
        conversion_target=settings.score_conversion_target,
        roi_target=settings.score_roi_target,
        weight_ctr=settings.score_weight_ctr,
        weight_conversion=settings.score_weight_conversion,
        weight_roi=settings.score_weight_roi,
    )


def _utc(value: datetime, field: str) -> datetime:
    if not isinstance(value, datetime):
        raise ValidationFailed(f"{field} must be a date-time", field=field)
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValidationFailed(f"{field} must carry a time zone offset, for example 2026-12-01T00:00:00Z", field=field)
    return value.astimezone(UTC)


def build_values(
    data: PerformanceInput,
    settings: Settings,
    *,
    now: datetime,
    round_money: bool = False,
    rules: ScoreRules | None = None,
) -> dict[str, Any]:
    """Validated column values with the derived ones; raises ValidationFailed naming the field."""
    values: dict[str, Any] = {}
    for name in COUNT_FIELDS:
        raw = getattr(data, name)
        values[name] = 0 if raw is None else check_count(raw, name)
    given: dict[str, Decimal | None] = {}
    for name in MONEY_FIELDS:
        raw = getattr(data, name)
        given[name] = None if raw is None else check_money(raw, name, round_to_cents=round_money)
    gross = given["gross_revenue"] or Decimal(0)
    ad_spend = given["ad_spend"] or Decimal(0)
    ai_cost = given["ai_generation_cost"] or Decimal(0)
    net = given["net_revenue"]
    if net is None:
        net = money(gross * (1 - settings.platform_fee_rate))
    elif net > gross:
        raise ValidationFailed(f"net_revenue ({net}) must not exceed gross_revenue ({gross})", field="net_revenue")
    total_cost = given["total_cost"]
    if total_cost is None:
        total_cost = ad_spend + ai_cost
    elif total_cost < ad_spend + ai_cost:
        raise ValidationFailed(
            f"total_cost ({total_cost}) must not be below ad_spend + ai_generation_cost ({ad_spend + ai_cost})",
            field="total_cost",
        )
    values.update(
        gross_revenue=gross, net_revenue=net, ad_spend=ad_spend, ai_generation_cost=ai_cost, total_cost=total_cost
    )
    values["source"] = check_identifier(data.source if data.source is not None else "manual", "source", 32)
    start = now if data.period_start is None else _utc(data.period_start, "period_start")
    end = start if data.period_end is None else _utc(data.period_end, "period_end")
    if data.period_start is None and data.period_end is not None:
        start = end
    if end < start:
        raise ValidationFailed("period_end must not be before period_start", field="period_end")
    values["period_start"], values["period_end"] = start, end

    derived = derive(
        Totals(
            views=values["views"],
            clicks=values["clicks"],
            new_signups=values["new_signups"],
            new_organizers=values["new_organizers"],
            gross_revenue=gross,
            net_revenue=net,
            ad_spend=ad_spend,
            total_cost=total_cost,
        ),
        rules or score_rules(settings),
    ).rounded()
    values.update(
        ctr=derived.ctr,
        roi=derived.roi,
        roas=derived.roas,
        cost_per_signup=derived.cost_per_signup,
        cost_per_organizer=derived.cost_per_organizer,
        performance_score=derived.performance_score,
    )
    return values


def check_idempotency_key(key: str | None) -> str | None:
    if key is None:
        return None
    return check_text(key, "idempotency_key", MAX_IDEMPOTENCY_KEY, required=True)


async def record_performance(
    session: AsyncSession,
    settings: Settings,
    campaign_id: uuid.UUID,
    data: PerformanceInput,
    *,
    idempotency_key: str | None = None,
    now: datetime | None = None,
) -> tuple[PerformanceRecord, bool]:
    """Store one record; returns (record, created). A repeated idempotency key returns the first record."""
    key = check_idempotency_key(idempotency_key)
    values = build_values(data, settings, now=now or datetime.now(UTC))
    conn = await driver_connection(session)
    row = await conn.fetchrow(_ONE_SQL, campaign_id, key, *(values[name] for name, _ in _MANY_COLUMNS[2:]))
    if not row["campaign_found"]:
        raise NotFound(f"campaign {campaign_id} (campaignId) does not exist", field="campaignId")
    if row["id"] is not None:
        return PerformanceRecord(**{name: row[name] for name in _RECORD_COLUMNS}), True
    # The key was stored before: the first record is the answer (a replay; rare, so the plain ORM way).
    existing = await session.scalar(
        select(PerformanceRecord).where(
            PerformanceRecord.campaign_id == campaign_id, PerformanceRecord.idempotency_key == key
        )
    )
    assert existing is not None
    return existing, False


# Column order and PostgreSQL types of record_many's one-statement insert.
_MANY_COLUMNS: tuple[tuple[str, str], ...] = (
    ("campaign_id", "uuid"),
    ("idempotency_key", "text"),
    ("source", "varchar"),
    ("period_start", "timestamptz"),
    ("period_end", "timestamptz"),
    *((name, "bigint") for name in COUNT_FIELDS),
    *((name, "numeric") for name in MONEY_FIELDS),
    ("ctr", "numeric"),
    ("roi", "numeric"),
    ("roas", "numeric"),
    ("cost_per_signup", "numeric"),
    ("cost_per_organizer", "numeric"),
    ("performance_score", "smallint"),
)
_MANY_SQL = (
    "WITH stored AS (INSERT INTO campaign_performance_metrics ({cols}) SELECT * FROM unnest({arrays}) "
    "ON CONFLICT ON CONSTRAINT uq_performance_campaign_idempotency DO NOTHING RETURNING 1) "
    "SELECT count(*) FROM stored"
).format(
    cols=", ".join(name for name, _ in _MANY_COLUMNS),
    arrays=", ".join(f"${i}::{kind}[]" for i, (_, kind) in enumerate(_MANY_COLUMNS, 1)),
)


_RECORD_COLUMNS = tuple(c.key for c in PerformanceRecord.__table__.columns)
# record_performance in one round trip: the campaign check and the insert. Always one row: whether the
# campaign exists, and the stored record's columns (all NULL when nothing was stored: an unknown campaign,
# or an idempotency key stored before).
_ONE_SQL = (
    "WITH c AS (SELECT id FROM campaigns WHERE id = $1::uuid), "
    "ins AS (INSERT INTO campaign_performance_metrics ({cols}) SELECT c.id, {params} FROM c "
    "ON CONFLICT ON CONSTRAINT uq_performance_campaign_idempotency DO NOTHING RETURNING *) "
    "SELECT EXISTS (SELECT 1 FROM c) AS campaign_found, ins.* FROM (SELECT 1) AS one LEFT JOIN ins ON true"
).format(
    cols=", ".join(name for name, _ in _MANY_COLUMNS),
    params=", ".join(f"${i}::{kind}" for i, (_, kind) in enumerate(_MANY_COLUMNS[1:], 2)),
)


async def record_many(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> int:
    """Insert already-validated rows (build_values output plus campaign_id and idempotency_key);
    rows whose idempotency key exists are skipped. Returns how many were stored.

    One statement for the whole batch (column arrays through unnest): fast, and the rollup trigger then
    locks the batch's campaigns once, in its global order, so concurrent batches cannot deadlock.
    """
    if not rows:
        return 0
    columns = [[row[name] for row in rows] for name, _ in _MANY_COLUMNS]
    driver = await driver_connection(session)
    return int(await driver.fetchval(_MANY_SQL, *columns))


# The values build_values returns, in the column order of record_many's statement (after campaign_id and
# idempotency_key): the order of the import's rows and COPY lines.
VALUE_COLUMNS: tuple[str, ...] = tuple(name for name, _ in _MANY_COLUMNS[2:])


# record_copy: the batch goes to a per-connection temporary table by COPY (text format) and from there in
# one INSERT ... SELECT. asyncpg's binary encoding of a Decimal costs ~3 us and of a timestamptz ~2 us, so
# the unnest arrays cost ~30 us a row in the client; str() of the same values is a fraction of that, and
# PostgreSQL reads the text exactly (numeric keeps the digits and the scale, timestamps keep microseconds).
_COPY_TABLE = "eventops_import_rows"
_COPY_CREATE = "CREATE TEMPORARY TABLE IF NOT EXISTS {table} ({cols}) ON COMMIT DELETE ROWS".format(
    table=_COPY_TABLE,
    cols=", ".join(f"{name} {kind}" for name, kind in _MANY_COLUMNS),
)
_COPY_INSERT = (
    "WITH stored AS (INSERT INTO campaign_performance_metrics ({cols}) SELECT {cols} FROM {table} "
    "ON CONFLICT ON CONSTRAINT uq_performance_campaign_idempotency DO NOTHING RETURNING 1) "
    "SELECT count(*) FROM stored"
).format(cols=", ".join(name for name, _ in _MANY_COLUMNS), table=_COPY_TABLE)


async def record_copy(session: AsyncSession, lines: Sequence[str]) -> int:
    """record_many for rows already formatted as COPY text lines (row_values.CopyFormatter), with the same
    semantics: rows whose idempotency key exists are skipped; one INSERT, so the rollup trigger runs once."""
    if not lines:
        return 0
    driver = await driver_connection(session)
    await driver.execute(_COPY_CREATE)
    payload = ("\n".join(lines) + "\n").encode()
    await driver.copy_to_table(_COPY_TABLE, source=_BytesSource(payload), format="text")
    stored = int(await driver.fetchval(_COPY_INSERT))
    await driver.execute(f"TRUNCATE {_COPY_TABLE}")  # the same transaction may write another batch
    return stored


class _BytesSource:
    """An async iterable of one bytes payload (what asyncpg's copy_to_table reads)."""

    def __init__(self, payload: bytes) -> None:
        self.payload = payload

    def __aiter__(self) -> _BytesSource:
        self.done = False
        return self

    async def __anext__(self) -> bytes:
        if self.done:
            raise StopAsyncIteration
        self.done = True
        return self.payload
