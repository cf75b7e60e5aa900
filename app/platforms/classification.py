"""Classify platform error responses into the seed's error types and a retry decision.

Rules follow /shared/spec/platforms.md: structured fields first (exact (code, sub-code) pair, then
sub-code, then code), then HTTP status, then transient flags; message text only as a last resort.
Waits come from the response (reset headers, estimated minutes) or the platform's documented window,
always computed from RawResponse.received_at, never from the clock.
"""

from __future__ import annotations

import json
import math
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from app.platforms.base import (
    TRANSPORT_NOTHING_SENT,
    Classification,
    ErrorType,
    Platform,
    RawResponse,
    RetryPolicy,
)

__all__ = ["ClassifyConfig", "classify", "classify_raw", "exponential_backoff", "parse_header_lines"]

META_MIN_DEFAULT_WAIT = 300  # X-App-Usage gives no reset; Meta's throttles last minutes to an hour


@dataclass(frozen=True)
class ClassifyConfig:
    default_rate_limit_wait: int = 3600  # Meta without estimated_time_to_regain_access, unknown 429s
    short_rate_limit_wait: int = 60  # per-minute windows (TikTok: 6 publish inits a minute)
    daily_cap_wait: int = 86400  # rolling daily caps (TikTok, Instagram's 24 h publishing limit)
    x_default_window: int = 900  # X's 15-minute window when a 429 carries no reset header


# --------------------------------------------------------------------------------------------------
# helpers


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        try:
            return int(value.strip())
        except ValueError:
            return None
    return None


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


MAX_WAIT_SECONDS = 32 * 86400


def _make(
    error_type: ErrorType,
    retry: RetryPolicy,
    reason: str,
    code: str | None,
    *,
    wait: int | None = None,
    halt: bool = False,
    unknown: bool = False,
) -> Classification:
    # Invariants the callers rely on: a wait only with retry == "wait", a halted account is never retried.
    if halt:
        retry = "never"
    if retry == "wait":
        # A header claiming a reset years away is garbage or hostile; no documented window is longer than a
        # month (X's monthly cap), so a wait never exceeds MAX_WAIT_SECONDS.
        wait = min(MAX_WAIT_SECONDS, max(1, int(wait if wait is not None else 1)))
    else:
        wait = None
    return Classification(
        error_type=error_type,
        retry=retry,
        wait_seconds=wait,
        halt_account=halt,
        outcome_unknown=unknown,
        reason=reason,
        platform_code=code,
    )


def _header(raw: RawResponse, name: str) -> str | None:
    try:
        value = raw.headers.get(name)
    except Exception:  # noqa: BLE001 - headers are whatever the caller passed
        return None
    return value if isinstance(value, str) else None


def _json_header(raw: RawResponse, name: str) -> Any:
    text = _header(raw, name)
    if not text:
        return None
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        return None


def _seconds_until_next_utc_midnight(at: datetime) -> int:
    midnight = datetime(at.year, at.month, at.day, tzinfo=UTC) + timedelta(days=1)
    return max(1, math.ceil((midnight - at).total_seconds()))


def _seconds_until_next_month(at: datetime) -> int:
    year, month = (at.year + 1, 1) if at.month == 12 else (at.year, at.month + 1)
    return max(1, math.ceil((datetime(year, month, 1, tzinfo=UTC) - at).total_seconds()))


def _seconds_until_unix(raw: RawResponse, value: str | None) -> int | None:
    reset = _int(value)
    if reset is None:
        return None
    return max(1, math.ceil(reset - raw.received_at.timestamp()))


def _message_text(body: Any) -> str:
    """All human text in a body, lower-cased: the last-resort signal."""
    if isinstance(body, str):
        return body.lower()
    parts: list[str] = []

    def walk(node: Any, depth: int) -> None:
        if depth > 4:
            return
        if isinstance(node, dict):
            for key in ("message", "detail", "title", "error_user_msg", "error_user_title", "description"):
                if isinstance(node.get(key), str):
                    parts.append(node[key])
            for value in node.values():
                if isinstance(value, dict | list):
                    walk(value, depth + 1)
        elif isinstance(node, list):
            for item in node[:20]:
                walk(item, depth + 1)

    walk(body, 0)
    return " ".join(parts).lower()


