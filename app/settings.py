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

    extra_cors_origins: list[str] = Field(default_factory=list)

    @property
    def graphiql_enabled(self) -> bool:
        return self.graphiql if self.graphiql is not None else self.environment != "production"

    @property
    def introspection_enabled(self) -> bool:
        return self.introspection if self.introspection is not None else self.environment != "production"


@lru_cache
def get_settings() -> Settings:
    return Settings()
