"""1. Write path: logError and recordPerformance over HTTP keep-alive at concurrency 16 and 64 (wrk).

Baseline: a bare Starlette + asyncpg app doing the same inserts (bench/baselines/starlette_app.py).
Peer: PostGraphile 4 on the same tables (full bench, when node/npm are present). Baseline and eventops
alternate, `rounds` times per point; the mean of the rounds is reported.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from bench.harness import Bench, LoadPoint, Result, eventops_api, free_port, peak_rss_kib, process, wrk

CAMPAIGNS = 100  # writes spread over this many campaigns (each insert locks its campaign's rollup row)

LOG_ERROR = (
    'mutation { logError(input: {operationType: "social_posting", errorType: API_ERROR, '
    'errorMessage: "bench: upstream 502", platform: "facebook"}) { id } }'
)
RECORD = (
    "mutation($c: ID!) { recordPerformance(campaignId: $c, input: {views: 1000, clicks: 50, newSignups: 5, "
    'grossRevenue: "120.00", adSpend: "40.00"}) { id roi } }'
)
PG_LOG_ERROR = (
    "mutation { createAutonomousOperationError(input: {autonomousOperationError: {operationType: "
    '"social_posting", errorType: "api_error", errorMessage: "bench: upstream 502", platform: "facebook"}}) '
    "{ autonomousOperationError { id } } }"
)
PG_RECORD = (
    "mutation($c: UUID!) { createCampaignPerformanceMetric(input: {campaignPerformanceMetric: {campaignId: $c, "
    'source: "manual", periodStart: "2026-12-01T00:00:00Z", periodEnd: "2026-12-01T00:00:00Z", views: "1000", '
    'clicks: "50", newSignups: "5", grossRevenue: "120.00", netRevenue: "114.00", adSpend: "40.00", '
    'totalCost: "40.00"}}) { campaignPerformanceMetric { id } } }'
)


def _bodies(kind: str, campaigns: list[str]) -> dict[str, list[dict[str, Any]]]:
    if kind == "logError":
        return {
            "eventops": [{"query": LOG_ERROR}],
            "baseline": [
                {
                    "operationType": "social_posting",
                    "errorType": "api_error",
                    "errorMessage": "bench: upstream 502",
                    "platform": "facebook",
                }
            ],
            "postgraphile": [{"query": PG_LOG_ERROR}],
        }
    return {
        "eventops": [{"query": RECORD, "variables": {"c": c}} for c in campaigns],
        "baseline": [
            {
                "campaignId": c,
                "views": 1000,
                "clicks": 50,
                "newSignups": 5,
                "grossRevenue": "120.00",
                "adSpend": "40.00",
            }
            for c in campaigns
        ],
        "postgraphile": [{"query": PG_RECORD, "variables": {"c": c}} for c in campaigns],
    }


@contextmanager
def baseline_app(bench: Bench) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    port = free_port()
    args = [
        sys.executable,
        "-m",
        "uvicorn",
        "bench.baselines.starlette_app:app",
        "--port",
        str(port),
        "--log-level",
        "warning",
        "--no-access-log",
    ]
    with process(
        args, env=bench.env(), ready_url=f"http://127.0.0.1:{port}/healthz", log=bench.workdir / "baseline.log"
    ) as p:
        yield f"http://127.0.0.1:{port}", p


def _postgraphile_dir() -> Path:
    return Path(os.environ.get("BENCH_NODE_CACHE", Path.home() / ".cache" / "eventops-bench" / "postgraphile"))


@contextmanager
def postgraphile(bench: Bench) -> Iterator[str | None]:
    """PostGraphile 4 from npm, installed once into a cache folder; yields its URL, or None with the reason
    recorded in bench.facts["postgraphile"]."""
    if not (shutil.which("node") and shutil.which("npm") and shutil.which("npx")):
        bench.facts["postgraphile"] = "not run: node/npm not installed"
        yield None
        return
    folder = _postgraphile_dir()
    folder.mkdir(parents=True, exist_ok=True)
    if not (folder / "node_modules" / ".bin" / "postgraphile").exists():
        done = subprocess.run(
            ["npm", "install", "--silent", "--no-audit", "--no-fund", "postgraphile@4"],
            cwd=folder,
            capture_output=True,
            text=True,
            timeout=600,
        )
        if done.returncode != 0:
            bench.facts["postgraphile"] = f"not run: npm install failed: {done.stderr.strip()[-300:]}"
            yield None
            return
    version = json.loads((folder / "node_modules" / "postgraphile" / "package.json").read_text())["version"]
    bench.facts["postgraphile"] = f"postgraphile {version}, --dynamic-json, no authentication"
    port = free_port()
    args = [
        str(folder / "node_modules" / ".bin" / "postgraphile"),
        "-c",
        bench.database_url,
        "--dynamic-json",
        "--port",
        str(port),
        "--host",
        "127.0.0.1",
        "--disable-query-log",
    ]
    try:
        with process(
            args,
            env=bench.env(),
            ready_url=f"http://127.0.0.1:{port}/graphql",
            log=bench.workdir / "postgraphile.log",
            cwd=folder,
        ):
            yield f"http://127.0.0.1:{port}/graphql"
    except RuntimeError as exc:
        bench.facts["postgraphile"] = f"not run: {exc}"
        yield None


def _check(url: str, body: dict[str, Any], key: str | None) -> None:
    headers = {"authorization": f"Bearer {key}"} if key else {}
    r = httpx.post(url, json=body, headers=headers, timeout=30)
    if r.status_code != 200 or "errors" in r.text[:200]:
        raise RuntimeError(f"{url} refused the benchmark request: {r.status_code} {r.text[:300]}")


def _mean(points: list[LoadPoint]) -> LoadPoint:
    return LoadPoint(
        statistics.fmean(p.requests_per_s for p in points),
        statistics.fmean(p.p50_ms for p in points),
        statistics.fmean(p.p99_ms for p in points),
        sum(p.requests for p in points),
        sum(p.failures for p in points),
        points[0].tool,
    )


async def _campaigns(bench: Bench) -> list[str]:
    conn = await bench.connect()
    try:
        rows = await conn.fetch(
            "INSERT INTO campaigns (title) SELECT 'write bench ' || g FROM generate_series(1, $1) g RETURNING id",
            CAMPAIGNS,
        )
    finally:
        await conn.close()
    return [str(r["id"]) for r in rows]


def run(bench: Bench) -> None:
    import asyncio

    campaigns = asyncio.run(_campaigns(bench))
    s = bench.scale
    with (
        baseline_app(bench) as (base, base_proc),
        eventops_api(bench, "api-write") as (api, api_proc),
        postgraphile(bench) if s.peers else _none() as peer,
    ):
        for kind in ("logError", "recordPerformance"):
            bodies = _bodies(kind, campaigns)
            base_url = f"{base}/{'log_error' if kind == 'logError' else 'record_performance'}"
            _check(base_url, bodies["baseline"][0], None)
            _check(api, bodies["eventops"][0], bench.service_key)
            if peer:
                try:
                    _check(peer, bodies["postgraphile"][0], None)
                except RuntimeError as exc:
                    bench.facts["postgraphile"] = f"not run: {exc}"
                    peer = None
            for conns in s.concurrencies:
                ours, theirs, peers = [], [], []
                for _ in range(s.rounds):
                    theirs.append(
                        wrk(
                            base_url,
                            bodies["baseline"],
                            key=None,
                            connections=conns,
                            seconds=s.seconds,
                            workdir=bench.workdir,
                        )
                    )
                    ours.append(
                        wrk(
                            api,
                            bodies["eventops"],
                            key=bench.service_key,
                            connections=conns,
                            seconds=s.seconds,
                            workdir=bench.workdir,
                        )
                    )
                    if peer:
                        peers.append(
                            wrk(
                                peer,
                                bodies["postgraphile"],
                                key=None,
                                connections=conns,
                                seconds=s.seconds,
                                workdir=bench.workdir,
                            )
                        )
                o, b = _mean(ours), _mean(theirs)
                pg = _mean(peers) if peers else None
                met = o.requests_per_s >= 0.5 * b.requests_per_s and (
                    pg is None or o.requests_per_s >= 1.5 * pg.requests_per_s
                )
                bench.results.append(
                    Result(
                        benchmark=f"write: {kind}, c={conns}",
                        metric="throughput",
                        unit="req/s",
                        eventops=o.requests_per_s,
                        baseline=b.requests_per_s,
                        baseline_name="bare Starlette + asyncpg",
                        target="≥ 0.5× baseline, ≥ 1.5× PostGraphile",
                        met=met,
                        peer=None if pg is None else pg.requests_per_s,
                        peer_name=None if pg is None else "PostGraphile 4",
                        note=f"{o.failures} failed requests" if o.failures else "",
                        extra={
                            "eventops": o.__dict__,
                            "baseline": b.__dict__,
                            "peer": None if pg is None else pg.__dict__,
                        },
                    )
                )
                bench.results.append(
                    Result(
                        benchmark=f"write: {kind}, c={conns}",
                        metric="p99 latency",
                        unit="ms",
                        eventops=o.p99_ms,
                        baseline=b.p99_ms,
                        baseline_name="bare Starlette + asyncpg",
                        target="< 30 ms at c=16" if conns == 16 else "—",
                        met=(o.p99_ms < 30) if conns == 16 else None,
                        peer=None if pg is None else pg.p99_ms,
                        peer_name=None if pg is None else "PostGraphile 4",
                        extra={
                            "p50_eventops_ms": o.p50_ms,
                            "p50_baseline_ms": b.p50_ms,
                            "p50_peer_ms": None if pg is None else pg.p50_ms,
                        },
                    )
                )
        bench.facts["api_peak_rss_kib_write"] = peak_rss_kib(api_proc.pid)
        bench.facts["baseline_peak_rss_kib_write"] = peak_rss_kib(base_proc.pid)


@contextmanager
def _none() -> Iterator[None]:
    yield None