# --------------------------------------------------------------------------------------------------
# Meta (Facebook Pages, Instagram)

_META_TOKEN_SUBCODES: dict[int, str] = {
    458: "the app was removed by the user",
    459: "the user is checkpointed",
    460: "the session was invalidated (password changed)",
    463: "the token has expired",
    464: "the user is unconfirmed",
    467: "the access token is invalid",
    493: "the token was not used for 90 days",
}
_META_RATE_CODES = frozenset({4, 17, 32, 341, 613, *range(80000, 80015)})
_META_PERMISSION_CODES = frozenset({3, 10, 283, *range(200, 300)})
_META_MEDIA_INVALID = frozenset({352, 36000, 36001, 36002, 36003, 36004})
_IG_RETRY_SUBCODES: dict[int, str] = {
    2207001: "an Instagram server-side error",
    2207032: "an Instagram server-side error",
    2207053: "an Instagram server-side error",
    2207003: "the media download took too long",
    2207008: "the media container is not available yet",
    2207020: "the media container expired (a new one is created on retry)",
    2207027: "the media container is not ready yet",
}


def _meta_code(code: int | None, sub: int | None) -> str | None:
    if code is None:
        return str(sub) if sub is not None else None
    return f"{code}/{sub}" if sub is not None else str(code)


def _meta_wait(raw: RawResponse, cfg: ClassifyConfig) -> tuple[int, str]:
    """Wait for a Meta throttle: estimated minutes from X-Business-Use-Case-Usage, else a default."""
    minutes = 0
    buc = _json_header(raw, "X-Business-Use-Case-Usage")
    if isinstance(buc, dict):
        for entries in buc.values():
            for entry in entries if isinstance(entries, list) else [entries]:
                if isinstance(entry, dict):
                    minutes = max(minutes, _int(entry.get("estimated_time_to_regain_access")) or 0)
    if minutes > 0:
        return minutes * 60, f"X-Business-Use-Case-Usage estimates {minutes} min to regain access"
    ad = _json_header(raw, "X-Ad-Account-Usage")
    if isinstance(ad, dict) and (_int(ad.get("reset_time_duration")) or 0) > 0:
        seconds = _int(ad.get("reset_time_duration")) or 0
        return seconds, f"X-Ad-Account-Usage resets in {seconds} s"
    default = max(META_MIN_DEFAULT_WAIT, cfg.default_rate_limit_wait)
    return default, f"no reset time given, waiting the default {default} s"


