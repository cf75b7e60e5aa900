"""Results: JSON and a markdown table in bench/results/, with the machine's facts; the README's table."""

from __future__ import annotations

import json
import os
import platform
import re
import shutil
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.harness import REPO, Bench, Result

RESULTS = REPO / "bench" / "results"
README_START = "<!-- bench:start -->"
README_END = "<!-- bench:end -->"


def _version(args: list[str]) -> str | None:
    if not shutil.which(args[0]):
        return None
    try:
        out = subprocess.run(args, capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired):
        return None
    text = (out.stdout or out.stderr).strip().splitlines()
    return text[0] if text else None


async def machine(bench: Bench) -> dict[str, Any]:
    import importlib.metadata as md

    conn = await bench.connect()
    try:
        pg = await conn.fetchval("SHOW server_version")
    finally:
        await conn.close()
    import redis.asyncio as aioredis

    r = aioredis.from_url(bench.redis_url)
    try:
        redis_version = (await r.info("server")).get("redis_version")
    finally:
        await r.aclose()
    commit = _version(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"])
    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "cores": os.cpu_count(),
        "cpu": _cpu_model(),
        "os": platform.platform(),
        "python": sys.version.split()[0],
        "postgresql": pg,
        "redis": redis_version,
        "wrk": _version(["wrk", "-v"]),
        "node": _version(["node", "--version"]),
        "packages": {p: md.version(p) for p in ("strawberry-graphql", "starlette", "uvicorn", "sqlalchemy", "asyncpg")},
        "commit": commit,
        "scale": bench.scale.name,
    }


def _cpu_model() -> str | None:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return None


def _fmt(value: float | None, unit: str) -> str:
    if value is None:
        return "—"
    if unit in ("req/s", "rows/s"):
        return f"{value:,.0f} {unit}"
    return f"{value:,.1f} {unit}" if value >= 10 else f"{value:,.2f} {unit}"


def markdown(results: list[Result], facts: dict[str, Any], env: dict[str, Any]) -> str:
    lines = [
        f"Measured {env['date']} on {env['cores']} cores ({env.get('cpu') or 'unknown CPU'}), PostgreSQL "
        f"{env['postgresql']}, Redis {env['redis']}, Python {env['python']}, commit {env.get('commit')}, "
        f"scale {env['scale']}. Ratio = eventops ÷ baseline. `make bench` regenerates this.",
        "",
        "| Benchmark | Metric | eventops | Baseline | Ratio | Peer | Target | Met |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        ratio = "—" if r.ratio is None else f"{r.ratio:.2f}×"
        peer = (
            "—"
            if r.peer is None
            else f"{_fmt(r.peer, r.unit)} ({r.peer_name}; eventops ÷ peer {r.eventops / r.peer:.2f}×)"
            if r.eventops
            else "—"
        )
        met = {True: "yes", False: "**no**", None: "—"}[r.met]
        base = f"{_fmt(r.baseline, r.unit)} ({r.baseline_name})" if r.baseline is not None else "—"
        ours = _fmt(r.eventops, r.unit) + (f" — {r.note}" if r.note else "")
        lines.append(f"| {r.benchmark} | {r.metric} | {ours} | {base} | {ratio} | {peer} | {r.target} | {met} |")
    notes = {k: v for k, v in facts.items() if not k.startswith("_")}
    if notes:
        lines += ["", "Run facts: " + "; ".join(f"{k}: {v}" for k, v in notes.items())]
    return "\n".join(lines) + "\n"


def write(bench: Bench, env: dict[str, Any], out_dir: Path, *, readme: bool) -> dict[str, Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    stamp = env["date"].replace(":", "").replace("-", "")
    data = {
        "machine": env,
        "facts": {k: v for k, v in bench.facts.items() if not k.startswith("_")},
        "results": [r.as_dict() for r in bench.results],
    }
    text = json.dumps(data, indent=2, default=str)
    table = markdown(bench.results, data["facts"], env)
    paths = {
        "json": out_dir / f"{stamp}-{env['scale']}.json",
        "latest_json": out_dir / f"latest-{env['scale']}.json",
        "markdown": out_dir / f"latest-{env['scale']}.md",
    }
    paths["json"].write_text(text)
    paths["latest_json"].write_text(text)
    paths["markdown"].write_text(table)
    if readme:
        update_readme(table)
    return paths


def update_readme(table: str) -> None:
    path = REPO / "README.md"
    text = path.read_text() if path.exists() else "# eventops\n"
    block = f"{README_START}\n{table}{README_END}"
    if README_START in text:
        text = re.sub(re.escape(README_START) + ".*?" + re.escape(README_END), lambda _: block, text, flags=re.S)
    else:
        text = text.rstrip() + "\n\n## Benchmarks\n\n" + block + "\n"
    path.write_text(text)
