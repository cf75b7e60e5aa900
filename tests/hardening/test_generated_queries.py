"""Generated queries and mutations against a live server: schemathesis's GraphQL mode (hypothesis-graphql
underneath) over every operation of the introspected schema, checked for server errors."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pytest

from app.database import transaction
from app.runtime import open_database
from app.services import api_keys
from app.settings import Settings
from tests.live import REPO, api_server

EXAMPLES = os.environ.get("SCHEMATHESIS_EXAMPLES", "25")


async def _key(settings: Settings) -> str:
    async with open_database(settings, settings.database_url or "") as sm, transaction(sm) as s:
        _, key = await api_keys.create_key(
            s, name="schemathesis", role="admin", secret=settings.secret_key.get_secret_value()
        )
    return key


@pytest.mark.slow
def test_generated_operations_never_cause_a_server_error(settings: Settings, tmp_path: Path) -> None:
    key = asyncio.run(_key(settings))
    with api_server(settings, tmp_path / "api.log") as url:
        run = subprocess.run(
            [
                str(Path(sys.executable).parent / "st"),
                "run",
                f"{url}/graphql",
                "-H",
                f"Authorization: Bearer {key}",
                "--checks",
                "eventops_no_server_error",
                # It would revoke its own key (the stateful phase links apiKeys' ids to revokeApiKey).
                "--exclude-name",
                "Mutation.revokeApiKey",
                "-n",
                EXAMPLES,
                "-w",
                "1",
                "--seed",
                "6",
                "--generation-database",
                "none",
                "--no-color",
            ],
            cwd=tmp_path,  # schemathesis keeps a .schemathesis/ cache in its working directory
            env={**os.environ, "SCHEMATHESIS_HOOKS": "tests.hardening.schemathesis_hooks", "PYTHONPATH": str(REPO)},
            capture_output=True,
            text=True,
            timeout=600,
        )
    print(run.stdout[-3000:])
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-2000:]
    assert " generated" in run.stdout