def _classify_meta(raw: RawResponse, cfg: ClassifyConfig) -> Classification | None:
    body = raw.body
    err = body.get("error") if isinstance(body, dict) else None
    if not isinstance(err, dict):
        return None
    code, sub = _int(err.get("code")), _int(err.get("error_subcode"))
    pc = _meta_code(code, sub)
    label = f"Meta error {pc}"

    # exact (code, sub-code) pairs
    if code == 190 and sub in _META_TOKEN_SUBCODES:
        return _make(
            ErrorType.TOKEN_EXPIRED,
            "never",
            f"{label}: {_META_TOKEN_SUBCODES[sub]}; the user must log in again.",
            pc,
            halt=True,
        )
    if code == 190 and sub == 492:
        return _make(
            ErrorType.PERMISSION_DENIED,
            "never",
            f"{label}: the token's user lost their role on the Page; a new token will not help.",
            pc,
            halt=True,
        )
    if code == 100 and sub == 33:
        return _make(
            ErrorType.VALIDATION_ERROR,
            "never",
            f"{label}: the object does not exist or the token may not access it.",
            pc,
        )
    # sub-codes
    if sub == 1390008:
        wait, why = _meta_wait(raw, cfg)
        return _make(ErrorType.RATE_LIMIT, "wait", f"{label}: posting too fast; {why}.", pc, wait=wait)
    if sub in _IG_RETRY_SUBCODES:
        return _make(ErrorType.API_ERROR, "backoff", f"{label}: {_IG_RETRY_SUBCODES[sub]}.", pc)
    if sub == 2207042:
        return _make(
            ErrorType.RATE_LIMIT,
            "wait",
            f"{label}: the account reached its daily publishing cap; waiting {cfg.daily_cap_wait} s.",
            pc,
            wait=cfg.daily_cap_wait,
        )
    if sub == 2207050:
        return _make(
            ErrorType.PERMISSION_DENIED,
            "never",
            f"{label}: the Instagram account is restricted.",
            pc,
            halt=True,
        )
    if sub == 2207051:
        return _make(ErrorType.VALIDATION_ERROR, "never", f"{label}: Instagram suspects spam; not retried.", pc)
    if sub == 2207052:
        return _make(ErrorType.VALIDATION_ERROR, "never", f"{label}: the media URL could not be fetched.", pc)
    if sub == 1609005 or code == 1609005:
        return _make(ErrorType.VALIDATION_ERROR, "never", f"{label}: the link could not be scraped.", pc)
    if sub in _META_MEDIA_INVALID:
        return _make(ErrorType.VALIDATION_ERROR, "never", f"{label}: the media or caption is invalid.", pc)
    # codes
    if code in (190, 102):
        return _make(ErrorType.TOKEN_EXPIRED, "never", f"{label}: the access token is invalid.", pc, halt=True)
    if code in _META_PERMISSION_CODES:
        return _make(
            ErrorType.PERMISSION_DENIED,
            "never",
            f"{label}: a permission is missing or was removed.",
            pc,
            halt=True,
        )
    if code == 1:
        return _make(ErrorType.API_ERROR, "backoff", f"{label}: unknown error, possibly temporary.", pc)
    if code == 2:
        return _make(ErrorType.API_ERROR, "backoff", f"{label}: the service is temporarily down.", pc)
    if code in _META_RATE_CODES:
        wait, why = _meta_wait(raw, cfg)
        return _make(ErrorType.RATE_LIMIT, "wait", f"{label}: rate limited; {why}.", pc, wait=wait)
    if code == 368:
        return _make(
            ErrorType.VALIDATION_ERROR,
            "never",
            f"{label}: blocked for policy reasons (e.g. already posted); not retried.",
            pc,
        )
    if code == 506:
        return _make(ErrorType.VALIDATION_ERROR, "never", f"{label}: duplicate post.", pc)
    if code == 100:
        return _make(ErrorType.VALIDATION_ERROR, "never", f"{label}: invalid parameter.", pc)
    if code in _META_MEDIA_INVALID:
        return _make(ErrorType.VALIDATION_ERROR, "never", f"{label}: the media or caption is invalid.", pc)
    return None


def _meta_fallback(raw: RawResponse) -> Classification | None:
    """Transient flag, then the bare OAuthException type, for codes the tables do not know."""
    err = raw.body.get("error") if isinstance(raw.body, dict) else None
    if not isinstance(err, dict):
        return None
    pc = _meta_code(_int(err.get("code")), _int(err.get("error_subcode")))
    if err.get("is_transient") is True:
        return _make(ErrorType.API_ERROR, "backoff", f"Meta error {pc} is flagged is_transient.", pc)
    if err.get("type") == "OAuthException" and raw.http_status in (None, 400, 401):
        return _make(
            ErrorType.TOKEN_EXPIRED,
            "never",
            f"Meta OAuthException {pc} without a more specific code: the token is not accepted.",
            pc,
            halt=True,
        )
    return None


# --------------------------------------------------------------------------------------------------
# X (API v2, with the v1.1 error shape)


def _x_problem(body: Any) -> tuple[str | None, dict[str, Any]]:
    """(last segment of the problem type URI, the problem) from a v2 problem or a 200 with errors."""
    if not isinstance(body, dict):
        return None, {}
    problem: dict[str, Any] = body
    if "type" not in body and isinstance(body.get("errors"), list) and body["errors"]:
        first = body["errors"][0]
        problem = first if isinstance(first, dict) else {}
    ptype = _str(problem.get("type"))
    if not ptype or ptype == "about:blank":
        return None, problem
    return ptype.rstrip("/").rsplit("/", 1)[-1], problem


