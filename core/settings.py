"""The only place that reads the environment. Every setting is HITL_<NAME>; see README 'Configuration'."""
from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="HITL_", env_file=".env", extra="ignore")

    data_dir: Path = Field(default=Path("var"), description="Embedded defaults live here: the SQLite file and Redis.")
    database_url: str | None = Field(default=None,
                                     description="e.g. postgresql+psycopg://user@host/db; default SQLite in data_dir")
    redis_url: SecretStr | None = Field(default=None,
                                        description="e.g. redis://host:6379/0; default an embedded Redis in data_dir")
    policy_file: Path | None = Field(default=None, description="Policy YAML; without one every action goes to review.")
    host: str = "127.0.0.1"
    port: int = 8000
    max_body_bytes: int = Field(default=256 * 1024, description="Larger intake bodies get 413.")
    long_poll_max_seconds: int = Field(default=60, ge=1, le=60)
    db_pool_size: int = 10
    db_statement_timeout_seconds: float = Field(default=30, ge=0, description="PostgreSQL statement_timeout "
                                                "for every session (0: none); a slow query then fails with a 503.")
    db_lock_timeout_seconds: float = Field(default=10, ge=0, description="PostgreSQL lock_timeout: the longest "
                                           "a write waits for a row another session holds (0: none).")
    db_idle_in_transaction_timeout_seconds: float = Field(default=60, ge=0, description="PostgreSQL ends a "
                                                          "session left idle inside a transaction after this (0: never).")
    db_pool_timeout_seconds: float = Field(default=10, gt=0, description="How long a request waits for a "
                                           "free database connection before it gets a 503.")
    web_threads: int = Field(default=8, ge=1, le=200, description="Threads for the web process's sync handlers.")
    auto_migrate: bool = Field(default=True, description="Run migrations when the web process starts.")
    log_level: str = "INFO"
    callback_max_attempts: int = Field(default=8, ge=1, le=30, description="Then the delivery is dead-lettered.")
    reconcile_grace_seconds: float = Field(default=10.0, description="How old an unposted review or unapplied click "
                                           "must be before the reconciler re-enqueues it.")
    reconcile_interval_seconds: int = Field(default=15, ge=1, le=300, description="How often workers run the reconciler "
                                            "(one of them per tick, under a Redis lock).")
    slack_lease_seconds: int = Field(default=60, ge=1, le=600, description="How long a worker posting to Slack holds "
                                     "the item; a worker killed mid-post delays its retry by at most this.")

    callback_allowed_networks: str = Field(default="", description="Comma-separated CIDRs callbacks may reach "
                                           "besides public addresses, e.g. 10.20.0.0/16 for an internal agent.")
    callback_allowed_hosts: str = Field(default="", description="Comma-separated host names whose callbacks are "
                                        "sent wherever they resolve (an internal deployment's own agents).")

    @field_validator("callback_allowed_networks")
    @classmethod
    def _networks(cls, v: str) -> str:
        from core.egress import EgressPolicy

        EgressPolicy.from_lists([n for n in v.split(",") if n.strip()], [])  # a bad CIDR fails at start, named
        return v

    @property
    def egress_policy(self):  # -> core.egress.EgressPolicy
        from core.egress import EgressPolicy

        return EgressPolicy.from_lists([n for n in self.callback_allowed_networks.split(",") if n.strip()],
                                       self.callback_allowed_hosts.split(","))

    max_header_bytes: int = Field(default=16 * 1024, ge=1024, description="Larger request headers get 431.")
    body_timeout_seconds: float = Field(default=10, gt=0, description="A request body not fully arrived this long "
                                        "after its headers gets 408 and the connection is closed.")
    keep_alive_seconds: int = Field(default=5, ge=1, le=120, description="How long an idle keep-alive connection "
                                    "stays open (uvicorn's timeout_keep_alive).")

    public_url: str | None = Field(default=None, description="Where reviewers' browsers reach `hitl serve`, for "
                                   "editor links; default http://HOST:PORT")
    home_publish_pace_seconds: float = Field(default=5.0, ge=0, le=300, description="App Home: at most one publish "
                                             "per person per this many seconds while their queue changes.")
    digest_weekday: int = Field(default=0, ge=0, le=6, description="The weekly digest's day (0 Monday … 6 Sunday).")
    digest_hour: int = Field(default=9, ge=0, le=23, description="The weekly digest's hour, UTC.")
    audit_signing_key: SecretStr | None = Field(default=None, description="Ed25519 private key (base64url, from "
                                                "`hitl audit keygen`): workers sign audit log checkpoints with it. "
                                                "Keep it out of the database and away from its administrators.")
    audit_public_key: str | None = Field(default=None, description="The key `hitl audit verify` checks checkpoints "
                                         "with; default: derived from HITL_AUDIT_SIGNING_KEY.")
    audit_checkpoint_file: Path | None = Field(default=None, description="Where signed checkpoints are appended; "
                                               "default DATA_DIR/audit-checkpoints.jsonl.")
    agent_key_cache_seconds: float = Field(default=2.0, ge=0, le=60, description="How long a web process trusts an "
                                           "agent key it checked; a revoked or rotated key stops within this. "
                                           "0: check every request against the database.")
    audit_seal_seconds: float = Field(default=0.5, gt=0, le=60, description="How often each worker chains newly "
                                      "committed audit events into the log (tamper evidence starts there).")
    audit_checkpoint_seconds: float = Field(default=5.0, ge=0, le=3600, description="At most how often a worker "
                                            "signs a checkpoint, when the log moved.")
    chart_ttl_seconds: int = Field(default=7 * 86400, ge=60, le=90 * 86400, description="How long a /hitl-stats "
                                   "chart stays at its address (Slack fetches it when it first shows the message).")
    editor_secret: SecretStr | None = Field(default=None, description="Signs editor links; default derived from "
                                            "the Slack signing secret. Every web process needs the same one.")

    slack_bot_token: SecretStr | None = Field(default=None, description="xoxb-…; without it there is no Slack surface.")
    slack_signing_secret: SecretStr | None = Field(default=None, description="Verifies requests to /slack/events.")
    slack_app_token: SecretStr | None = Field(default=None, description="xapp-… for Socket Mode.")
    slack_api_url: str = Field(default="https://slack.com/api/", description="Web API base URL (tests point it at a fake).")
    slack_default_channel: str | None = Field(default=None, description="Where reviews go when the policy names no channel.")
    slack_post_interval_ms: int = Field(default=1000, ge=0,
                                        description="Pacing per channel (Slack: ~1 message/s); 0 turns it off.")
    slack_group_cache_seconds: float = Field(default=60.0, description="How long user-group membership is cached.")

    @property
    def slack_enabled(self) -> bool:
        return self.slack_bot_token is not None and (self.slack_signing_secret is not None
                                                     or self.slack_app_token is not None)

    @property
    def effective_public_url(self) -> str:
        return (self.public_url or f"http://{self.host}:{self.port}").rstrip("/")

    @property
    def effective_editor_secret(self) -> str | None:
        secret = self.editor_secret or self.slack_signing_secret
        return secret.get_secret_value() if secret is not None else None

    @property
    def db_limits(self):  # -> core.store.db.Limits (imported here: the CLI reads settings before SQLAlchemy)
        from core.store.db import Limits

        return Limits(statement=self.db_statement_timeout_seconds, lock=self.db_lock_timeout_seconds,
                      idle_in_transaction=self.db_idle_in_transaction_timeout_seconds,
                      pool_wait=self.db_pool_timeout_seconds)

    @property
    def effective_checkpoint_file(self) -> Path:
        return self.audit_checkpoint_file or self.data_dir / "audit-checkpoints.jsonl"

    @property
    def effective_database_url(self) -> str:
        return self.database_url or f"sqlite:///{(self.data_dir / 'hitl.db').resolve()}"
