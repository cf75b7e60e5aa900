"""The per-request GraphQL context: the process runtime, the caller and a request id."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession

from app.database import transaction
from app.errors import Forbidden, Unauthenticated, ValidationFailed
from app.runtime import Runtime
from app.services.api_keys import Principal, Role
from app.settings import Settings


@dataclass
class Context:
    runtime: Runtime
    principal: Principal | None
    request_id: str
    request: Any = None
    response: Any = None
    # graphql-transport-ws: the connection_init payload (Strawberry sets it; app/asgi.py authenticates it).
    connection_params: dict[str, Any] | None = None
    # Authentication that failed for a reason other than a bad key (PostgreSQL down): raised by
    # require(), so such requests fail with SERVICE_UNAVAILABLE in the error convention, not a 500.
    auth_error: BaseException | None = None

    @property
    def settings(self) -> Settings:
        return self.runtime.settings

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        async with transaction(self.runtime.sessionmaker) as session:
            yield session

    def page_size(self, requested: int, field: str = "limit") -> int:
        cap = self.settings.max_page_size
        if requested < 1 or requested > cap:
            raise ValidationFailed(f"{field} must be between 1 and {cap}, got {requested}", field=field)
        return requested

    def require(self, role: Role) -> Principal:
        if self.auth_error is not None:
            raise self.auth_error
        if self.principal is None:
            raise Unauthenticated("a valid API key is required: send the header 'Authorization: Bearer KEY'")
        if self.principal.role < role:
            raise Forbidden(
                f"this operation needs the {role.name.lower()} role; "
                f"the key '{self.principal.name}' has {self.principal.role.name.lower()}"
            )
        return self.principal


Info = strawberry.Info[Context, None]


def require(info: Info, role: Role) -> Context:
    """Check the caller's role and return the context; raises before any work is done."""
    ctx = info.context
    ctx.require(role)
    return ctx