def _x_v1_codes(body: Any) -> list[int]:
    if not isinstance(body, dict) or not isinstance(body.get("errors"), list):
        return []
    return [c for e in body["errors"] if isinstance(e, dict) and (c := _int(e.get("code"))) is not None]


def _x_window_wait(raw: RawResponse, cfg: ClassifyConfig) -> tuple[int, str]:
    waits: list[tuple[int, str]] = []
    if (w := _seconds_until_unix(raw, _header(raw, "x-rate-limit-reset"))) is not None:
        waits.append((w, "x-rate-limit-reset"))
    for scope in ("app", "user"):
        if _header(raw, f"x-{scope}-limit-24hour-remaining") == "0":
            w = _seconds_until_unix(raw, _header(raw, f"x-{scope}-limit-24hour-reset"))
            if w is not None:
                waits.append((w, f"x-{scope}-limit-24hour-reset"))
    if not waits:
        return cfg.x_default_window, f"no reset header, waiting X's {cfg.x_default_window} s window"
    wait, name = max(waits)
    return wait, f"{name} is {wait} s after the response"


def _classify_x(raw: RawResponse, cfg: ClassifyConfig) -> Classification | None:
    seg, problem = _x_problem(raw.body)
    if seg == "usage-capped":
        # X sends "period": "Monthly" / "Daily" beside the type; the text is only a fallback.
        period = problem.get("period")
        detail = str(period) if isinstance(period, str) and period else ""
        detail = (detail or " ".join(str(problem.get(k, "")) for k in ("title", "detail"))).lower()
        if "month" in detail:
            wait, why = _seconds_until_next_month(raw.received_at), "a monthly cap: waiting for next month"
        else:
            daily = [
                w
                for s in ("app", "user")
                if (w := _seconds_until_unix(raw, _header(raw, f"x-{s}-limit-24hour-reset"))) is not None
            ]
            wait = max(daily) if daily else cfg.daily_cap_wait
            why = "a daily cap: waiting for its 24-hour reset"
        return _make(
            ErrorType.RATE_LIMIT,
            "wait",
            f"X problem usage-capped: the product's usage cap is reached ({why}); notify the admin.",
            seg,
            wait=wait,
        )
    if seg == "rate-limit-exceeded":
        wait, why = _x_window_wait(raw, cfg)
        return _make(ErrorType.RATE_LIMIT, "wait", f"X problem rate-limit-exceeded: {why}.", seg, wait=wait)
    if seg in ("client-forbidden", "unsupported-authentication"):
        return _make(
            ErrorType.PERMISSION_DENIED,
            "never",
            f"X problem {seg}: the app or its authentication is not allowed to do this.",
            seg,
            halt=True,
        )
    if seg == "not-authorized-for-resource":
        return _make(
            ErrorType.PERMISSION_DENIED,
            "never",
            "X problem not-authorized-for-resource for this object.",
            seg,
        )
    if seg in (
        "resource-not-found",
        "invalid-request",
        "disallowed-resource",
        "conflict",
        "resource-unavailable",
    ):
        return _make(ErrorType.VALIDATION_ERROR, "never", f"X problem {seg}: the request cannot succeed.", seg)
    if seg in ("operational-disconnect", "client-disconnected"):
        return _make(ErrorType.API_ERROR, "backoff", f"X problem {seg}: a temporary disconnect.", seg)

    for code in _x_v1_codes(raw.body):
        pc = f"v1.1/{code}"
        if code in (32, 89):
            return _make(ErrorType.TOKEN_EXPIRED, "never", f"X error {code}: invalid or expired token.", pc, halt=True)
        if code in (64, 220, 261, 326):
            return _make(
                ErrorType.PERMISSION_DENIED,
                "never",
                f"X error {code}: the account or app may not do this.",
                pc,
                halt=True,
            )
        if code == 88:
            wait, why = _x_window_wait(raw, cfg)
            return _make(ErrorType.RATE_LIMIT, "wait", f"X error 88 (rate limit): {why}.", pc, wait=wait)
        if code == 185:
            resets = _seconds_until_unix(raw, _header(raw, "x-user-limit-24hour-reset"))
            wait = resets if resets is not None else cfg.daily_cap_wait
            return _make(ErrorType.RATE_LIMIT, "wait", "X error 185: the daily post limit is reached.", pc, wait=wait)
        if code in (186, 187, 226):
            return _make(
                ErrorType.VALIDATION_ERROR,
                "never",
                f"X error {code}: the post was rejected (duplicate, too long or spam-like).",
                pc,
            )
        if code in (130, 131):
            return _make(ErrorType.API_ERROR, "backoff", f"X error {code}: over capacity or internal error.", pc)
    return None


