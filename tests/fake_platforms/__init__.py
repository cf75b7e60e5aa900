"""Fake social platform APIs for tests: see server.py's docstring for the API."""

from tests.fake_platforms.server import (
    Behaviour,
    Drop,
    DropAfterAccept,
    FakeMetrics,
    FakePlatforms,
    FakePost,
    Hang,
    RecordedRequest,
    Respond,
)

__all__ = [
    "Behaviour",
    "Drop",
    "DropAfterAccept",
    "FakeMetrics",
    "FakePlatforms",
    "FakePost",
    "Hang",
    "RecordedRequest",
    "Respond",
]
