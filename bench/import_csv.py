"""4. Import: rows per second of `eventops import csv` on a generated file (1,000,000 rows in the full run),
validation included. Baseline: PostgreSQL COPY of the same file into a table of the same columns."""

from __future__ import annotations

import asyncio
import csv
import os
import subprocess
import sys
import time
from pathlib import Path

from bench.harness import Bench, Result

MAP = "campaign=Campaign,date=Day,views=Views,clicks=Clicks,ad_spend=Cost,gross_revenue=Revenue"
CAMPAIGNS = 100


def generate(path: Path, rows: int, prefix: str) -> Path:
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["Campaign", "Day", "Views", "Clicks", "Cost", "Revenue"])
        for i in range(rows):
            w.writerow(
                [
                    f"{prefix} {i % CAMPAIGNS}",
                    f"2026-{1 + i % 12:02d}-{1 + i % 28:02d}",
                    1000 + (i * 7919) % 9000,
                    (i * 104729) % 400,
                    f"{((i * 4391) % 50000) / 100 + 1:.2f}",
                    f"{((i * 7727) % 90000) / 100:.2f}",
                ]
            )
    return path


def run_import(bench: Bench, path: Path) -> tuple[float, int, str]:
    """(seconds, peak RSS in KiB, summary) of one `eventops import csv` process."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "import", "csv", str(path), "--map", MAP],
        env=bench.env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    # wait4 gives this child's own rusage: its peak RSS.
    _, status, usage = os.wait4(proc.pid, 0)
    took = time.perf_counter() - t0
    out = proc.stdout.read().decode() if proc.stdout else ""
    err = proc.stderr.read().decode() if proc.stderr else ""
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"eventops import failed: {err[-500:]}")
    return took, int(usage.ru_maxrss), out


async def copy_baseline(bench: Bench, path: Path) -> float:
    conn = await bench.connect()
    try:
        await conn.execute(
            "CREATE TABLE IF NOT EXISTS bench_copy (campaign text, day date, views bigint, clicks bigint, "
            "cost numeric(16, 2), revenue numeric(16, 2))"
        )
        await conn.execute("TRUNCATE bench_copy")
        t0 = time.perf_counter()
        await conn.copy_to_table("bench_copy", source=str(path), format="csv", header=True)
        took = time.perf_counter() - t0
        await conn.execute("DROP TABLE bench_copy")
        return took
    finally:
        await conn.close()


def run(bench: Bench) -> None:
    rows = bench.scale.import_rows
    path = generate(bench.workdir / "import.csv", rows, "import bench")
    base = asyncio.run(copy_baseline(bench, path))
    took, peak, summary = run_import(bench, path)
    if f"imported: {rows:,}" not in summary:
        raise RuntimeError(f"import did not store every row:\n{summary[:500]}")
    bench.facts["import_peak_rss_kib"] = {rows: peak}
    ours, theirs = rows / took, rows / base
    bench.results.append(
        Result(
            benchmark=f"import: `eventops import csv`, {rows:,} rows",
            metric="throughput",
            unit="rows/s",
            eventops=ours,
            baseline=theirs,
            baseline_name="PostgreSQL COPY of the same file",
            target="≥ 50,000 rows/s",
            met=ours >= 50_000,
            extra={"eventops_seconds": took, "copy_seconds": base},
        )
    )
    path.unlink()