# --------------------------------------------------------------------------------------------------
# LinkedIn

_LI_TOKEN_CODES = {65600: "invalid", 65601: "revoked", 65602: "expired"}
_LI_TOKEN_NAMES = {"INVALID_ACCESS_TOKEN", "REVOKED_ACCESS_TOKEN", "EXPIRED_ACCESS_TOKEN"}


def _linkedin_daily(raw: RawResponse, code: str) -> Classification:
    wait = _seconds_until_next_utc_midnight(raw.received_at)
    return _make(
        ErrorType.RATE_LIMIT,
        "wait",
        f"LinkedIn {code}: a daily limit that resets at 00:00 UTC ({wait} s away).",
        code,
        wait=wait,
    )


def _classify_linkedin(raw: RawResponse, cfg: ClassifyConfig) -> Classification | None:
    body = raw.body
    if not isinstance(body, dict):
        return None
    sec = _int(body.get("serviceErrorCode"))
    name = _str(body.get("code"))
    pc = str(sec) if sec is not None else name
    if sec in _LI_TOKEN_CODES or name in _LI_TOKEN_NAMES:
        what = _LI_TOKEN_CODES.get(sec or 0) or (name or "").split("_")[0].lower()
        return _make(
            ErrorType.TOKEN_EXPIRED,
            "never",
            f"LinkedIn serviceErrorCode {pc}: the access token is {what}; reconnect the account.",
            pc,
            halt=True,
        )
    if sec == 100 or name == "ACCESS_DENIED":
        return _make(
            ErrorType.PERMISSION_DENIED,
            "never",
            f"LinkedIn serviceErrorCode {pc}: not enough permissions.",
            pc,
            halt=True,
        )
    if sec == 101:
        return _linkedin_daily(raw, pc or "101")
    if name in ("VERSION_MISSING", "NONEXISTENT_VERSION"):
        return _make(
            ErrorType.API_ERROR,
            "never",
            f"LinkedIn {name}: the LinkedIn-Version header is missing or retired (a code fix is needed).",
            pc,
        )
    return None


# --------------------------------------------------------------------------------------------------
# TikTok

_TT_DAILY = {"spam_risk_too_many_posts", "reached_active_user_cap", "spam_risk_too_many_pending_share"}
_TT_PERMISSION = {
    "scope_not_authorized",
    "scope_permission_missed",
    "spam_risk_user_banned_from_posting",
    "unaudited_client_can_only_post_to_private_accounts",
}
_TT_VALIDATION = {
    "privacy_level_option_mismatch",
    "url_ownership_unverified",
    "invalid_params",
    "invalid_file_upload",
    "invalid_publish_id",
    "file_format_check_failed",
    "duration_check_failed",
    "frame_rate_check_failed",
    "picture_size_check_failed",
    "spam_risk_text",
    "spam_risk",
}
_TT_FAIL_RETRYABLE = {"internal", "video_pull_failed", "photo_pull_failed"}


