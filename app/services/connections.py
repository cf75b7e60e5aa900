"""Connected social accounts: creating them, their encrypted tokens, and listing them.

Tokens are Fernet-encrypted with TOKEN_ENCRYPTION_KEY before they reach the database, decrypted only
for a platform call (as AccountCredentials, whose repr hides the token) and never returned or logged.
Halting and reconnecting an account change posts too, so they live in app.services.publishing.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from cryptography.fernet import Fernet, InvalidToken
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import Conflict, NotFound, Unavailable, ValidationFailed
from app.models import PlatformConnection
from app.models.connection import CONNECTION_STATUSES
from app.platforms.base import AccountCredentials, Platform
from app.services.validation import check_text
from app.settings import Settings

MAX_TOKEN = 8192
MAX_SCOPES = 100
KEY_HINT = (
    "set TOKEN_ENCRYPTION_KEY to a Fernet key (generate one with: python -c "
    "'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())')"
)


class TokenUnreadable(Exception):
    """The stored ciphertext does not decrypt with the configured key (key changed or data damaged)."""


def _fernet(settings: Settings) -> Fernet:
    key = settings.token_encryption_key
    if key is None or not key.get_secret_value().strip():
        raise Unavailable(f"platform tokens cannot be stored or read: TOKEN_ENCRYPTION_KEY is not set; {KEY_HINT}")
    try:
        return Fernet(key.get_secret_value().strip().encode())
    except ValueError:
        raise Unavailable(f"TOKEN_ENCRYPTION_KEY is not a valid Fernet key; {KEY_HINT}") from None


def encrypt_token(settings: Settings, token: str) -> str:
    return _fernet(settings).encrypt(token.encode()).decode()


def decrypt_token(settings: Settings, ciphertext: str) -> str:
    try:
        return _fernet(settings).decrypt(ciphertext.encode()).decode()
    except InvalidToken:
        raise TokenUnreadable("the stored token does not decrypt with TOKEN_ENCRYPTION_KEY") from None


def credentials(settings: Settings, conn: PlatformConnection) -> AccountCredentials:
    if not conn.token_ciphertext:
        raise TokenUnreadable("the connection has no stored token")
    return AccountCredentials(conn.account_id, decrypt_token(settings, conn.token_ciphertext))


def check_platform(value: str, field: str = "platform") -> str:
    try:
        return str(Platform(value))
    except ValueError:
        raise ValidationFailed(
            f"{field} must be one of {', '.join(p.value for p in Platform)}, got {value!r}", field=field
        ) from None


def check_token(value: str, field: str = "access_token") -> str:
    token = check_text(value, field, MAX_TOKEN, required=True)
    if any(c.isspace() for c in token):
        raise ValidationFailed(f"{field} must not contain whitespace", field=field)
    return token


def check_scopes(values: Sequence[str] | None) -> list[str]:
    if values is None:
        return []
    if len(values) > MAX_SCOPES:
        raise ValidationFailed(f"scopes has too many entries (at most {MAX_SCOPES})", field="scopes")
    return sorted({check_text(v, "scopes", 200, required=True) for v in values})


def check_aware(value: datetime | None, field: str) -> datetime | None:
    if value is None:
        return None
    if value.tzinfo is None:
        raise ValidationFailed(f"{field} must include a timezone (e.g. 2026-05-01T12:00:00Z)", field=field)
    return value.astimezone(UTC)


@dataclass
class NewToken:
    access_token: str
    expires_at: datetime | None = None
    scopes: Sequence[str] | None = None


def apply_token(settings: Settings, conn: PlatformConnection, token: NewToken, now: datetime) -> None:
    """Validate and store a token on the connection (encrypted); validation comes before any change."""
    plain = check_token(token.access_token)
    expires = check_aware(token.expires_at, "expires_at")
    scopes = check_scopes(token.scopes) if token.scopes is not None else None
    ciphertext = encrypt_token(settings, plain)
    conn.token_ciphertext = ciphertext
    conn.token_updated_at = now
    conn.token_expires_at = expires
    if scopes is not None:
        conn.scopes = scopes


async def connect(
    session: AsyncSession,
    settings: Settings,
    *,
    platform: str,
    account_id: str,
    display_name: str | None,
    token: NewToken,
    now: datetime | None = None,
) -> PlatformConnection:
    """Add an account. An account already connected is a conflict: reconnectPlatform replaces its token."""
    now = now or datetime.now(UTC)
    plat = check_platform(platform)
    account = check_text(account_id, "account_id", 200, required=True)
    name = None if display_name is None else check_text(display_name, "display_name", 200)
    existing = await session.scalar(
        select(PlatformConnection).where(PlatformConnection.platform == plat, PlatformConnection.account_id == account)
    )
    if existing is not None:
        raise Conflict(
            f"{plat} account {account} is already connected; use reconnectPlatform to replace its token",
            field="accountId",
        )
    conn = PlatformConnection(platform=plat, account_id=account, display_name=name, status="connected", scopes=[])
    apply_token(settings, conn, token, now)
    session.add(conn)
    await session.flush()
    await session.refresh(conn)
    return conn


async def get_connection(
    session: AsyncSession, connection_id: uuid.UUID, *, for_update: bool = False
) -> PlatformConnection:
    stmt = select(PlatformConnection).where(PlatformConnection.id == connection_id)
    if for_update:
        stmt = stmt.with_for_update()
    conn = await session.scalar(stmt)
    if conn is None:
        raise NotFound(f"platform connection {connection_id} does not exist", field="connectionId")
    return conn


async def find_connection(
    session: AsyncSession, platform: str, account_id: str | None, *, for_update: bool = False
) -> PlatformConnection:
    """The connection of (platform, account); without an account, the platform's only connection."""
    plat = check_platform(platform)
    stmt = select(PlatformConnection).where(PlatformConnection.platform == plat)
    if account_id is not None:
        account_id = check_text(account_id, "account_id", 200, required=True)
        stmt = stmt.where(PlatformConnection.account_id == account_id)
    if for_update:
        stmt = stmt.with_for_update()
    rows = list((await session.scalars(stmt.limit(2))).all())
    if not rows:
        what = f"{plat} account {account_id}" if account_id else f"{plat} account"
        raise NotFound(f"no connected {what}; an admin connects one with connectPlatform", field="accountId")
    if len(rows) > 1:
        raise ValidationFailed(f"several {plat} accounts are connected: name one with accountId", field="accountId")
    return rows[0]


async def list_connections(
    session: AsyncSession, *, platform: str | None = None, status: str | None = None
) -> list[PlatformConnection]:
    stmt = select(PlatformConnection).order_by(PlatformConnection.platform, PlatformConnection.account_id)
    if platform is not None:
        stmt = stmt.where(PlatformConnection.platform == check_platform(platform))
    if status is not None:
        if status not in CONNECTION_STATUSES:
            raise ValidationFailed(f"status must be one of {', '.join(CONNECTION_STATUSES)}", field="status")
        stmt = stmt.where(PlatformConnection.status == status)
    return list((await session.scalars(stmt)).all())


def effective_status(conn: PlatformConnection, now: datetime) -> str:
    """A rate limit that has run out reads as connected, before any job gets to clear it."""
    if conn.status == "rate_limited" and (conn.rate_limited_until is None or conn.rate_limited_until <= now):
        return "connected"
    return conn.status
