"""The Slack Web API client, pointed at a configurable base URL."""
from __future__ import annotations

from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import ConnectionErrorRetryHandler, RateLimitErrorRetryHandler

from core.settings import Settings

# A job waits out a 429 only when Slack asks for little: a longer Retry-After fails the job, and
# the outbox relay comes back later, so a rate-limited channel never holds up the clicks queued
# behind it on the same worker.
MAX_WAIT_SECONDS = 2


class ShortRateLimitRetryHandler(RateLimitErrorRetryHandler):
    def _can_retry(self, *, state, request, response=None, error=None) -> bool:
        if not super()._can_retry(state=state, request=request, response=response, error=error):
            return False
        headers = {k.lower(): v for k, v in ((response.headers if response else None) or {}).items()}
        wait = headers.get("retry-after")
        value = wait[0] if isinstance(wait, list) else wait
        return value is None or (str(value).isdigit() and int(value) <= MAX_WAIT_SECONDS)


def web_client(settings: Settings, retries: bool = True, timeout: float = 10) -> WebClient:
    token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else None
    base = settings.slack_api_url if settings.slack_api_url.endswith("/") else settings.slack_api_url + "/"
    client = WebClient(token=token, base_url=base, timeout=timeout)
    client.retry_handlers.clear()  # the SDK's default connection-error retry too: `retries` decides
    if retries:
        # 429 with a short Retry-After: wait it out; connection resets: retry. (Durable retries with
        # backoff live in the jobs and the outbox relay.)
        client.retry_handlers.extend([ShortRateLimitRetryHandler(max_retry_count=2),
                                      ConnectionErrorRetryHandler(max_retry_count=2)])
    return client