def _classify_tiktok_code(code: str, cfg: ClassifyConfig, *, fail_reason: bool) -> Classification | None:
    what = "publish fail_reason" if fail_reason else "error code"
    if code in ("access_token_invalid", "auth_removed"):
        return _make(
            ErrorType.TOKEN_EXPIRED,
            "never",
            f"TikTok {what} {code}: the authorization is no longer valid.",
            code,
            halt=True,
        )
    if code in _TT_PERMISSION:
        return _make(
            ErrorType.PERMISSION_DENIED,
            "never",
            f"TikTok {what} {code}: the app or user may not post this way.",
            code,
            halt=True,
        )
    if code in _TT_DAILY:
        return _make(
            ErrorType.RATE_LIMIT,
            "wait",
            f"TikTok {what} {code}: a daily cap; waiting {cfg.daily_cap_wait} s.",
            code,
            wait=cfg.daily_cap_wait,
        )
    if code == "rate_limit_exceeded":
        return _make(
            ErrorType.RATE_LIMIT,
            "wait",
            f"TikTok {what} rate_limit_exceeded: a per-minute window; waiting {cfg.short_rate_limit_wait} s.",
            code,
            wait=cfg.short_rate_limit_wait,
        )
    if code in _TT_VALIDATION or (fail_reason and code.startswith("spam_risk")):
        return _make(ErrorType.VALIDATION_ERROR, "never", f"TikTok {what} {code}: not retried.", code)
    if code == "internal_error" or (fail_reason and code in _TT_FAIL_RETRYABLE):
        return _make(ErrorType.API_ERROR, "backoff", f"TikTok {what} {code}: temporary, retried.", code)
    if fail_reason:
        # Other publish failures (media checks) will fail the same way again.
        return _make(ErrorType.VALIDATION_ERROR, "never", f"TikTok {what} {code}: not retried.", code)
    return None


def _classify_tiktok(raw: RawResponse, cfg: ClassifyConfig) -> Classification | None:
    body = raw.body
    if not isinstance(body, dict):
        return None
    err = body.get("error")
    code = _str(err.get("code")) if isinstance(err, dict) else None
    if code and code != "ok":
        return _classify_tiktok_code(code, cfg, fail_reason=False)
    data = body.get("data")
    if isinstance(data, dict) and data.get("status") == "FAILED":
        reason = _str(data.get("fail_reason")) or "unknown"
        return _classify_tiktok_code(reason, cfg, fail_reason=True)
    return None


# --------------------------------------------------------------------------------------------------
# status, text and transport fallbacks


def _rate_limit_by_status(raw: RawResponse, cfg: ClassifyConfig) -> Classification:
    p = raw.platform
    if p in (Platform.FACEBOOK, Platform.INSTAGRAM):
        wait, why = _meta_wait(raw, cfg)
        return _make(ErrorType.RATE_LIMIT, "wait", f"HTTP 429 from Meta: {why}.", "http-429", wait=wait)
    if p is Platform.X:
        wait, why = _x_window_wait(raw, cfg)
        return _make(
            ErrorType.RATE_LIMIT,
            "wait",
            f"X HTTP 429 rate-limit-exceeded: {why}.",
            "rate-limit-exceeded",
            wait=wait,
        )
    if p is Platform.LINKEDIN:
        return _linkedin_daily(raw, "http-429")
    if p is Platform.TIKTOK:
        return _make(
            ErrorType.RATE_LIMIT,
            "wait",
            f"TikTok HTTP 429: a per-minute window; waiting {cfg.short_rate_limit_wait} s.",
            "rate_limit_exceeded",
            wait=cfg.short_rate_limit_wait,
        )
    return _make(
        ErrorType.RATE_LIMIT,
        "wait",
        "HTTP 429 without details.",
        "http-429",
        wait=cfg.default_rate_limit_wait,
    )


_RATE_WORDS = ("rate limit", "too many requests", "too many actions", "throttl", "request limit")


