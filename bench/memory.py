"""5. Memory: peak RSS of the API process under the write benchmark, and of the import at two file sizes
(the import streams: its peak must not grow with the file)."""

from __future__ import annotations

from bench.harness import Bench, Result
from bench.import_csv import generate, run_import


def run(bench: Bench) -> None:
    api = bench.facts.get("api_peak_rss_kib_write")
    base = bench.facts.get("baseline_peak_rss_kib_write")
    if api:
        bench.results.append(
            Result(
                benchmark="memory: API process under the write benchmark",
                metric="peak RSS",
                unit="MiB",
                eventops=api / 1024,
                baseline=(base or 0) / 1024 or None,
                baseline_name="bare Starlette + asyncpg",
                target="—",
                met=None,
            )
        )
    big = bench.scale.import_rows
    sizes: dict[int, int] = dict(bench.facts.get("import_peak_rss_kib") or {})
    small = max(1, big // 10)
    path = generate(bench.workdir / "import-small.csv", small, "memory bench")
    _, sizes[small], _ = run_import(bench, path)
    path.unlink()
    if big not in sizes:
        path = generate(bench.workdir / "import-big.csv", big, "memory bench big")
        _, sizes[big], _ = run_import(bench, path)
        path.unlink()
    growth = sizes[big] / sizes[small]
    bench.results.append(
        Result(
            benchmark=f"memory: import peak RSS, {big:,} rows vs {small:,}",
            metric="peak RSS",
            unit="MiB",
            eventops=sizes[big] / 1024,
            baseline=sizes[small] / 1024,
            baseline_name=f"the same import of {small:,} rows",
            target="does not grow with the file (ratio ≤ 1.2)",
            met=growth <= 1.2,
        )
    )
