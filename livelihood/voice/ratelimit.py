"""
Rate limits for what residents send (feedback, votes), counted by django-ratelimit
(`django_ratelimit.core.get_usage`) in fixed windows of RATE_LIMIT_WINDOW_SECONDS in the cache
RATELIMIT_USE_CACHE names, Django's `default`: with REDIS_URL every app server counts in the
same place (local memory counts per process: one machine, one worker set).

What stays here is the portal's own part: which address a limit counts, and what happens when
the cache does not answer. `hit(request, group, limit)` adds one and says whether the count is
still within the limit. Each key's window ends at its own moment (the library staggers them),
and a refusal remembers on the request how long is left of it, for the Retry-After header. A
cache that does not answer lets the request through (the moderation queue bound still holds)
and is logged: RATELIMIT_FAIL_OPEN for a count the cache could not make, the except below for
a cache that raises (Django's RedisCache does when Redis is down).

django_ratelimit is not in INSTALLED_APPS: the portal needs only its core, and its system
checks refuse local memory (the portal's default on one machine, counted per worker process,
as said above) and warn on Django's own RedisCache.

The client address is livelihood.accounts.security.client_ip (REMOTE_ADDR, or, behind a reverse
proxy,
the header CLIENT_ADDRESS_HEADER names), as for login throttling. IPv6 addresses are counted
per /64, the block one household or phone is given.
"""

import ipaddress
import logging
import time

from django.conf import settings
from django_ratelimit.core import get_usage

from livelihood.accounts.security import client_ip

logger = logging.getLogger(__name__)


def client_address(request) -> str:
    """The address a limit counts: the client's (security.client_ip), IPv6 per /64."""
    raw = client_ip(request) or ""
    try:
        address = ipaddress.ip_address(raw)
    except ValueError:
        return raw or "unknown"
    if address.version == 4:
        return str(address)
    if address.ipv4_mapped is not None:
        return str(address.ipv4_mapped)
    return str(ipaddress.ip_network(f"{address}/64", strict=False))


def address_key(group, request) -> str:
    """django-ratelimit's key callable: the client's address, as client_address() says."""
    return client_address(request)


def hit(request, group: str, limit: int, key=address_key) -> bool:
    """Count this request in `group` under `key` (a django-ratelimit key: a callable taking
    group and request, by default the client's address); False once `limit` is passed."""
    try:
        usage = get_usage(
            request,
            group=group,
            key=key,
            rate=(limit, settings.RATE_LIMIT_WINDOW_SECONDS),
            increment=True,
        )
    except Exception:
        logger.warning("限流计数不可用，本次请求未计数。", exc_info=True)
        return True
    if usage is None or not usage["should_limit"]:
        return True
    request.ratelimit_retry_after = max(usage["time_left"], 0) + 1
    return False


def retry_after(request=None) -> int:
    """Seconds until the refusing limit's window ends (for the Retry-After header); for any
    other refusal (the queue bound), until the clock's current window ends."""
    seconds = getattr(request, "ratelimit_retry_after", None)
    if seconds is not None:
        return seconds
    window = settings.RATE_LIMIT_WINDOW_SECONDS
    return int(window - time.time() % window) + 1