def _by_status(raw: RawResponse, cfg: ClassifyConfig) -> Classification | None:
    status = raw.http_status
    if status is None:
        return None
    text = _message_text(raw.body)
    if status == 401:
        if raw.platform is Platform.INSTAGRAM and any(w in text for w in _RATE_WORDS):
            # Some Instagram 401s mean "too many actions": refreshing the token would only loop.
            wait, why = _meta_wait(raw, cfg)
            return _make(
                ErrorType.RATE_LIMIT,
                "wait",
                f"Instagram HTTP 401 'too many actions': {why}.",
                "http-401",
                wait=wait,
            )
        code = "unauthorized" if raw.platform is Platform.X else "http-401"
        return _make(
            ErrorType.TOKEN_EXPIRED,
            "never",
            f"HTTP 401 ({code}): the token is not accepted; reconnect the account.",
            code,
            halt=True,
        )
    if status == 403:
        if "duplicate" in text or "already posted" in text:
            # X reports duplicate content as a 403 with type about:blank: only the detail tells it apart.
            return _make(
                ErrorType.VALIDATION_ERROR,
                "never",
                "HTTP 403 with a duplicate-content detail: the same post exists.",
                "duplicate-content",
            )
        return _make(
            ErrorType.PERMISSION_DENIED,
            "never",
            "HTTP 403 (http-403): permission denied.",
            "http-403",
            halt=True,
        )
    if status == 429:
        return _rate_limit_by_status(raw, cfg)
    if status == 408 or status >= 500:
        kind = "not JSON (a proxy's page)" if isinstance(raw.body, str) else "a server error"
        return _make(
            ErrorType.API_ERROR,
            "backoff",
            f"HTTP {status} (http-{status}): {kind}, temporary.",
            f"http-{status}",
        )
    return None


def _by_text(raw: RawResponse, cfg: ClassifyConfig) -> Classification | None:
    text = _message_text(raw.body)
    if not text:
        return None
    if any(w in text for w in _RATE_WORDS):
        return _make(
            ErrorType.RATE_LIMIT,
            "wait",
            f"Message text mentions a rate limit (no structured code); waiting {cfg.default_rate_limit_wait} s.",
            "text-rate-limit",
            wait=cfg.default_rate_limit_wait,
        )
    if ("token" in text or "session" in text) and any(w in text for w in ("expired", "revoked", "invalid")):
        return _make(
            ErrorType.TOKEN_EXPIRED,
            "never",
            "Message text says the token is expired or invalid (no structured code).",
            "text-token",
            halt=True,
        )
    if "duplicate" in text or "already posted" in text:
        return _make(
            ErrorType.VALIDATION_ERROR,
            "never",
            "Message text says the post is a duplicate (no structured code).",
            "text-duplicate",
        )
    return None


def _by_transport(raw: RawResponse) -> Classification:
    kind = raw.transport_error or "no_response"
    if kind in TRANSPORT_NOTHING_SENT:
        reason = f"Transport error {kind}: nothing reached the platform; safe to send again."
    else:
        reason = f"Transport error {kind}: the request may have been processed; look before resending."
    return _make(ErrorType.NETWORK_ERROR, "backoff", reason, kind)


def _publish_may_have_happened(raw: RawResponse, result: Classification) -> bool:
    if raw.operation != "publish":
        return False
    if raw.http_status is None:
        return (raw.transport_error or "no_response") not in TRANSPORT_NOTHING_SENT
    return raw.http_status >= 500 or result.outcome_unknown


_PLATFORM_RULES = {
    Platform.FACEBOOK: _classify_meta,
    Platform.INSTAGRAM: _classify_meta,
    Platform.X: _classify_x,
    Platform.LINKEDIN: _classify_linkedin,
    Platform.TIKTOK: _classify_tiktok,
}


def classify(
    raw: RawResponse,
    *,
    default_rate_limit_wait: int = 3600,
    short_rate_limit_wait: int = 60,
    daily_cap_wait: int = 86400,
    x_default_window: int = 900,
) -> Classification:
    """Classify one failed platform call. Never raises: unknown shapes fall back to safe defaults."""
    cfg = ClassifyConfig(default_rate_limit_wait, short_rate_limit_wait, daily_cap_wait, x_default_window)
    try:
        result = _classify(raw, cfg)
    except Exception as exc:  # noqa: BLE001 - a classifier bug must not hide the platform error
        result = _make(
            ErrorType.API_ERROR,
            "backoff",
            f"Unclassifiable response ({type(exc).__name__}).",
            "unclassifiable",
        )
    if _publish_may_have_happened(raw, result) and not result.outcome_unknown:
        result = Classification(**{**result.__dict__, "outcome_unknown": True})
    return result


