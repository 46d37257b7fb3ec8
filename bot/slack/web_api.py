"""The Slack Web API client, pointed at a configurable base URL."""
from __future__ import annotations

from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import ConnectionErrorRetryHandler, RateLimitErrorRetryHandler

from core.settings import Settings


def web_client(settings: Settings) -> WebClient:
    token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else None
    base = settings.slack_api_url if settings.slack_api_url.endswith("/") else settings.slack_api_url + "/"
    client = WebClient(token=token, base_url=base, timeout=10)
    # 429: wait Retry-After; connection resets: retry. (Durable retries with backoff live in the jobs.)
    client.retry_handlers.extend([RateLimitErrorRetryHandler(max_retry_count=2),
                                  ConnectionErrorRetryHandler(max_retry_count=2)])
    return client
