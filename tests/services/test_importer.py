"""Importing a real Facebook Ads export and arbitrary CSVs: totals to the cent, re-import, bad rows."""

from __future__ import annotations

import csv
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.errors import ValidationFailed
from app.models import Campaign, PerformanceRecord
from app.runtime import Runtime
from app.services import analytics, importer
from app.services.performance import score_rules
from app.settings import Settings

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "meta_ads_kag.csv"


def file_totals() -> dict[str, dict[str, object]]:
    """The export's own totals per campaign, computed straight from the file."""
    totals: dict[str, dict[str, object]] = defaultdict(lambda: {"views": 0, "clicks": 0, "spend": Decimal(0), "ads": 0})
    with FIXTURE.open(encoding="utf-8-sig") as fh:
        for row in csv.DictReader(fh):
            t = totals[row["xyz_campaign_id"]]
            t["views"] += int(row["Impressions"])  # type: ignore[operator]
            t["clicks"] += int(row["Clicks"])  # type: ignore[operator]
            # the spec: amounts with float noise are rounded half-up to cents on import
            t["spend"] += Decimal(row["Spent"]).quantize(Decimal("0.01"), ROUND_HALF_UP)  # type: ignore[operator]
            t["ads"] += 1  # type: ignore[operator]
    return totals


async def _analytics_by_title(runtime: Runtime, settings: Settings) -> dict[str, analytics.TotalPerformance]:
    out = {}
    async with runtime.sessionmaker() as s:
        for c in (await s.scalars(select(Campaign))).all():
            out[c.title] = (await analytics.campaign_analytics(s, score_rules(settings), c.id)).total
    return out


async def test_meta_ads_export_imports_three_campaigns_matching_the_files_totals(
    runtime: Runtime, settings: Settings
) -> None:
    summary = await importer.import_meta_ads(runtime.sessionmaker, settings, FIXTURE)
    assert (summary.rows_read, summary.imported, len(summary.skipped)) == (1143, 1143, 0)
    got = await _analytics_by_title(runtime, settings)
    expected = file_totals()
    assert sorted(got) == sorted(f"Facebook campaign {k}" for k in expected)
    for campaign_id, t in expected.items():
        a = got[f"Facebook campaign {campaign_id}"]
        assert a.records == t["ads"]
        assert a.total_views == t["views"] and a.total_clicks == t["clicks"]
        assert a.total_ad_spend == t["spend"]
        ctr = (Decimal(t["clicks"]) / Decimal(t["views"]) * 100).quantize(Decimal("0.0001"), ROUND_HALF_UP)  # type: ignore[arg-type]
        assert a.derived.ctr == ctr
    # the three campaigns of this export, to the cent
    assert got["Facebook campaign 916"].total_ad_spend == Decimal("149.71")
    assert got["Facebook campaign 1178"].total_views == 204823716

    again = await importer.import_meta_ads(runtime.sessionmaker, settings, FIXTURE)
    assert (again.imported, again.already_present) == (0, 1143)
    assert await _analytics_by_title(runtime, settings) == got
    async with runtime.sessionmaker() as s:
        assert await s.scalar(select(func.count()).select_from(PerformanceRecord)) == 1143
        assert await s.scalar(select(func.count()).select_from(Campaign)) == 3


async def test_rows_with_more_conversions_than_clicks_and_spend_without_clicks_are_kept(
    runtime: Runtime, settings: Settings, tmp_path: Path
) -> None:
    f = tmp_path / "quirks.csv"
    f.write_text(
        "ad_id,xyz_campaign_id,fb_campaign_id,age,gender,interest,Impressions,Clicks,Spent,Total_Conversion,Approved_Conversion\n"
        "1,916,1,30-34,M,15,693,0,1.429999948,3,1\n"
    )
    summary = await importer.import_meta_ads(runtime.sessionmaker, settings, f)
    assert summary.imported == 1
    async with runtime.sessionmaker() as s:
        r = await s.scalar(select(PerformanceRecord))
    assert (
        r is not None and r.ad_spend == Decimal("1.43") and r.new_signups == 3 and r.cost_per_signup == Decimal("0.48")
    )