def _classify(raw: RawResponse, cfg: ClassifyConfig) -> Classification:
    if raw.http_status is None:
        return _by_transport(raw)
    rules = _PLATFORM_RULES.get(raw.platform)
    if rules is not None and (found := rules(raw, cfg)) is not None:
        return found
    if (found := _by_status(raw, cfg)) is not None:
        return found
    if raw.platform in (Platform.FACEBOOK, Platform.INSTAGRAM) and (found := _meta_fallback(raw)):
        return found
    status = raw.http_status
    if 400 <= status < 500:
        if (found := _by_text(raw, cfg)) is not None:
            return found
        return _make(
            ErrorType.VALIDATION_ERROR,
            "never",
            f"HTTP {status} (http-{status}) without a known error code: the request was rejected.",
            f"http-{status}",
        )
    # A 1xx-3xx answer the adapter could not use: on publish the post may exist.
    return _make(
        ErrorType.API_ERROR,
        "backoff",
        f"HTTP {status} (http-{status}) with an unrecognised body.",
        f"http-{status}",
        unknown=raw.operation == "publish",
    )


# --------------------------------------------------------------------------------------------------
# CLI entry and backoff


def parse_header_lines(lines: list[str]) -> dict[str, str]:
    """'Name: value' lines to a dict; raises ValueError on a line without a colon."""
    headers: dict[str, str] = {}
    for line in lines:
        name, sep, value = line.partition(":")
        if not sep or not name.strip():
            raise ValueError(f"header must look like 'Name: value', got {line!r}")
        headers[name.strip()] = value.strip()
    return headers


def classify_raw(
    platform: str,
    status: int | None,
    headers: list[str],
    body_text: str,
    transport_error: str | None,
    received_at: datetime | None,
    *,
    operation: str = "publish",
    default_rate_limit_wait: int = 3600,
) -> Classification:
    """Classify from CLI-style inputs (body as text, JSON or not).

    received_at None means now. operation defaults to "publish" because that is the conservative
    reading: a 5xx or dropped connection is then reported as outcome_unknown.
    Raises ValueError for an unknown platform or operation, or a malformed header line.
    """
    plat = Platform(platform.strip().lower())
    if operation not in ("publish", "metrics", "find"):
        raise ValueError(f"operation must be publish, metrics or find, got {operation!r}")
    text = body_text.strip()
    body: dict[str, Any] | list[Any] | str | None
    if not text:
        body = None
    else:
        try:
            parsed = json.loads(text)
            body = parsed if isinstance(parsed, dict | list) else text
        except (ValueError, RecursionError):
            body = text
    raw = RawResponse(
        platform=plat,
        operation=operation,  # type: ignore[arg-type]
        http_status=status,
        headers=parse_header_lines(headers),
        body=body,
        transport_error=transport_error or None,
        received_at=received_at or datetime.now(UTC),
    )
    return classify(raw, default_rate_limit_wait=default_rate_limit_wait)


def exponential_backoff(
    attempt: int,
    *,
    base_seconds: float = 3600.0,
    factor: float = 2.0,
    max_seconds: float = 86400.0,
    jitter: float = 0.0,
    rng: random.Random | None = None,
) -> float:
    """Delay before retry number `attempt` (1-based): base, base*factor, base*factor**2 ... capped.

    jitter is a fraction (0.1 = +/-10 %) drawn from rng; without an rng no jitter is applied, so the
    function stays pure and deterministic.
    """
    if attempt < 1:
        raise ValueError("attempt is 1-based")
    if base_seconds <= 0 or max_seconds <= 0:
        return 0.0
    exponent = attempt - 1
    if factor <= 1 or exponent == 0 or max_seconds <= base_seconds:
        delay = base_seconds
    elif exponent * math.log(factor) >= math.log(max_seconds / base_seconds):
        # Compared in log space: factor ** exponent overflows floats for large attempts.
        delay = max_seconds
    else:
        delay = base_seconds * factor**exponent
    if rng is not None and jitter > 0:
        delay *= 1.0 + rng.uniform(-jitter, jitter)
    return float(min(max(delay, 0.0), max_seconds))
