"""Cross-origin access: only the configured origins of the admin frontend."""

from __future__ import annotations

import httpx

from app.asgi import create_app
from app.runtime import Endpoints
from app.settings import Settings


async def test_preflight_allows_only_configured_origins(settings: Settings, endpoints: Endpoints) -> None:
    app = create_app(settings.model_copy(update={"cors_origins": ["https://admin.example.com"]}), endpoints)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://eventops.test") as c:
        headers = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization"}
        ok = await c.options("/graphql", headers={**headers, "Origin": "https://admin.example.com"})
        bad = await c.options("/graphql", headers={**headers, "Origin": "https://evil.example.com"})
    assert ok.status_code == 200 and ok.headers["access-control-allow-origin"] == "https://admin.example.com"
    assert "access-control-allow-origin" not in bad.headers