async def test_bad_rows_are_skipped_with_line_and_reason_and_the_rest_land(
    runtime: Runtime, settings: Settings, tmp_path: Path
) -> None:
    f = tmp_path / "any.csv"
    f.write_text(
        "Campaign,Day,Views,Clicks,Cost,Revenue\n"
        "Spring,2026-11-01,1000,10,5.00,50\n"  # line 2: fine
        "Spring,2026-11-02,-5,1,1,1\n"  # line 3: negative count
        "Spring,2026-11-03,abc,1,1,1\n"  # line 4: not a number
        ",2026-11-04,1,1,1,1\n"  # line 5: no campaign
        "Autumn,2026-11-05,10,1,NaN,1\n"  # line 6: NaN money
        "Autumn,yesterday,10,1,1,1\n"  # line 7: bad date
        "Autumn,2026-11-06,10,1,2.5,30\n"  # line 8: fine
        "Spring,2026-11-01,1000,10,5.00,50\n"  # line 9: identical to line 2, a second real row
    )
    mapping = importer.parse_mapping(
        "campaign=Campaign,date=Day,views=Views,clicks=Clicks,ad_spend=Cost,gross_revenue=Revenue"
    )
    summary = await importer.import_csv(runtime.sessionmaker, settings, f, mapping)
    assert summary.rows_read == 8 and summary.imported == 3
    assert [(s.line, s.reason.split(" ")[0]) for s in summary.skipped] == [
        (3, "views"),
        (4, "views"),
        (5, "the"),
        (6, "ad_spend"),
        (7, "date"),
    ]
    again = await importer.import_csv(runtime.sessionmaker, settings, f, mapping)
    assert (again.imported, again.already_present) == (0, 3)
    async with runtime.sessionmaker() as s:
        spring = await s.scalar(select(Campaign).where(Campaign.title == "Spring"))
        assert spring is not None
        total = await s.scalar(
            select(func.sum(PerformanceRecord.views)).where(PerformanceRecord.campaign_id == spring.id)
        )
    assert total == 2000


def test_mapping_errors_name_the_problem() -> None:
    with pytest.raises(ValidationFailed, match="campaign"):
        importer.parse_mapping("views=Impressions")
    with pytest.raises(ValidationFailed, match="roi"):
        importer.parse_mapping("campaign=C,roi=R")
    with pytest.raises(ValidationFailed, match="FIELD=COLUMN"):
        importer.parse_mapping("campaign")


async def test_a_file_that_is_not_an_export_is_refused_before_anything_is_stored(
    runtime: Runtime, settings: Settings, tmp_path: Path
) -> None:
    f = tmp_path / "other.csv"
    f.write_text("a,b\n1,2\n")
    with pytest.raises(ValidationFailed, match="missing column"):
        await importer.import_meta_ads(runtime.sessionmaker, settings, f)


async def test_ragged_rows_are_skipped_and_a_field_mapped_twice_is_refused(
    runtime: Runtime, settings: Settings, tmp_path: Path
) -> None:
    f = tmp_path / "ragged.csv"
    f.write_text("Campaign,Views,Cost\nA,10,1.00\nB,10\nC,10,1.00,extra\n")
    mapping = importer.parse_mapping("campaign=Campaign,views=Views,ad_spend=Cost")
    summary = await importer.import_csv(runtime.sessionmaker, settings, f, mapping)
    assert summary.imported == 1
    assert [(s.line, s.reason) for s in summary.skipped] == [
        (3, "the row does not have as many cells as the header"),
        (4, "the row does not have as many cells as the header"),
    ]
    with pytest.raises(ValidationFailed, match="twice"):
        importer.parse_mapping("campaign=C,views=Impressions,views=Clicks")
