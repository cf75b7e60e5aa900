"""What every benchmark shares: scale, servers, the bench database, API processes, wrk, timing helpers."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from app.database import asyncpg_dsn

REPO = Path(__file__).resolve().parent.parent
SECRET = "bench-secret"


@dataclass(frozen=True)
class Scale:
    """Sizes of one run. BENCH_SCALE=smoke runs every benchmark at tiny sizes in seconds (the smoke test)."""

    name: str
    seconds: float  # per wrk point
    rounds: int  # baseline and eventops alternate this many times per point
    concurrencies: tuple[int, ...]
    campaigns: int
    records: int
    read_samples: int
    group_by_samples: int
    subscribers: int
    alerts: int
    import_rows: int
    peers: bool  # PostGraphile (npm) runs only in the full bench

    @classmethod
    def from_env(cls) -> Scale:
        name = os.environ.get("BENCH_SCALE", "full")
        if name == "smoke":
            return cls("smoke", 1.0, 1, (4,), 20, 2_000, 20, 2, 10, 3, 2_000, False)
        if name != "full":
            raise SystemExit(f"BENCH_SCALE must be full or smoke, got {name!r}")
        return cls("full", 6.0, 2, (16, 64), 10_000, 1_000_000, 300, 5, 1_000, 20, 1_000_000, True)


@dataclass
class Result:
    """One row of the results table: eventops beside its baseline (ratio = eventops / baseline)."""

    benchmark: str
    metric: str
    unit: str
    eventops: float | None
    baseline: float | None
    baseline_name: str
    target: str
    met: bool | None
    peer: float | None = None
    peer_name: str | None = None
    note: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def ratio(self) -> float | None:
        if self.eventops is None or not self.baseline:
            return None
        return self.eventops / self.baseline

    def as_dict(self) -> dict[str, Any]:
        return {**self.__dict__, "ratio": self.ratio}


@dataclass
class Bench:
    """The run's shared state: the bench database, Redis, a service key, log folder and results."""

    scale: Scale
    database_url: str
    redis_url: str
    redis_prefix: str
    workdir: Path
    service_key: str = ""
    results: list[Result] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)

    def env(self, **extra: str) -> dict[str, str]:
        return {
            **os.environ,
            "DATABASE_URL": self.database_url,
            "REDIS_URL": self.redis_url,
            "SECRET_KEY": SECRET,
            "REDIS_PREFIX": self.redis_prefix,
            "LOG_LEVEL": "WARNING",
            "ENVIRONMENT": "production",
            **extra,
        }

    async def connect(self) -> asyncpg.Connection:
        return await asyncpg.connect(asyncpg_dsn(self.database_url))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_http(url: str, proc: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{proc.args!r} exited with {proc.returncode}")
        try:
            if httpx.get(url, timeout=1).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer within {timeout} s")


@contextmanager
def process(
    args: list[str], *, env: dict[str, str], ready_url: str, log: Path, cwd: Path = REPO
) -> Iterator[subprocess.Popen[bytes]]:
    """A server subprocess, up when ready_url answers, stopped (SIGTERM, then SIGKILL) afterwards."""
    with log.open("wb") as out:
        proc = subprocess.Popen(args, env=env, cwd=cwd, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            wait_http(ready_url, proc)
            yield proc
        finally:
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()


@contextmanager
def eventops_api(bench: Bench, label: str = "api") -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """One eventops API process (uvicorn, one worker), authentication on; yields (graphql url, process)."""
    port = free_port()
    args = [sys.executable, "-m", "app.cli", "serve", "--port", str(port)]
    with process(
        args, env=bench.env(), ready_url=f"http://127.0.0.1:{port}/healthz", log=bench.workdir / f"{label}.log"
    ) as p:
        yield f"http://127.0.0.1:{port}/graphql", p


def peak_rss_kib(pid: int) -> int:
    """The process's peak resident set size so far (VmHWM)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


# --- wrk -------------------------------------------------------------------------------------------------

WRK_SCRIPT = """
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
{auth}
local bodies = {bodies}
local n = 0
request = function()
  n = n + 1
  return wrk.format(nil, nil, nil, bodies[(n % #bodies) + 1])
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "WRKJSON {{\\"requests\\":%d,\\"duration_us\\":%d,\\"p50_us\\":%d,\\"p99_us\\":%d," ..
    "\\"socket_errors\\":%d,\\"non2xx\\":%d}}\\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.connect + e.read + e.write + e.timeout, e.status))
end
"""


def ensure_wrk() -> str | None:
    """wrk's path; installs Debian's package when missing and allowed (root), else None."""
    found = shutil.which("wrk")
    if found or os.environ.get("BENCH_NO_INSTALL"):
        return found
    if os.geteuid() == 0 and shutil.which("apt-get"):
        subprocess.run(["apt-get", "install", "-y", "-q", "wrk"], capture_output=True, timeout=300)
    return shutil.which("wrk")


@dataclass
class LoadPoint:
    requests_per_s: float
    p50_ms: float
    p99_ms: float
    requests: int
    failures: int
    tool: str


def wrk(
    url: str, bodies: list[dict[str, Any]], *, key: str | None, connections: int, seconds: float, workdir: Path
) -> LoadPoint:
    exe = ensure_wrk()
    if exe is None:
        return python_load(url, bodies, key=key, connections=connections, seconds=seconds)
    script = workdir / f"wrk-{uuid.uuid4().hex[:8]}.lua"
    auth = f'wrk.headers["Authorization"] = "Bearer {key}"' if key else ""
    lua_bodies = "{" + ", ".join(json.dumps(json.dumps(b)) for b in bodies) + "}"
    script.write_text(WRK_SCRIPT.format(bodies=lua_bodies, auth=auth))
    threads = max(1, min(2, connections))
    out = subprocess.run(
        [exe, "-t", str(threads), "-c", str(connections), "-d", f"{max(1, round(seconds))}s", "-s", str(script), url],
        capture_output=True,
        text=True,
        timeout=seconds + 60,
    )
    line = next((ln for ln in out.stdout.splitlines() if ln.startswith("WRKJSON ")), None)
    if line is None:
        raise RuntimeError(f"wrk gave no result: {out.stdout}\n{out.stderr}")
    data = json.loads(line[len("WRKJSON ") :])
    return LoadPoint(
        requests_per_s=data["requests"] / (data["duration_us"] / 1e6),
        p50_ms=data["p50_us"] / 1000,
        p99_ms=data["p99_us"] / 1000,
        requests=data["requests"],
        failures=data["socket_errors"] + data["non2xx"],
        tool="wrk",
    )


def python_load(
    url: str, bodies: list[dict[str, Any]], *, key: str | None, connections: int, seconds: float
) -> LoadPoint:
    """Fallback load generator (httpx, keep-alive) in a separate process, so it is not the server's bottleneck."""
    code = f"""
import asyncio, json, time, httpx, sys
async def main():
    url, bodies, key, conns, secs = {url!r}, {[json.dumps(b) for b in bodies]!r}, {key!r}, {connections}, {seconds}
    headers = {{"content-type": "application/json"}}
    if key: headers["authorization"] = "Bearer " + key
    lat, fails = [], 0
    limits = httpx.Limits(max_connections=conns, max_keepalive_connections=conns)
    async with httpx.AsyncClient(limits=limits, headers=headers, timeout=30) as c:
        end = time.perf_counter() + secs
        async def worker(w):
            nonlocal fails
            i = w
            while time.perf_counter() < end:
                i += 1
                t = time.perf_counter()
                r = await c.post(url, content=bodies[i % len(bodies)])
                lat.append(time.perf_counter() - t)
                if r.status_code != 200: fails += 1
        t0 = time.perf_counter()
        await asyncio.gather(*(worker(w) for w in range(conns)))
        took = time.perf_counter() - t0
    lat.sort()
    n = len(lat)
    print(json.dumps({{"n": n, "took": took, "p50": lat[n // 2], "p99": lat[int(n * 0.99)], "fails": fails}}))
asyncio.run(main())
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=seconds + 120)
    data = json.loads(out.stdout.strip().splitlines()[-1])
    return LoadPoint(
        data["n"] / data["took"], data["p50"] * 1000, data["p99"] * 1000, data["n"], data["fails"], "python"
    )


# --- timing --------------------------------------------------------------------------------------------


def p50(samples: list[float]) -> float:
    return statistics.median(samples)


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))]


async def create_service_key(bench: Bench) -> str:
    from app.database import create_engine, create_sessionmaker, transaction
    from app.services import api_keys
    from app.settings import Settings

    settings = Settings(_env_file=None, database_url=bench.database_url, secret_key=SECRET)  # type: ignore[call-arg]
    engine = create_engine(settings, bench.database_url)
    try:
        async with transaction(create_sessionmaker(engine)) as s:
            _, key = await api_keys.create_key(s, name="bench service", role="service", secret=SECRET)
    finally:
        await engine.dispose()
    return key


def run_async(coro: Any) -> Any:
    return asyncio.run(coro)


def new_workdir() -> Path:
    return Path(tempfile.mkdtemp(prefix="eventops-bench-"))
