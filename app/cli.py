"""The `eventops` command. Every subcommand exits non-zero with a one-line reason on failure."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import signal
import subprocess
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from app.errors import DomainError
from app.settings import Settings, get_settings


class CliError(Exception):
    """A failure the user can act on: printed as one line, exit code 1."""


def _settings() -> Settings:
    try:
        return get_settings()
    except Exception as exc:  # pydantic's ValidationError names the variable
        raise CliError(f"invalid configuration: {exc}".splitlines()[0]) from exc


def _endpoints(settings: Settings, *, need_redis: bool = True) -> Any:
    from app.runtime import resolve_endpoints

    try:
        endpoints = resolve_endpoints(settings, need_redis=need_redis)
    except Exception as exc:
        raise CliError(f"could not start the embedded servers: {exc}") from exc
    print(f"eventops: {endpoints.describe()}", file=sys.stderr)
    return endpoints


def _migrate(database_url: str) -> None:
    from app.migrate import upgrade

    try:
        upgrade(database_url)
    except Exception as exc:
        raise CliError(f"migrations failed: {type(exc).__name__}: {exc}".splitlines()[0]) from exc


async def _with_runtime(settings: Settings, endpoints: Any, fn: Callable[[Any], Any]) -> Any:
    from app.runtime import open_runtime

    async with open_runtime(settings, endpoints) as runtime:
        return await fn(runtime)


def _with_database(settings: Settings, fn: Callable[[Any], Any]) -> Any:
    """Run fn(sessionmaker) against PostgreSQL only (embedded if DATABASE_URL is unset)."""
    from app.runtime import open_database

    endpoints = _endpoints(settings, need_redis=False)

    async def go() -> Any:
        async with open_database(settings, endpoints.database_url) as sessionmaker:
            return await fn(sessionmaker)

    try:
        return asyncio.run(go())
    except OSError as exc:
        raise CliError(f"cannot reach the database: {exc}") from exc
    finally:
        endpoints.stop()


# --- subcommands -------------------------------------------------------------------------------------


def cmd_migrate(args: argparse.Namespace) -> None:
    settings = _settings()
    endpoints = _endpoints(settings, need_redis=False)
    try:
        if args.downgrade:
            from app.migrate import downgrade

            downgrade(endpoints.database_url, args.downgrade)
            print(f"downgraded to {args.downgrade}")
        else:
            _migrate(endpoints.database_url)
            print("database schema is up to date")
    finally:
        endpoints.stop()


def cmd_create_key(args: argparse.Namespace) -> None:
    from app.services import api_keys

    settings = _settings()

    async def go(sessionmaker: Any) -> str:
        from app.database import transaction

        async with transaction(sessionmaker) as session:
            _, key = await api_keys.create_key(
                session, name=args.name, role=args.role, secret=settings.secret_key.get_secret_value()
            )
        return key

    key = _with_database(settings, go)
    print(key)
    print(f"(a {args.role} key named {args.name!r}; it is shown only this once)", file=sys.stderr)


def cmd_list_keys(args: argparse.Namespace) -> None:
    from app.services import api_keys

    settings = _settings()

    async def go(sessionmaker: Any) -> list[Any]:
        async with sessionmaker() as session:
            return await api_keys.list_keys(session)

    rows = _with_database(settings, go)
    for k in rows:
        state = f"revoked {k.revoked_at:%Y-%m-%d}" if k.revoked_at else "active"
        print(f"{k.id}  {k.role:<8} {k.key_prefix}…  {state:<18} {k.name}")


def cmd_revoke_key(args: argparse.Namespace) -> None:
    import uuid

    from app.database import transaction
    from app.services import api_keys

    try:
        key_id = uuid.UUID(args.id)
    except ValueError as exc:
        raise CliError(f"not a key id: {args.id!r}") from exc
    settings = _settings()

    async def go(sessionmaker: Any) -> None:
        async with transaction(sessionmaker) as session:
            await api_keys.revoke_key(session, key_id)

    _with_database(settings, go)
    print(f"revoked {key_id}")


def _progress_printer() -> Callable[[Any], None] | None:
    if not sys.stderr.isatty():
        return None

    def show(summary: Any) -> None:
        print(
            f"\r  {summary.rows_read:>10,} rows read  {summary.imported:>10,} imported  "
            f"{len(summary.skipped):>6,} skipped",
            end="",
            file=sys.stderr,
            flush=True,
        )

    return show


def cmd_import(args: argparse.Namespace) -> None:
    from app.services import importer

    path = Path(args.file)
    if not path.is_file():
        raise CliError(f"no such file: {path}")
    mapping = importer.parse_mapping(args.map) if args.kind == "csv" else None
    settings = _settings()
    progress = _progress_printer()

    async def go(sessionmaker: Any) -> Any:
        if args.kind == "meta-ads":
            return await importer.import_meta_ads(
                sessionmaker, settings, path, currency=args.currency, progress=progress
            )
        assert mapping is not None
        return await importer.import_csv(
            sessionmaker, settings, path, mapping, currency=args.currency, progress=progress
        )

    summary = _with_database(settings, go)
    if progress:
        print(file=sys.stderr)
    print(summary.as_text())


def cmd_serve(args: argparse.Namespace) -> None:
    import uvicorn

    from app.asgi import create_app
    from app.logging import configure_logging

    settings = _settings()
    configure_logging(settings)
    if args.host:
        settings.host = args.host
    if args.port:
        settings.port = args.port
    endpoints = _endpoints(settings)
    if args.migrate:
        _migrate(endpoints.database_url)
    try:
        uvicorn.run(
            create_app(settings, endpoints),
            host=settings.host,
            port=settings.port,
            log_level=settings.log_level.lower(),
            access_log=False,
            ws_ping_interval=20,
            log_config=None,  # keep the JSON logging configured above
        )
    finally:
        endpoints.stop()


def cmd_worker(args: argparse.Namespace) -> None:
    from app.logging import configure_logging
    from jobs.worker import build_worker

    settings = _settings()
    configure_logging(settings)
    endpoints = _endpoints(settings)
    try:
        worker = build_worker(settings, endpoints, burst=args.burst)
        worker.run()
    finally:
        endpoints.stop()


def _dev_admin_key(settings: Settings, database_url: str) -> str:
    """The admin key `eventops run` prints: kept in DATA_DIR/admin.key (mode 600) and reused while it works."""
    from app.database import create_engine, create_sessionmaker, transaction
    from app.services import api_keys

    path = settings.data_dir / "admin.key"
    secret = settings.secret_key.get_secret_value()

    async def go() -> str:
        engine = create_engine(settings, database_url)
        sessionmaker = create_sessionmaker(engine)
        try:
            if path.exists():
                existing = path.read_text().strip()
                async with sessionmaker() as session:
                    if await api_keys.authenticate(session, existing, secret):
                        return existing
            async with transaction(sessionmaker) as session:
                _, key = await api_keys.create_key(session, name="make run (local admin)", role="admin", secret=secret)
        finally:
            await engine.dispose()
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(key + "\n")
        path.chmod(0o600)
        return key

    return asyncio.run(go())


def _dev_token_key(settings: Settings) -> str:
    """TOKEN_ENCRYPTION_KEY when set; otherwise a local key kept in DATA_DIR/token-encryption.key (mode 600),
    so connectPlatform works out of the box. Production sets its own."""
    if settings.token_encryption_key is not None:
        return settings.token_encryption_key.get_secret_value()
    from cryptography.fernet import Fernet

    path = settings.data_dir / "token-encryption.key"
    if path.exists():
        return path.read_text().strip()
    key = Fernet.generate_key().decode()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(key + "\n")
    path.chmod(0o600)
    return key


def cmd_run(args: argparse.Namespace) -> None:
    """Everything a developer needs: servers (embedded if unset), migrations, API and worker."""
    settings = _settings()
    if args.port:
        settings.port = args.port
    endpoints = _endpoints(settings)
    procs: list[subprocess.Popen[bytes]] = []
    try:
        _migrate(endpoints.database_url)
        key = _dev_admin_key(settings, endpoints.database_url)
        env = {
            **os.environ,
            "DATABASE_URL": endpoints.database_url,
            "REDIS_URL": endpoints.redis_url,
            # So the children say which servers these URLs are.
            "EVENTOPS_ENDPOINTS": endpoints.describe(),
            "TOKEN_ENCRYPTION_KEY": _dev_token_key(settings),
        }
        exe = [sys.executable, "-m", "app.cli"]
        procs.append(subprocess.Popen([*exe, "serve", "--host", settings.host, "--port", str(settings.port)], env=env))
        procs.append(subprocess.Popen([*exe, "worker"], env=env))
        url = f"http://{settings.host}:{settings.port}/graphql"
        print(
            f"\n  eventops is starting: {url}\n"
            f'  GraphiQL: open {url} and add the header  {{"Authorization": "Bearer {key}"}}\n'
            f"  admin key: {key}\n  (kept in {settings.data_dir / 'admin.key'}; Ctrl-C stops everything)\n",
            flush=True,
        )
        signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
        # A shell starting us in the background ignores SIGINT for us; Ctrl-C / kill -INT should still stop.
        signal.signal(signal.SIGINT, signal.default_int_handler)
        while all(p.poll() is None for p in procs):
            try:
                procs[0].wait(timeout=1)
            except subprocess.TimeoutExpired:
                continue
        failed = [p for p in procs if p.poll() not in (None, 0)]
        if failed:
            which = "the API server" if failed[0] is procs[0] else "the worker"
            raise CliError(
                f"{which} exited with code {failed[0].returncode} (its log is above; is port {settings.port} in use?)"
            )
    except KeyboardInterrupt:
        pass
    finally:
        for p in procs:
            if p.poll() is None:
                p.send_signal(signal.SIGINT)
        for p in procs:
            try:
                p.wait(timeout=15)
            except subprocess.TimeoutExpired:
                p.kill()
        endpoints.stop()


def cmd_check(args: argparse.Namespace) -> None:
    """Enqueue a ping job and wait for a worker to answer: proves API-side Redis, worker and database."""
    settings = _settings()
    endpoints = _endpoints(settings)

    async def go(runtime: Any) -> Any:
        job = await runtime.enqueue("ping")
        if job is None:
            raise CliError("could not enqueue the ping job")
        try:
            return await job.result(timeout=args.timeout)
        except TimeoutError as exc:
            raise CliError(f"no worker answered within {args.timeout} s") from exc

    try:
        result = asyncio.run(_with_runtime(settings, endpoints, go))
    finally:
        endpoints.stop()
    print(json.dumps(result))


def cmd_classify_error(args: argparse.Namespace) -> None:
    """Classify a raw platform response pasted on stdin, as the posting pipeline would."""
    from app.platforms import classify_raw

    received_at = None
    if args.received_at:
        try:
            received_at = datetime.fromisoformat(args.received_at.replace("Z", "+00:00"))
        except ValueError as exc:
            raise CliError(f"--received-at is not an ISO 8601 time: {args.received_at!r}") from exc
        if received_at.tzinfo is None:
            received_at = received_at.replace(tzinfo=UTC)
    if args.status is not None and not 100 <= args.status <= 599:
        raise CliError(f"--status must be an HTTP status between 100 and 599, got {args.status}")
    body = "" if sys.stdin is None or sys.stdin.isatty() else sys.stdin.read()
    try:
        result = classify_raw(
            args.platform,
            args.status,
            args.header or [],
            body,
            args.transport_error,
            received_at,
            operation=args.operation,
        )
    except ValueError as exc:
        raise CliError(str(exc)) from exc
    print(json.dumps(result.as_dict(), indent=2))


# --- parser --------------------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="eventops",
        description="eventops: the GraphQL operations backbone of EventNexus. "
        "Configuration comes from the environment (see README); with DATABASE_URL or REDIS_URL unset, "
        "embedded servers are started.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("run", help="set everything up and start the API and a worker (what `make run` does)")
    p.add_argument("--port", type=int, help="API port (default: PORT or 8000)")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("serve", help="start the GraphQL API server (uvicorn)")
    p.add_argument("--host", help="interface to listen on (default: HOST or 127.0.0.1)")
    p.add_argument("--port", type=int, help="port (default: PORT or 8000)")
    p.add_argument("--migrate", action="store_true", help="apply migrations before starting")
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("worker", help="start an arq worker (background jobs and cron)")
    p.add_argument("--burst", action="store_true", help="run the queued jobs, then exit")
    p.set_defaults(func=cmd_worker)

    p = sub.add_parser("migrate", help="apply database migrations (Alembic)")
    p.add_argument("--downgrade", metavar="REVISION", help="downgrade to REVISION instead (e.g. base)")
    p.set_defaults(func=cmd_migrate)

    p = sub.add_parser("import", help="import performance records from a CSV file")
    isub = p.add_subparsers(dest="kind", required=True, metavar="KIND")
    m = isub.add_parser("meta-ads", help="a Facebook Ads export (ad_id, xyz_campaign_id, Impressions, ...)")
    m.add_argument("file")
    m.add_argument("--currency", default="EUR", help="currency of new campaigns (default EUR)")
    m.set_defaults(func=cmd_import)
    c = isub.add_parser("csv", help="any CSV, with a column mapping onto performance fields")
    c.add_argument("file")
    c.add_argument(
        "--map",
        required=True,
        help="FIELD=COLUMN pairs, e.g. views=Impressions,clicks=Clicks,ad_spend=Cost,campaign=Campaign[,date=Day]",
    )
    c.add_argument("--currency", default="EUR", help="currency of new campaigns (default EUR)")
    c.set_defaults(func=cmd_import)

    p = sub.add_parser("create-key", help="create an API key and print it (once)")
    p.add_argument("--role", required=True, choices=["viewer", "service", "admin"])
    p.add_argument("--name", required=True, help="who or what uses the key")
    p.set_defaults(func=cmd_create_key)

    p = sub.add_parser("list-keys", help="list API keys (never the keys themselves)")
    p.set_defaults(func=cmd_list_keys)

    p = sub.add_parser("revoke-key", help="revoke an API key by id")
    p.add_argument("id")
    p.set_defaults(func=cmd_revoke_key)

    p = sub.add_parser(
        "classify-error",
        help="classify a platform's raw error response (body on stdin) as the posting pipeline does",
        description="Prints error_type, retry, wait_seconds, halt_account, outcome_unknown and reason as JSON.",
    )
    p.add_argument("--platform", required=True, choices=["facebook", "instagram", "x", "linkedin", "tiktok"])
    p.add_argument("--status", type=int, help="HTTP status (omit when no response came back)")
    p.add_argument("--header", action="append", metavar="'Name: value'", help="a response header; repeatable")
    p.add_argument(
        "--transport-error",
        choices=[
            "connect_timeout",
            "connect_error",
            "pool_timeout",
            "read_timeout_after_send",
            "connection_dropped_after_send",
            "write_timeout",
            "write_error",
            "transport_error",
        ],
        help="what went wrong below HTTP, when no response came back",
    )
    p.add_argument("--received-at", help="when the response arrived (ISO 8601; default now); waits count from it")
    p.add_argument("--operation", choices=["publish", "metrics", "find"], default="publish")
    p.set_defaults(func=cmd_classify_error)

    p = sub.add_parser("check", help="round trip through Redis, a worker and the database")
    p.add_argument("--timeout", type=float, default=10.0)
    p.set_defaults(func=cmd_check)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        args.func(args)
    except (CliError, DomainError) as exc:
        print(f"eventops: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # one line for the user; the stack with EVENTOPS_DEBUG=1
        if os.environ.get("EVENTOPS_DEBUG"):
            raise
        print(f"eventops: error: {type(exc).__name__}: {exc}".splitlines()[0], file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
