"""
A cache in two tiers: each process's local memory in front of a cache every process shares.

The page cache (livelihood/public/cache.py) is Django's `default` cache. Local memory alone
is one cache per gunicorn worker: a page one worker rendered is rendered again by the next,
and a separate process (the background worker that warms the pages after a publication,
livelihood/public/warmup.py) could store nothing any worker would read. The shared tier is
Redis with REDIS_URL, otherwise files under PAGE_CACHE_DIR (Django's FileBasedCache), which
every process of the machine reads.

- `get` asks the front, then the shared tier; what the shared tier has is kept in the front.
  A hit the front holds costs no I/O at all, as before.
- `set` writes the front, then the shared tier. A shared tier that fails (Redis down) raises
  after the front has the value: this process still serves what it rendered.
- Everything else (`add`, `incr`, `delete`, `touch`, `has_key`) is the shared tier's, so that
  counters such as the feedback rate limit count for every process. `delete` and `clear`
  empty both tiers.

The front never hears of changes made by other processes, so it suits values that never
change under a key, as cached pages do (their key holds the publication version): values that
do change (counters) go through the operations that bypass it.

    CACHES = {"default": {
        "BACKEND": "livelihood.operations.cache_tiers.TieredCache",
        "TIMEOUT": 86400,
        "OPTIONS": {
            "FRONT": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", ...},
            "SHARED": {"BACKEND": "django.core.cache.backends.redis.RedisCache", ...},
        },
    }}

Each tier is configured as a CACHES entry of its own would be; a tier without a TIMEOUT takes
the tiered cache's.
"""

from django.core.cache.backends.base import DEFAULT_TIMEOUT, BaseCache
from django.utils.module_loading import import_string


def _build(config: dict, timeout):
    config = dict(config)
    backend = import_string(config.pop("BACKEND"))
    location = config.pop("LOCATION", "")
    config.setdefault("TIMEOUT", timeout)
    return backend(location, config)


class TieredCache(BaseCache):
    def __init__(self, location, params):
        options = dict(params.get("OPTIONS") or {})
        front, shared = options.pop("FRONT"), options.pop("SHARED")
        super().__init__({**params, "OPTIONS": options})
        self.front = _build(front, params.get("TIMEOUT", 300))
        self.shared = _build(shared, params.get("TIMEOUT", 300))

    def get(self, key, default=None, version=None):
        missing = object()
        value = self.front.get(key, missing, version=version)
        if value is not missing:
            return value
        value = self.shared.get(key, missing, version=version)
        if value is missing:
            return default
        self.front.set(key, value, version=version)
        return value

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        self.front.set(key, value, timeout, version=version)
        self.shared.set(key, value, timeout, version=version)

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        return self.shared.add(key, value, timeout, version=version)

    def incr(self, key, delta=1, version=None):
        return self.shared.incr(key, delta, version=version)

    def decr(self, key, delta=1, version=None):
        return self.shared.decr(key, delta, version=version)

    def touch(self, key, timeout=DEFAULT_TIMEOUT, version=None):
        return self.shared.touch(key, timeout, version=version)

    def has_key(self, key, version=None):
        return self.front.has_key(key, version=version) or self.shared.has_key(key, version=version)

    def delete(self, key, version=None):
        front = self.front.delete(key, version=version)
        return self.shared.delete(key, version=version) or front

    def clear(self):
        self.front.clear()
        self.shared.clear()

    def close(self, **kwargs):
        self.front.close(**kwargs)
        self.shared.close(**kwargs)
