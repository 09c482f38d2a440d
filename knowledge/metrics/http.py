"""One hardened JSON GET: timeout, bounded retries with jittered backoff, 429/503 Retry-After, shape check.

Errors come out as `SourceUnavailableError` with a short message naming the source and the failure,
never the query string, a header or an API key.
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import logging
import random
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import httpx

from knowledge.errors import SourceUnavailableError

log = logging.getLogger(__name__)

USER_AGENT = "compute-desk/0.1 (+https://github.com/compute-desk)"
RETRY_STATUSES = {429, 500, 502, 503, 504}
MAX_BODY_BYTES = 20 * 1024 * 1024


class ShapeError(ValueError):
    """A response that parsed as JSON but does not have the documented shape."""


class BadResponseError(SourceUnavailableError):
    """The source answered 200 but with malformed JSON or the wrong shape (a lying source)."""


Validator = Callable[[Any], Any]


@dataclass(frozen=True)
class FetchPolicy:
    """How hard one fetch tries: per-attempt timeout, retries, backoff and the Retry-After cap."""

    timeout_s: float = 10.0
    retries: int = 2  # extra attempts after the first
    backoff_s: float = 0.5  # first backoff; doubles each retry, with jitter
    max_backoff_s: float = 8.0
    max_retry_after_s: float = 30.0  # a longer Retry-After is capped (then the source counts as down)


DEFAULT_POLICY = FetchPolicy()


def retry_after_seconds(value: str | None, now: float | None = None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or an HTTP date); None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def redact(text: str, secrets: Iterable[str]) -> str:
    """`text` with every non-empty secret replaced by ***."""
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, "***")
    return text


def _backoff(policy: FetchPolicy, attempt: int) -> float:
    base = min(policy.max_backoff_s, policy.backoff_s * (2 ** attempt))
    return base * (0.5 + random.random() / 2)  # "equal jitter"


async def fetch_json(
    client: httpx.AsyncClient,
    url: str,
    params: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
    validate: Validator | None = None,
    *,
    policy: FetchPolicy = DEFAULT_POLICY,
    source: str = "source",
    secrets: Iterable[str] = (),
) -> Any:
    """GET `url` and return its JSON (passed through `validate`, which raises on a wrong shape)."""
    secret_values = [s for s in secrets if s] + [v for v in (headers or {}).values() if v]
    request_headers = {"User-Agent": USER_AGENT, "Accept": "application/json", **(headers or {})}
    path = httpx.URL(url).path or "/"
    last = "no attempt"
    for attempt in range(policy.retries + 1):
        wait: float | None = None
        try:
            response = await client.get(url, params=params, headers=request_headers, timeout=policy.timeout_s,
                                        follow_redirects=True)
        except httpx.TimeoutException:
            last = f"timed out after {policy.timeout_s:g} s"
        except httpx.HTTPError as exc:
            last = f"connection failed ({exc.__class__.__name__})"
        else:
            status = response.status_code
            if status == 200:
                return _decode(response, validate, source, path)
            last = f"HTTP {status}"
            if status not in RETRY_STATUSES:
                break
            if status in {429, 503}:
                wait = retry_after_seconds(response.headers.get("Retry-After"))
                if wait is not None and wait > policy.max_retry_after_s:
                    last += f" (Retry-After {wait:.0f} s exceeds the {policy.max_retry_after_s:g} s cap)"
                    break
        if attempt < policy.retries:
            delay = wait if wait is not None else _backoff(policy, attempt)
            log.info("%s %s: %s; retry %d/%d in %.2f s", source, path, redact(last, secret_values),
                     attempt + 1, policy.retries, delay)
            await asyncio.sleep(delay)
    message = redact(f"{source} unavailable: {last} ({path})", secret_values)
    log.info("%s", message)
    raise SourceUnavailableError(message)


def _decode(response: httpx.Response, validate: Validator | None, source: str, path: str) -> Any:
    if len(response.content) > MAX_BODY_BYTES:
        raise SourceUnavailableError(f"{source} unavailable: response too large ({path})")
    try:
        data = json.loads(response.content)
    except (json.JSONDecodeError, UnicodeDecodeError):
        log.warning("%s %s: malformed JSON", source, path)
        raise BadResponseError(f"{source} unavailable: malformed JSON ({path})") from None
    if validate is None:
        return data
    try:
        return validate(data)
    except (ShapeError, ValueError, TypeError, KeyError, AttributeError) as exc:
        reason = str(exc)[:160] if isinstance(exc, ShapeError) else exc.__class__.__name__
        log.warning("%s %s: unexpected response shape: %s", source, path, reason)
        raise BadResponseError(f"{source} unavailable: unexpected response shape ({path}): {reason}") from None
