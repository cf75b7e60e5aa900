"""Resolving the caller from `Authorization: Bearer KEY`, with a short in-process cache.

Every request is authenticated; the cache only saves the database round trip for a key seen in the last
few seconds (a revoked key stops working everywhere within AUTH_CACHE_SECONDS).
"""

from __future__ import annotations

import time

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.services import api_keys
from app.services.api_keys import Principal

AUTH_CACHE_SECONDS = 10.0
_MISSING = object()


def bearer_token(header: str | None) -> str | None:
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


class Authenticator:
    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], secret: str) -> None:
        self._sessionmaker = sessionmaker
        self._secret = secret
        # hash of the key -> (principal or None, expiry)
        self.cache: dict[str, tuple[Principal | None, float]] = {}

    async def principal(self, header: str | None) -> Principal | None:
        token = bearer_token(header)
        if token is None:
            return None
        digest = api_keys.hash_key(token, self._secret)
        hit = self.cache.get(digest)
        now = time.monotonic()
        if hit is not None and hit[1] > now:
            return hit[0]
        async with self._sessionmaker() as session:
            principal = await api_keys.authenticate(session, token, self._secret)
        if len(self.cache) > 10_000:
            self.cache.clear()  # bound memory against a flood of random keys
        self.cache[digest] = (principal, now + AUTH_CACHE_SECONDS)
        return principal

    def clear(self) -> None:
        self.cache.clear()
