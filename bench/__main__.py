"""`python -m bench` (`make bench`): every benchmark against real PostgreSQL and Redis, results to
bench/results/ and the README. BENCH_SCALE=smoke for a seconds-long run; BENCH_ONLY=write,read,... to
run a subset; BENCH_RESULTS=DIR to write elsewhere (the README is then left alone)."""

from __future__ import annotations

import asyncio
import os
import shutil
import sys
import time
import traceback
import uuid
from pathlib import Path

from bench import alerts, import_csv, memory, read_path, report, write_path
from bench.harness import Bench, Result, Scale, create_service_key, new_workdir

BENCHMARKS = {
    "write": write_path.run,
    "read": read_path.run,
    "alerts": alerts.run,
    "import": import_csv.run,
    "memory": memory.run,
}


def main(argv: list[str] | None = None) -> int:
    from app.migrate import upgrade
    from tests.servers import start_test_servers

    scale = Scale.from_env()
    only = [b for b in os.environ.get("BENCH_ONLY", "").split(",") if b] or list(BENCHMARKS)
    out_dir = Path(os.environ.get("BENCH_RESULTS") or report.RESULTS)
    servers = start_test_servers()
    print(f"bench: {servers.how}; scale {scale.name}", file=sys.stderr, flush=True)
    url = servers.new_database_url("bench")
    workdir = new_workdir()
    failed = False
    try:
        upgrade(url)
        bench = Bench(scale, url, servers.redis_url, f"eventops-bench-{uuid.uuid4().hex[:8]}", workdir)
        bench.service_key = asyncio.run(create_service_key(bench))
        for name in only:
            t0 = time.perf_counter()
            print(f"bench: {name} ...", file=sys.stderr, flush=True)
            try:
                BENCHMARKS[name](bench)
            except Exception as exc:  # noqa: BLE001 - one benchmark's failure is reported, the rest still run
                failed = True
                traceback.print_exc()
                bench.results.append(Result(name, "error", "", None, None, "—", "—", None, note=f"failed: {exc}"[:300]))
            print(f"bench: {name} done in {time.perf_counter() - t0:.0f} s", file=sys.stderr, flush=True)
        env = asyncio.run(report.machine(bench))
        paths = report.write(bench, env, out_dir, readme="BENCH_RESULTS" not in os.environ and scale.name == "full")
        print(paths["markdown"].read_text())
        print(f"bench: results in {paths['json']}", file=sys.stderr)
    finally:
        servers.close()
        shutil.rmtree(workdir, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
