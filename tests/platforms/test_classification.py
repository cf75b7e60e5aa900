"""Classification of platform error responses: the shared cases, unseen cases of the same kinds,
CLI-style input, backoff, and properties that must hold for any input."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.platforms.base import (
    AccountCredentials,
    Classification,
    ErrorType,
    Platform,
    PlatformError,
    RawResponse,
)
from app.platforms.classification import classify, classify_raw, exponential_backoff, parse_header_lines

SHARED_CASES = Path(__file__).parents[3] / "shared" / "data" / "platform-errors" / "cases.jsonl"
LOCAL_CASES = Path(__file__).parent / "cases.jsonl"
CASES_FILE = SHARED_CASES if SHARED_CASES.exists() else LOCAL_CASES
CASES: list[dict[str, Any]] = [json.loads(line) for line in CASES_FILE.read_text().splitlines() if line.strip()]

AT = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)


def _received(case: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(case["received_at"].replace("Z", "+00:00"))


def raw_of(case: dict[str, Any]) -> RawResponse:
    return RawResponse(
        platform=case["platform"],
        operation=case["operation"],
        http_status=case["http_status"],
        headers=case.get("headers") or {},
        body=case.get("body"),
        transport_error=case.get("transport_error"),
        received_at=_received(case),
    )


def assert_matches_expect(result: Classification, expect: dict[str, Any]) -> None:
    got = result.as_dict()
    for key in ("error_type", "retry", "halt_account", "outcome_unknown", "wait_seconds"):
        if key in expect:
            assert got[key] == expect[key], f"{key}: got {got[key]!r}, expected {expect[key]!r} ({result.reason})"
    if "min_wait_seconds" in expect:
        assert result.retry == "wait"
        assert result.wait_seconds is not None and result.wait_seconds >= expect["min_wait_seconds"]


# --------------------------------------------------------------------------------------------------
# the shared cases


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_shared_case(case: dict[str, Any]) -> None:
    result = classify(raw_of(case))
    assert_matches_expect(result, case["expect"])
    assert result.reason and result.platform_code


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_shared_case_through_classify_raw(case: dict[str, Any]) -> None:
    body = case.get("body")
    body_text = "" if body is None else body if isinstance(body, str) else json.dumps(body)
    headers = [f"{k}: {v}" for k, v in (case.get("headers") or {}).items()]
    result = classify_raw(
        case["platform"],
        case["http_status"],
        headers,
        body_text,
        case.get("transport_error"),
        _received(case),
        operation=case["operation"],
    )
    assert_matches_expect(result, case["expect"])


def test_local_copy_of_cases_is_current() -> None:
    if SHARED_CASES.exists():
        assert LOCAL_CASES.read_text() == SHARED_CASES.read_text()


# --------------------------------------------------------------------------------------------------
# unseen cases of the same kinds


def meta(code: int | None, sub: int | None = None, *, status: int = 400, message: str = "x", **extra: Any) -> dict:
    err: dict[str, Any] = {"message": message, "type": "OAuthException", "fbtrace_id": "T", **extra}
    if code is not None:
        err["code"] = code
    if sub is not None:
        err["error_subcode"] = sub
    return {"error": err}


def raw(
    platform: str,
    status: int | None,
    body: Any,
    headers: dict[str, str] | None = None,
    *,
    operation: str = "publish",
    transport: str | None = None,
    at: datetime = AT,
) -> RawResponse:
    return RawResponse(platform, operation, status, headers or {}, body, transport, at)  # type: ignore[arg-type]


TOKEN = {"error_type": "token_expired", "retry": "never", "halt_account": True, "wait_seconds": None}
PERMISSION = {"error_type": "permission_denied", "retry": "never", "halt_account": True}
INVALID = {"error_type": "validation_error", "retry": "never", "halt_account": False}
TRANSIENT = {"error_type": "api_error", "retry": "backoff", "halt_account": False, "wait_seconds": None}
RATE = {"error_type": "rate_limit", "retry": "wait", "halt_account": False}


def buc(minutes: int) -> dict[str, str]:
    usage = {
        "1234": [
            {
                "type": "pages",
                "call_count": 100,
                "total_cputime": 12,
                "total_time": 20,
                "estimated_time_to_regain_access": minutes,
            }
        ]
    }
    return {"X-Business-Use-Case-Usage": json.dumps(usage)}


UNSEEN: list[tuple[str, RawResponse, dict[str, Any]]] = [
    # Meta tokens: every "log in again" sub-code of 190, the bare codes, and 492 (role lost).
    *[
        (f"fb-190-{s}", raw("facebook", 400, meta(190, s)), {**TOKEN, "outcome_unknown": False})
        for s in (458, 459, 464, 467, 493)
    ],
    ("ig-190-463", raw("instagram", 400, meta(190, 463)), TOKEN),
    ("fb-190-unknown-sub", raw("facebook", 400, meta(190, 12345)), TOKEN),
    ("fb-102", raw("facebook", 400, meta(102)), TOKEN),
    ("fb-401-oauth-no-code", raw("facebook", 401, meta(None)), TOKEN),
    ("fb-190-492-role-lost", raw("facebook", 400, meta(190, 492)), PERMISSION),
    ("fb-200-403", raw("facebook", 403, meta(200)), PERMISSION),
    ("fb-10", raw("facebook", 400, meta(10)), PERMISSION),
    ("fb-3", raw("facebook", 400, meta(3)), PERMISSION),
    ("fb-230-range", raw("facebook", 400, meta(230)), PERMISSION),
    # Meta rate limits: header minutes, zero minutes (default), app usage only (default >= 300).
    ("fb-80001-buc-17min", raw("facebook", 400, meta(80001), buc(17)), {**RATE, "wait_seconds": 17 * 60}),
    ("fb-80001-buc-zero", raw("facebook", 400, meta(80001), buc(0)), {**RATE, "wait_seconds": 3600}),
    ("ig-80002-buc-5min", raw("instagram", 400, meta(80002), buc(5)), {**RATE, "wait_seconds": 300}),
    ("fb-17-user", raw("facebook", 400, meta(17)), {**RATE, "wait_seconds": 3600}),
    ("fb-32-page", raw("facebook", 400, meta(32), {"x-page-usage": '{"call_count": 101}'}), RATE),
    ("fb-613", raw("facebook", 400, meta(613), buc(2)), {**RATE, "wait_seconds": 120}),
    ("fb-368-1390008-too-fast", raw("facebook", 400, meta(368, 1390008)), RATE),
    (
        "fb-4-buc-lowercase-header",
        raw("facebook", 400, meta(4), {k.lower(): v for k, v in buc(3).items()}),
        {**RATE, "wait_seconds": 180},
    ),
    # Meta validation.
    ("fb-368-abusive", raw("facebook", 400, meta(368, 1404006)), INVALID),
    (
        "fb-100-invalid-metric",
        raw("facebook", 400, meta(100, message="(#100) invalid insights metric"), operation="metrics"),
        INVALID,
    ),
    ("fb-100-33", raw("facebook", 400, meta(100, 33), operation="metrics"), INVALID),
    ("fb-1609005-scrape", raw("facebook", 400, meta(100, 1609005)), INVALID),
    ("fb-2-400-transient", raw("facebook", 400, meta(2, is_transient=True)), {**TRANSIENT, "outcome_unknown": False}),
    ("fb-unknown-transient", raw("facebook", 400, meta(9999, is_transient=True)), TRANSIENT),
    # Instagram publishing sub-codes.
    ("ig-2207042-daily-cap", raw("instagram", 400, meta(9, 2207042)), {**RATE, "wait_seconds": 86400}),
    ("ig-2207050-restricted", raw("instagram", 400, meta(9, 2207050)), PERMISSION),
    ("ig-2207051-spam", raw("instagram", 400, meta(9, 2207051)), INVALID),
    ("ig-2207052-media-url", raw("instagram", 400, meta(9004, 2207052)), INVALID),
    ("ig-2207001-server", raw("instagram", 400, meta(-2, 2207001)), {**TRANSIENT, "outcome_unknown": False}),
    ("ig-2207020-expired", raw("instagram", 400, meta(-1, 2207020)), TRANSIENT),
    ("ig-2207027-not-ready", raw("instagram", 400, meta(9007, 2207027)), TRANSIENT),
    ("ig-36003-aspect", raw("instagram", 400, meta(36003, 2207009)), INVALID),
    ("ig-352-video", raw("instagram", 400, meta(352)), INVALID),
    (
        "ig-401-too-many-actions",
        raw("instagram", 401, {"error": {"message": "Too many actions. Try later.", "type": "OAuthException"}}),
        RATE,
    ),
    # X.
    (
        "x-usage-capped-monthly",
        raw(
            "x",
            429,
            {
                "title": "UsageCapExceeded",
                "detail": "Usage cap exceeded: Monthly product cap",
                "type": "https://api.x.com/2/problems/usage-capped",
                "period": "Monthly",
                "scope": "Product",
            },
            {"x-rate-limit-remaining": "299", "x-rate-limit-reset": str(int(AT.timestamp()) + 60)},
        ),
        {**RATE, "wait_seconds": int((datetime(2026, 12, 1, tzinfo=UTC) - AT).total_seconds())},
    ),
    (
        "x-usage-capped-daily-old-host",
        raw(
            "x",
            429,
            {
                "title": "UsageCapExceeded",
                "detail": "Usage cap exceeded: Daily",
                "type": "https://api.twitter.com/2/problems/usage-capped",
            },
            {"x-app-limit-24hour-reset": str(int(AT.timestamp()) + 7200)},
        ),
        {**RATE, "wait_seconds": 7200},
    ),
    (
        "x-429-24h-user-limit",
        raw(
            "x",
            429,
            {"title": "Too Many Requests", "type": "about:blank", "status": 429},
            {
                "x-rate-limit-reset": str(int(AT.timestamp()) + 300),
                "x-user-limit-24hour-remaining": "0",
                "x-user-limit-24hour-reset": str(int(AT.timestamp()) + 5000),
            },
        ),
        {**RATE, "wait_seconds": 5000},
    ),
    (
        "x-429-no-headers",
        raw("x", 429, {"title": "Too Many Requests", "type": "about:blank", "status": 429}),
        {**RATE, "wait_seconds": 900},
    ),
    (
        "x-client-forbidden",
        raw(
            "x",
            403,
            {
                "title": "Client Forbidden",
                "reason": "client-not-enrolled",
                "type": "https://api.twitter.com/2/problems/client-forbidden",
            },
        ),
        PERMISSION,
    ),
    ("x-v11-187-duplicate", raw("x", 403, {"errors": [{"code": 187, "message": "Status is a duplicate."}]}), INVALID),
    ("x-v11-89-token", raw("x", 401, {"errors": [{"code": 89, "message": "Invalid or expired token."}]}), TOKEN),
    (
        "x-503-publish",
        raw("x", 503, {"title": "Service Unavailable", "type": "about:blank", "status": 503}),
        {**TRANSIENT, "outcome_unknown": True},
    ),
    (
        "x-200-not-found-metrics",
        raw(
            "x",
            200,
            {
                "errors": [
                    {
                        "title": "Not Found Error",
                        "detail": "Could not find tweet",
                        "type": "https://api.twitter.com/2/problems/resource-not-found",
                    }
                ]
            },
            operation="metrics",
        ),
        {**INVALID, "outcome_unknown": False},
    ),
    # LinkedIn.
    (
        "li-429-101-midnight",
        raw("linkedin", 429, {"status": 429, "serviceErrorCode": 101, "message": "Too many"}),
        {**RATE, "wait_seconds": 14 * 3600},
    ),
    (
        "li-429-day-throttle-late",
        raw(
            "linkedin",
            429,
            {
                "message": "Resource level throttle APPLICATION DAY limit for calls to this resource is reached.",
                "status": 429,
            },
            at=datetime(2026, 11, 20, 23, 59, 30, tzinfo=UTC),
        ),
        {**RATE, "wait_seconds": 30},
    ),
    (
        "li-65602-expired",
        raw(
            "linkedin",
            401,
            {
                "status": 401,
                "serviceErrorCode": 65602,
                "code": "EXPIRED_ACCESS_TOKEN",
                "message": "The token used in the request has expired",
            },
        ),
        TOKEN,
    ),
    (
        "li-65600-invalid",
        raw(
            "linkedin",
            401,
            {
                "status": 401,
                "serviceErrorCode": 65600,
                "code": "INVALID_ACCESS_TOKEN",
                "message": "Invalid access token",
            },
        ),
        TOKEN,
    ),
    ("li-401-empty", raw("linkedin", 401, None), TOKEN),
    (
        "li-403-access-denied",
        raw("linkedin", 403, {"status": 403, "code": "ACCESS_DENIED", "message": "denied"}),
        PERMISSION,
    ),
    (
        "li-422-duplicate",
        raw("linkedin", 422, {"status": 422, "message": "Content is a duplicate of urn:li:share:1"}),
        INVALID,
    ),
    (
        "li-500-publish",
        raw("linkedin", 500, {"status": 500, "message": "Internal Server Error"}),
        {**TRANSIENT, "outcome_unknown": True},
    ),
    (
        "li-504-html-metrics",
        raw("linkedin", 504, "<html>Gateway Timeout</html>", operation="metrics"),
        {**TRANSIENT, "outcome_unknown": False},
    ),
    # TikTok (errors inside HTTP 200 too).
    (
        "tt-too-many-posts-in-200",
        raw("tiktok", 200, {"data": {}, "error": {"code": "spam_risk_too_many_posts", "message": "", "log_id": "L"}}),
        {**RATE, "wait_seconds": 86400, "outcome_unknown": False},
    ),
    (
        "tt-pending-shares",
        raw("tiktok", 403, {"data": {}, "error": {"code": "spam_risk_too_many_pending_share"}}),
        RATE,
    ),
    ("tt-token-invalid", raw("tiktok", 401, {"data": {}, "error": {"code": "access_token_invalid"}}), TOKEN),
    ("tt-scope-missing", raw("tiktok", 401, {"data": {}, "error": {"code": "scope_not_authorized"}}), PERMISSION),
    (
        "tt-banned",
        raw("tiktok", 403, {"data": {}, "error": {"code": "spam_risk_user_banned_from_posting"}}),
        PERMISSION,
    ),
    (
        "tt-unaudited",
        raw("tiktok", 403, {"data": {}, "error": {"code": "unaudited_client_can_only_post_to_private_accounts"}}),
        PERMISSION,
    ),
    (
        "tt-privacy-mismatch",
        raw("tiktok", 403, {"data": {}, "error": {"code": "privacy_level_option_mismatch"}}),
        INVALID,
    ),
    ("tt-invalid-params", raw("tiktok", 400, {"data": {}, "error": {"code": "invalid_params"}}), INVALID),
    (
        "tt-rate-limit",
        raw("tiktok", 429, {"data": {}, "error": {"code": "rate_limit_exceeded"}}),
        {**RATE, "wait_seconds": 60},
    ),
    (
        "tt-internal-500",
        raw("tiktok", 500, {"data": {}, "error": {"code": "internal_error"}}),
        {**TRANSIENT, "outcome_unknown": True},
    ),
    (
        "tt-failed-photo-pull",
        raw("tiktok", 200, {"data": {"status": "FAILED", "fail_reason": "photo_pull_failed"}, "error": {"code": "ok"}}),
        TRANSIENT,
    ),
    (
        "tt-failed-auth-removed",
        raw("tiktok", 200, {"data": {"status": "FAILED", "fail_reason": "auth_removed"}, "error": {"code": "ok"}}),
        TOKEN,
    ),
    (
        "tt-failed-spam",
        raw("tiktok", 200, {"data": {"status": "FAILED", "fail_reason": "spam_risk_text"}, "error": {"code": "ok"}}),
        INVALID,
    ),
    # Transport.
    (
        "connect-error",
        raw("x", None, None, transport="connect_error"),
        {"error_type": "network_error", "retry": "backoff", "outcome_unknown": False},
    ),
    (
        "dropped-after-send",
        raw("linkedin", None, None, transport="connection_dropped_after_send"),
        {"error_type": "network_error", "retry": "backoff", "outcome_unknown": True},
    ),
    (
        "read-timeout-metrics",
        raw("tiktok", None, None, transport="read_timeout_after_send", operation="metrics"),
        {"error_type": "network_error", "outcome_unknown": False},
    ),
    (
        "html-503-publish",
        raw("facebook", 503, "<html><body>Service Unavailable</body></html>"),
        {**TRANSIENT, "outcome_unknown": True},
    ),
]


@pytest.mark.parametrize(("case_id", "response", "expect"), UNSEEN, ids=[u[0] for u in UNSEEN])
def test_unseen_case(case_id: str, response: RawResponse, expect: dict[str, Any]) -> None:
    result = classify(response)
    assert_matches_expect(result, expect)
    assert result.platform_code


def test_platform_codes_are_stable_fingerprints() -> None:
    by_id = {c["id"]: classify(raw_of(c)).platform_code for c in CASES}
    assert by_id["fb-token-password-changed"] == "190/460"
    assert by_id["x-rate-limited"] == "rate-limit-exceeded"
    assert by_id["linkedin-token-revoked"] == "65601"
    assert by_id["tiktok-app-daily-cap"] == "reached_active_user_cap"
    assert classify(UNSEEN[0][1]).platform_code == "190/458"


def test_wait_comes_from_received_at_not_the_clock() -> None:
    case = next(c for c in CASES if c["id"] == "x-rate-limited")
    later = {**case, "received_at": "2026-11-20T10:05:00Z"}
    assert classify(raw_of(later)).wait_seconds == 600


def test_naive_received_at_is_utc() -> None:
    r = raw("linkedin", 429, {"serviceErrorCode": 101}, at=datetime(2026, 11, 20, 22, 0))
    assert classify(r).wait_seconds == 7200


def test_default_rate_limit_wait_is_configurable_with_a_meta_floor() -> None:
    r = raw("facebook", 400, meta(4), {"X-App-Usage": '{"call_count": 100}'})
    assert classify(r, default_rate_limit_wait=900).wait_seconds == 900
    assert classify(r, default_rate_limit_wait=10).wait_seconds == 300


def test_as_dict_has_exactly_the_expect_keys() -> None:
    d = classify(raw_of(CASES[0])).as_dict()
    assert set(d) == {"error_type", "retry", "wait_seconds", "halt_account", "outcome_unknown", "reason"}
    assert d["error_type"] == "token_expired" and isinstance(d["error_type"], str)


def test_error_types_are_the_seeds_seven() -> None:
    assert {e.value for e in ErrorType} == {
        "token_expired",
        "api_error",
        "network_error",
        "validation_error",
        "ai_generation_failed",
        "rate_limit",
        "permission_denied",
    }


def test_credentials_never_show_the_token() -> None:
    creds = AccountCredentials("page-1", "EAAB-secret-token")
    assert "secret" not in repr(creds) and "secret" not in str(creds)
    err = PlatformError(raw_of(CASES[0]), classify(raw_of(CASES[0])))
    assert "secret" not in str(err)


def test_headers_are_case_insensitive() -> None:
    r = raw("x", 429, None, {"X-Rate-Limit-Reset": str(int(AT.timestamp()) + 42)})
    assert r.headers["x-rate-limit-reset"] == r.headers["X-RATE-LIMIT-RESET"]
    assert classify(r).wait_seconds == 42


# --------------------------------------------------------------------------------------------------
# classify_raw (the CLI's entry)


def test_classify_raw_html_body_and_header_lines() -> None:
    result = classify_raw(
        "linkedin", 502, ["content-type: text/html"], "<html>502 Bad Gateway</html>", None, AT, operation="metrics"
    )
    assert (result.error_type, result.retry, result.outcome_unknown) == (ErrorType.API_ERROR, "backoff", False)


def test_classify_raw_defaults_to_publish_and_now() -> None:
    result = classify_raw("facebook", 500, [], '{"error": {"code": 2, "is_transient": true}}', None, None)
    assert result.outcome_unknown is True


def test_classify_raw_transport_error_with_empty_body() -> None:
    result = classify_raw("instagram", None, [], "", "connect_timeout", AT)
    assert (result.error_type, result.outcome_unknown) == (ErrorType.NETWORK_ERROR, False)


def test_classify_raw_rejects_bad_input() -> None:
    with pytest.raises(ValueError):
        classify_raw("myspace", 400, [], "{}", None, AT)
    with pytest.raises(ValueError):
        classify_raw("x", 400, ["no colon here"], "{}", None, AT)
    assert parse_header_lines(['X-App-Usage: {"a": 1}']) == {"X-App-Usage": '{"a": 1}'}


# --------------------------------------------------------------------------------------------------
# exponential backoff


def test_backoff_doubles_from_an_hour_and_caps() -> None:
    assert [exponential_backoff(n) for n in (1, 2, 3)] == [3600.0, 7200.0, 14400.0]
    assert exponential_backoff(10) == 86400.0
    assert exponential_backoff(10_000) == 86400.0  # no float overflow
    assert exponential_backoff(3, base_seconds=60, factor=3, max_seconds=10_000) == 540.0


def test_backoff_jitter_is_deterministic_and_bounded() -> None:
    a = [exponential_backoff(n, jitter=0.2, rng=random.Random(7)) for n in range(1, 6)]
    b = [exponential_backoff(n, jitter=0.2, rng=random.Random(7)) for n in range(1, 6)]
    assert a == b
    for n, delay in enumerate(a, start=1):
        nominal = min(3600 * 2 ** (n - 1), 86400)
        assert nominal * 0.8 <= delay <= min(nominal * 1.2, 86400)


def test_backoff_rejects_attempt_zero() -> None:
    with pytest.raises(ValueError):
        exponential_backoff(0)


@given(
    attempt=st.integers(min_value=1, max_value=10**6),
    base=st.floats(min_value=0.001, max_value=1e6),
    factor=st.floats(min_value=0.5, max_value=10),
    cap=st.floats(min_value=0.001, max_value=1e7),
    jitter=st.floats(min_value=0, max_value=1),
    seed=st.integers(),
)
def test_backoff_never_exceeds_cap(
    attempt: int, base: float, factor: float, cap: float, jitter: float, seed: int
) -> None:
    delay = exponential_backoff(
        attempt, base_seconds=base, factor=factor, max_seconds=cap, jitter=jitter, rng=random.Random(seed)
    )
    assert 0 <= delay <= cap


# --------------------------------------------------------------------------------------------------
# properties for any input

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=30),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=15,
)
# Bodies that look like each platform's error shape, with arbitrary values inside.
shaped_bodies = st.one_of(
    st.builds(
        lambda e: {"error": e},
        st.dictionaries(st.sampled_from(["code", "error_subcode", "type", "is_transient", "message"]), json_values),
    ),
    st.dictionaries(st.sampled_from(["type", "title", "detail", "status", "errors", "period"]), json_values),
    st.dictionaries(st.sampled_from(["status", "serviceErrorCode", "code", "message"]), json_values),
    st.builds(
        lambda d, e: {"data": d, "error": e},
        json_values,
        st.dictionaries(st.sampled_from(["code", "message", "log_id"]), json_values),
    ),
)
header_names = st.sampled_from(
    [
        "x-rate-limit-reset",
        "x-app-limit-24hour-remaining",
        "x-app-limit-24hour-reset",
        "X-Business-Use-Case-Usage",
        "X-App-Usage",
        "x-user-limit-24hour-reset",
        "X-Ad-Account-Usage",
        "content-type",
    ]
)
header_values = st.one_of(
    st.text(max_size=40),
    st.integers(min_value=-(10**12), max_value=10**12).map(str),
    json_values.map(lambda v: json.dumps(v, allow_nan=True)),
)


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(
    platform=st.sampled_from(list(Platform)),
    operation=st.sampled_from(["publish", "metrics", "find"]),
    status=st.none() | st.integers(min_value=0, max_value=999),
    headers=st.dictionaries(header_names | st.text(max_size=10), header_values, max_size=5),
    body=st.none() | st.text(max_size=80) | json_values | shaped_bodies,
    transport=st.none() | st.sampled_from(["connect_timeout", "read_timeout_after_send", "connect_error", "weird"]),
    at=st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)),
)
def test_classify_properties(
    platform: Platform,
    operation: str,
    status: int | None,
    headers: dict[str, str],
    body: Any,
    transport: str | None,
    at: datetime,
) -> None:
    result = classify(RawResponse(platform, operation, status, headers, body, transport, at))  # type: ignore[arg-type]
    assert isinstance(result.error_type, ErrorType)
    assert result.retry in ("backoff", "wait", "never")
    assert (result.wait_seconds is not None) == (result.retry == "wait")
    if result.wait_seconds is not None:
        assert result.wait_seconds >= 1
    if result.halt_account:
        assert result.retry == "never"
    if result.outcome_unknown:
        assert operation == "publish"
    assert result.reason and isinstance(result.reason, str)
    json.dumps(result.as_dict())


@settings(max_examples=200)
@given(
    platform=st.sampled_from([p.value for p in Platform]),
    status=st.none() | st.integers(min_value=100, max_value=599),
    body_text=st.text(max_size=200) | json_values.map(lambda v: json.dumps(v, allow_nan=True)),
)
def test_classify_raw_never_raises_on_any_body(platform: str, status: int | None, body_text: str) -> None:
    result = classify_raw(platform, status, ["X-App-Usage: {}"], body_text, None, AT)
    assert (result.wait_seconds is not None) == (result.retry == "wait")


def test_a_reset_header_years_away_waits_at_most_a_month() -> None:
    from app.platforms.classification import MAX_WAIT_SECONDS, classify_raw

    c = classify_raw(
        "x",
        429,
        ["x-rate-limit-reset: 99999999999999999999"],
        '{"title": "Too Many Requests"}',
        None,
        datetime(2026, 11, 20, 10, tzinfo=UTC),
    )
    assert c.retry == "wait" and c.wait_seconds == MAX_WAIT_SECONDS
