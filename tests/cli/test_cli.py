"""The eventops command: help for every subcommand, one-line failures, keys and imports end to end."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from app.settings import Settings

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "meta_ads_kag.csv"
SUBCOMMANDS = [
    "run",
    "serve",
    "worker",
    "migrate",
    "import",
    "create-key",
    "list-keys",
    "revoke-key",
    "check",
    "classify-error",
]


def eventops(
    *args: str, settings: Settings | None = None, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ}
    if settings is not None:
        env.update(
            DATABASE_URL=settings.database_url or "",
            REDIS_URL=settings.redis_url or "",
            SECRET_KEY=settings.secret_key.get_secret_value(),
            REDIS_PREFIX=settings.redis_prefix,
        )
    return subprocess.run(
        [sys.executable, "-m", "app.cli", *args], capture_output=True, text=True, env=env, input=stdin, timeout=120
    )


@pytest.mark.parametrize("command", SUBCOMMANDS)
def test_every_subcommand_has_help(command: str) -> None:
    result = eventops(command, "--help")
    assert result.returncode == 0 and "usage: eventops" in result.stdout


def test_failures_exit_non_zero_with_one_line(settings: Settings) -> None:
    result = eventops("import", "meta-ads", "/nonexistent.csv", settings=settings)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == "eventops: error: no such file: /nonexistent.csv"
    bad_map = eventops("import", "csv", str(FIXTURE), "--map", "views=Impressions", settings=settings)
    assert bad_map.returncode == 1 and "campaign=COLUMN" in bad_map.stderr


def test_unreachable_database_is_a_one_line_failure(settings: Settings) -> None:
    broken = settings.model_copy(update={"database_url": "postgresql://nobody@127.0.0.1:1/none"})
    result = eventops("migrate", settings=broken)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1].startswith("eventops: error: migrations failed")


async def test_create_key_prints_a_working_key_once(settings: Settings, runtime: object, client: object) -> None:
    result = eventops("create-key", "--role", "viewer", "--name", "cli test", settings=settings)
    assert result.returncode == 0, result.stderr
    key = result.stdout.strip()
    assert key.startswith("eo_") and "shown only this once" in result.stderr
    listed = eventops("list-keys", settings=settings)
    assert "cli test" in listed.stdout and key not in listed.stdout


async def test_import_meta_ads_prints_a_summary(settings: Settings, runtime: object) -> None:
    result = eventops("import", "meta-ads", str(FIXTURE), settings=settings)
    assert result.returncode == 0, result.stderr
    assert (
        "rows read: 1,143" in result.stdout and "imported: 1,143" in result.stdout and "campaigns: 3" in result.stdout
    )
    again = eventops("import", "meta-ads", str(FIXTURE), settings=settings)
    assert "imported: 0" in again.stdout and "already present (re-import): 1,143" in again.stdout


CASES = Path(__file__).resolve().parents[1] / "platforms" / "cases.jsonl"


def _cases() -> list[dict[str, object]]:
    import json

    return [json.loads(line) for line in CASES.read_text().splitlines() if line.strip()]


@pytest.mark.parametrize("case", _cases(), ids=lambda c: str(c["id"]))
def test_classify_error_prints_the_expected_classification(case: dict[str, object]) -> None:
    import json

    args = ["classify-error", "--platform", str(case["platform"]), "--operation", str(case["operation"])]
    if case["http_status"] is not None:
        args += ["--status", str(case["http_status"])]
    for name, value in dict(case["headers"] or {}).items():  # type: ignore[call-overload]
        args += ["--header", f"{name}: {value}"]
    if case["transport_error"]:
        args += ["--transport-error", str(case["transport_error"])]
    args += ["--received-at", str(case["received_at"])]
    body = case["body"]
    stdin = body if isinstance(body, str) else json.dumps(body) if body is not None else ""
    result = eventops(*args, stdin=stdin)
    assert result.returncode == 0, result.stderr
    got = json.loads(result.stdout)
    expect = dict(case["expect"])  # type: ignore[call-overload]
    for key in ("error_type", "retry", "halt_account", "wait_seconds", "outcome_unknown"):
        if key in expect:
            assert got[key] == expect[key], (key, got)
    if "min_wait_seconds" in expect:
        assert got["wait_seconds"] >= expect["min_wait_seconds"]
    assert set(got) == {"error_type", "retry", "wait_seconds", "halt_account", "outcome_unknown", "reason"}
