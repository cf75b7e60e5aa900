"""Configuration from the environment (and an optional .env file).

Every setting is documented in the README with its default. DATABASE_URL and REDIS_URL may be left
unset: eventops then starts embedded servers (see app/embedded.py) and says so.
"""

from __future__ import annotations

from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    environment: Literal["development", "test", "production"] = "development"
    host: str = "127.0.0.1"
    port: int = 8000
    database_url: str | None = None
    redis_url: str | None = None
    # Where embedded PostgreSQL/Redis keep their data when the URLs are unset.
    data_dir: Path = Path(".var")
    # Prefix of every Redis key eventops writes (queues, rate limits), so several deployments or test
    # runs can share one Redis.
    redis_prefix: str = "eventops"
    # Pepper for API key hashes and key for token encryption (Fernet, urlsafe base64 of 32 bytes).
    secret_key: SecretStr = SecretStr("dev-insecure-secret-change-me")
    token_encryption_key: SecretStr | None = None
    log_level: str = "INFO"
    db_pool_size: int = 10
    db_max_overflow: int = 10
    db_statement_timeout_ms: int = 15000
    # Pooled connections older than this are replaced at checkout (no per-checkout ping; see app/database.py).
    db_pool_recycle_seconds: int = 1800

    # Metric rules (shared/spec/metrics.md): all configurable.
    platform_fee_rate: Decimal = Decimal("0.05")
    score_ctr_target: Decimal = Decimal("5")
    score_conversion_target: Decimal = Decimal("0.25")
    score_roi_target: Decimal = Decimal("500")
    score_weight_ctr: Decimal = Decimal("0.25")
    score_weight_conversion: Decimal = Decimal("0.25")
    score_weight_roi: Decimal = Decimal("0.5")
    roi_scale_threshold: Decimal = Decimal("500")
    roi_min_spend: Decimal = Decimal("10")
    # The daily ROI report: when (local time in report_timezone) and over which window (None: all time).
    report_timezone: str = "UTC"
    roi_report_hour: int = 9
    roi_report_minute: int = 0
    roi_lookback_days: int | None = None
    # Hourly campaign monitoring (jobs/monitoring.py): the minute of each hour it runs (worker time zone,
    # REPORT_TIMEZONE), and how long a run's claim lasts. A run ends (failed) at the lease, and a run whose
    # worker died may be re-run for the same hour once it has passed: keep it below the worker's job
    # timeout (300 s), so arq's retry of a dead worker's job (after 310 s) finds the claim expired.
    monitor_minute: int = Field(default=0, ge=0, le=59)
    monitor_lease_seconds: int = Field(default=270, ge=10)
    # A run that broke (database or Redis trouble, a bug) is retried by arq after this long.
    monitor_retry_seconds: int = Field(default=60, ge=1)

    # Input bounds: oversized strings or JSON are refused.
    max_message_length: int = 4000
    max_details_bytes: int = 16384
    max_title_length: int = 200
    max_content_length: int = 10000

    # GraphQL surface.
    graphiql: bool | None = None  # default: on unless production
    introspection: bool | None = None  # default: on unless production
    max_page_size: int = 100
    max_body_bytes: int = 1_000_000
    # Operation limits (schema/limits.py), checked before anything runs.
    max_query_depth: int = 10
    max_query_aliases: int = 15
    max_query_tokens: int = 2000
    max_query_cost: int = 10000
    # Items assumed for a list field without a limit/first argument, when computing cost.
    query_cost_default_list_size: int = 10
    # Per API key (or client address without a key) in Redis: at most N requests per window; 0 = off.
    rate_limit_requests: int = 1200
    rate_limit_window_seconds: int = 60
    # Prometheus metrics at /metrics.
    metrics_enabled: bool = True

    # Posting retries (issue 3) live beside the others so jobs and API agree.
    retry_base_seconds: int = 3600
    retry_factor: float = 2.0
    retry_jitter: float = 0.1
    max_retries: int = 3
    # Longest backoff wait, whatever the factor.
    retry_max_seconds: int = 86400
    # A rate limit without a wait in the platform's answer waits this long.
    rate_limit_default_wait_seconds: int = 900
    # How long a worker's claim on a post lasts; a worker that died mid-publish loses it after this,
    # and the next attempt looks for the post before publishing. Keep above the job timeout.
    publish_claim_seconds: int = 600
    # Platform API addresses (default: the real APIs, app.platforms.registry.DEFAULT_BASE_URLS);
    # tests point them at the fake platform server.
    platform_base_url_facebook: str | None = None
    platform_base_url_instagram: str | None = None
    platform_base_url_x: str | None = None
    platform_base_url_linkedin: str | None = None
    platform_base_url_tiktok: str | None = None
    platform_connect_timeout: float = 5.0
    platform_read_timeout: float = 30.0

    # Admin alerts (issue 4). Error groups notify once per change of state (new, regressed, escalated).
    # A group's notification of the same kind is suppressed (and recorded on the group) within the cooldown.
    alert_cooldown_seconds: int = 900
    # The rate rule: more than ESCALATION_COUNT occurrences within ESCALATION_MINUTES escalate a group to
    # urgent, once per episode (until it is resolved).
    alert_escalation_count: int = 100
    alert_escalation_minutes: int = 5
    # graphql-transport-ws: server pings so idle dashboards (and proxies between) keep the socket open.
    alerts_keepalive_seconds: float = 15.0
    # Subscribers re-read the outbox this often even without a NOTIFY (a missed wake-up costs this much).
    alerts_recheck_seconds: float = 5.0
    # A subscriber this many notifications behind the live stream re-reads from the table instead.
    alerts_subscriber_buffer: int = 1000
    # Outgoing Slack-compatible webhooks.
    webhook_timeout_seconds: float = 10.0
    webhook_max_attempts: int = 5
    webhook_retry_base_seconds: float = 30.0  # attempt n waits base × 2^(n−1)
    webhook_allow_http: bool | None = None  # default: http:// URLs allowed unless production

    # Browser origins allowed to call the API (the admin frontend when served from elsewhere), e.g.
    # CORS_ORIGINS='["https://admin.example.com"]'. Empty: no cross-origin access.
    cors_origins: list[str] = Field(default_factory=list)

    @property
    def webhook_http_allowed(self) -> bool:
        return self.webhook_allow_http if self.webhook_allow_http is not None else self.environment != "production"

    @property
    def graphiql_enabled(self) -> bool:
        return self.graphiql if self.graphiql is not None else self.environment != "production"

    @property
    def introspection_enabled(self) -> bool:
        return self.introspection if self.introspection is not None else self.environment != "production"


@lru_cache
def get_settings() -> Settings:
    return Settings()
