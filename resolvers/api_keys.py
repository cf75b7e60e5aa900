from __future__ import annotations

import strawberry

from app.services import api_keys
from app.services.api_keys import Role
from resolvers.context import Info, require
from schema.enums import Role as RoleEnum
from schema.types import ApiKey, CreatedApiKey, parse_id


async def api_key_list(info: Info) -> list[ApiKey]:
    ctx = require(info, Role.ADMIN)
    async with ctx.transaction() as session:
        return [ApiKey.from_model(k) for k in await api_keys.list_keys(session)]


async def create_api_key(info: Info, name: str, role: RoleEnum) -> CreatedApiKey:
    ctx = require(info, Role.ADMIN)
    async with ctx.transaction() as session:
        row, key = await api_keys.create_key(
            session, name=name, role=role.value, secret=ctx.settings.secret_key.get_secret_value()
        )
    return CreatedApiKey(api_key=ApiKey.from_model(row), key=key)


async def revoke_api_key(info: Info, id: strawberry.ID) -> ApiKey:
    ctx = require(info, Role.ADMIN)
    async with ctx.transaction() as session:
        row = await api_keys.revoke_key(session, parse_id(id, "id"))
    ctx.runtime.extras.get("auth_cache", {}).clear()
    return ApiKey.from_model(row)
