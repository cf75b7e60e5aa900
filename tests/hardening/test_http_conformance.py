"""GraphQL over HTTP: the spec's server audits, and the status codes and content types they check."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.asgi import accepts_graphql_response_json
from app.settings import Settings
from tests.conftest import SHARED
from tests.live import api_server

# The team's copy in ../shared when the clone sits beside it (as in CI); otherwise the copy kept here.
AUDIT_TOOL = next(
    p
    for p in (SHARED / "tools" / "graphql-http-audit", Path(__file__).parents[1] / "fixtures" / "graphql-http-audit")
    if (p / "audit.mjs").exists()
)
GQL_JSON = "application/graphql-response+json"


@pytest.mark.slow
def test_the_graphql_over_http_audits_pass_with_no_warning(
    settings: Settings, keys: dict[str, str], tmp_path: Path, runtime: Any
) -> None:
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        pytest.skip("Node.js and npm are needed to run the graphql-http audits")
    tool = tmp_path / "audit"
    shutil.copytree(AUDIT_TOOL, tool)  # shared/ is read-only in CI: install into a copy
    install = subprocess.run(
        [npm, "install", "--no-audit", "--no-fund"], cwd=tool, capture_output=True, text=True, timeout=300
    )
    assert install.returncode == 0, install.stderr
    with api_server(settings, tmp_path / "server.log") as url:
        audit = subprocess.run(
            [node, "audit.mjs", f"{url}/graphql"],
            cwd=tool,
            capture_output=True,
            text=True,
            timeout=300,
            env={"PATH": str(Path(node).parent), "AUDIT_AUTHORIZATION": f"Bearer {keys['admin']}"},
        )
    print(audit.stdout)
    summary = audit.stdout.strip().splitlines()[-1]
    assert audit.returncode == 0 and summary.endswith(" ok, 0 warn, 0 error"), audit.stdout + audit.stderr
    ok, total = summary.split(" ", 1)[0].split("/")
    assert ok == total


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (None, False),
        ("*/*", False),
        ("application/json", False),
        (GQL_JSON, True),
        (f"{GQL_JSON}, application/json", True),
        (f"application/json, {GQL_JSON};q=0.9", False),
        (f"{GQL_JSON};q=0", False),
    ],
)
def test_accept_negotiation(accept: str | None, expected: bool) -> None:
    assert accepts_graphql_response_json(accept) is expected


async def post(
    client: httpx.AsyncClient, keys: dict[str, str], accept: str | None, body: dict[str, Any]
) -> httpx.Response:
    headers = {"Authorization": f"Bearer {keys['viewer']}"}
    if accept:
        headers["Accept"] = accept
    return await client.post("/graphql", json=body, headers=headers)


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"query": "{ campaigns( }"}, "GRAPHQL_PARSE_FAILED"),
        ({"query": "{ noSuchField }"}, "GRAPHQL_VALIDATION_FAILED"),
        ({"query": "query Q($n: Int!) { campaigns(limit: $n) { id } }", "variables": {"n": "many"}}, "BAD_USER_INPUT"),
    ],
)
async def test_request_errors_are_400_with_graphql_response_json_and_200_with_json(
    client: httpx.AsyncClient, keys: dict[str, str], body: dict[str, Any], code: str
) -> None:
    strict = await post(client, keys, GQL_JSON, body)
    assert strict.status_code == 400 and strict.headers["content-type"] == GQL_JSON
    assert "data" not in strict.json() and strict.json()["errors"][0]["extensions"]["code"] == code
    legacy = await post(client, keys, "application/json", body)
    assert legacy.status_code == 200 and legacy.headers["content-type"] == "application/json"
    assert legacy.json()["errors"][0]["extensions"]["code"] == code


async def test_field_errors_stay_200_with_data(client: httpx.AsyncClient, keys: dict[str, str]) -> None:
    response = await post(client, keys, GQL_JSON, {"query": '{ campaign(id: "not-a-uuid") { id } }'})
    assert response.status_code == 200 and response.headers["content-type"] == GQL_JSON
    body = response.json()
    assert body["data"] is None and body["errors"][0]["extensions"]["code"] == "VALIDATION_ERROR"


async def test_http_level_errors_follow_the_error_convention(client: httpx.AsyncClient) -> None:
    response = await client.post("/graphql", content=b"{not json", headers={"content-type": "application/json"})
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
