"""Schemathesis check for the generated-query run (SCHEMATHESIS_HOOKS=tests.hardening.schemathesis_hooks).

Schemathesis's own not_a_server_error counts every GraphQL `errors` entry as a server failure; in this
API expected outcomes (validation, not found, forbidden) are errors with a code, by design. This check
fails on what is really a server error: a 5xx, an INTERNAL_SERVER_ERROR, or an error without a code.
"""

from __future__ import annotations

from typing import Any

import schemathesis

EXPECTED = {
    "VALIDATION_ERROR",
    "NOT_FOUND",
    "CONFLICT",
    "FORBIDDEN",
    "UNAUTHENTICATED",
    "BAD_USER_INPUT",
    "GRAPHQL_VALIDATION_FAILED",
    "GRAPHQL_PARSE_FAILED",
    "QUERY_TOO_DEEP",
    "QUERY_TOO_COSTLY",
    "TOO_MANY_ALIASES",
    "QUERY_TOO_LARGE",
}


@schemathesis.check
def eventops_no_server_error(ctx: Any, response: Any, case: Any) -> None:
    if response.status_code >= 500:
        raise AssertionError(f"HTTP {response.status_code}: {response.text[:500]}")
    body = response.json()
    for error in body.get("errors") or []:
        code = (error.get("extensions") or {}).get("code")
        if code not in EXPECTED:
            raise AssertionError(f"unexpected error code {code!r}: {error}")
