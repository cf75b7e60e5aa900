"""A tiny run of every benchmark: well-formed results, never a speed assertion (benchmarks are not tests)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_every_benchmark_runs_at_smoke_scale_and_writes_results(tmp_path: Path) -> None:
    env = {**os.environ, "BENCH_SCALE": "smoke", "BENCH_RESULTS": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-m", "bench"], cwd=REPO, env=env, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stderr[-3000:]
    data = json.loads((tmp_path / "latest-smoke.json").read_text())
    assert data["machine"]["cores"] >= 1 and data["machine"]["postgresql"] and data["machine"]["scale"] == "smoke"
    by_name = {(r["benchmark"].split(":")[0], r["metric"]): r for r in data["results"]}
    assert {"write", "read", "alerts", "import", "memory"} <= {name for name, _ in by_name}
    for r in data["results"]:
        if r["note"].startswith("skipped"):
            assert r["eventops"] is None and r["met"] is None
            continue
        assert r["eventops"] > 0, r
        if r["baseline"] is not None:
            assert r["baseline"] > 0, r
            # the ratio is computed from the two measured values
            assert r["ratio"] == pytest.approx(r["eventops"] / r["baseline"]), r
    throughput = [r for r in data["results"] if r["benchmark"].startswith("write") and r["metric"] == "throughput"]
    assert {r["benchmark"] for r in throughput} == {"write: logError, c=4", "write: recordPerformance, c=4"}
    assert all(r["extra"]["eventops"]["failures"] == 0 for r in throughput)
    table = (tmp_path / "latest-smoke.md").read_text()
    assert "| Benchmark | Metric | eventops | Baseline | Ratio |" in table
    # the README is left alone when results go elsewhere
    assert not (tmp_path / "README.md").exists()
