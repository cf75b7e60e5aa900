"""The embedded Redis: persistent, and shared by every eventops process of one data directory."""

from __future__ import annotations

from pathlib import Path

import redis

from app.embedded import start_redis


def test_embedded_redis_is_joined_not_duplicated_and_keeps_its_data(tmp_path: Path) -> None:
    first = start_redis(tmp_path)
    second = start_redis(tmp_path)  # e.g. `eventops check` beside `make run`
    try:
        assert second.url == first.url and second.process is None
        client = redis.Redis(unix_socket_path=first.url.removeprefix("unix://"))
        assert client.config_get("save") == {"save": "60 1"}
        client.set("kept", "yes")
        second.stop()  # a joiner leaves the server running
        assert client.ping()
    finally:
        first.stop()
    assert (tmp_path / "redis" / "dump.rdb").exists()
    again = start_redis(tmp_path)
    try:
        assert redis.Redis(unix_socket_path=again.url.removeprefix("unix://")).get("kept") == b"yes"
    finally:
        again.stop()
