"""API keys and roles. Keys are random, shown once, and stored only as an HMAC-SHA256 with the secret key."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import IntEnum

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import NotFound, ValidationFailed
from app.models import ApiKey
from app.models.api_key import ROLES
from app.services.validation import check_text

KEY_PREFIX = "eo_"


class Role(IntEnum):
    """Ordered: each role may do everything the ones below it may."""

    VIEWER = 1  # read only
    SERVICE = 2  # the autonomous operations: log errors, record performance, track posts, read
    ADMIN = 3  # everything, including resolving errors and managing keys

    @classmethod
    def parse(cls, name: str) -> Role:
        try:
            return cls[name.upper()]
        except KeyError:
            raise ValidationFailed(f"role must be one of {', '.join(ROLES)}, got {name!r}", field="role") from None


@dataclass(frozen=True)
class Principal:
    key_id: uuid.UUID
    name: str
    role: Role

    def label(self) -> str:
        return f"{self.name} ({self.role.name.lower()} key {self.key_id})"


def hash_key(key: str, secret: str) -> str:
    return hmac.new(secret.encode(), key.encode(), hashlib.sha256).hexdigest()


async def create_key(session: AsyncSession, *, name: str, role: str, secret: str) -> tuple[ApiKey, str]:
    """Create a key; returns (row, plaintext key). The plaintext is not stored anywhere."""
    parsed = Role.parse(role)
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    row = ApiKey(
        name=check_text(name, "name", 200, required=True),
        role=parsed.name.lower(),
        key_hash=hash_key(key, secret),
        key_prefix=key[:10],
    )
    session.add(row)
    await session.flush()
    await session.refresh(row)
    return row, key


async def authenticate(session: AsyncSession, key: str, secret: str) -> Principal | None:
    if not key.startswith(KEY_PREFIX) or len(key) > 200:
        return None
    row = await session.scalar(
        select(ApiKey).where(ApiKey.key_hash == hash_key(key, secret), ApiKey.revoked_at.is_(None))
    )
    if row is None:
        return None
    return Principal(row.id, row.name, Role.parse(row.role))


async def list_keys(session: AsyncSession) -> list[ApiKey]:
    return list((await session.scalars(select(ApiKey).order_by(ApiKey.created_at))).all())


async def revoke_key(session: AsyncSession, key_id: uuid.UUID) -> ApiKey:
    row = await session.scalar(select(ApiKey).where(ApiKey.id == key_id))
    if row is None:
        raise NotFound(f"API key {key_id} does not exist", field="id")
    if row.revoked_at is None:
        await session.execute(update(ApiKey).where(ApiKey.id == key_id).values(revoked_at=datetime.now(UTC)))
        await session.refresh(row)
    return row
