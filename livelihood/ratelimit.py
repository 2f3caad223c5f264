"""
Rate limits for what residents send (feedback, votes): fixed windows counted in Django's
`default` cache, so that with REDIS_URL every app server counts in the same place (local
memory counts per process: one machine, one worker set).

`hit(scope, key, limit)` adds one and says whether the count is still within the limit. The
window is RATE_LIMIT_WINDOW_SECONDS, aligned to the clock, so a key expires on its own. A cache
that does not answer lets the request through (the moderation queue bound still holds) and
is logged.

The client address is livelihood.security.client_ip (REMOTE_ADDR, or, behind a reverse proxy,
the header CLIENT_ADDRESS_HEADER names), as for login throttling. IPv6 addresses are counted
per /64, the block one household or phone is given.
"""

import hashlib
import ipaddress
import logging
import time

from django.conf import settings
from django.core.cache import caches

from .security import client_ip

logger = logging.getLogger(__name__)

CACHE_ALIAS = "default"
KEY_PREFIX = "rate"


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


def _key(scope: str, key: str, window: int, now: float) -> str:
    digest = hashlib.sha256(key.encode()).hexdigest()[:32]
    return f"{KEY_PREFIX}:{scope}:{int(now // window)}:{digest}"


def hit(scope: str, key: str, limit: int, *, now: float | None = None) -> bool:
    """Count one for (scope, key) in the current window; False once the limit is passed."""
    window = settings.RATE_LIMIT_WINDOW_SECONDS
    now = time.time() if now is None else now
    cache_key = _key(scope, key, window, now)
    cache = caches[CACHE_ALIAS]
    try:
        # add() then incr(): both atomic in Redis, so two app servers never count one.
        cache.add(cache_key, 0, timeout=window + 60)
        count = cache.incr(cache_key)
    except ValueError:  # expired between add() and incr()
        cache.set(cache_key, 1, timeout=window + 60)
        count = 1
    except Exception:
        logger.warning("限流计数不可用，本次请求未计数。", exc_info=True)
        return True
    return count <= limit


def retry_after() -> int:
    """Seconds until the current window ends (for the Retry-After header)."""
    window = settings.RATE_LIMIT_WINDOW_SECONDS
    return int(window - time.time() % window) + 1
