"""
Addresses of public pages, reversed once per process: `reverse()` costs about as much as a
row of a list page, and a list page links every row (docs/performance.md). The result is
exactly `reverse()`'s, remembered per URLconf and script prefix.
"""

import functools

from django.conf import settings
from django.urls import get_script_prefix, get_urlconf, reverse


@functools.lru_cache(maxsize=8192)
def _reverse(urlconf, prefix, name, args):
    return reverse(name, urlconf=urlconf, args=args)


def url(name: str, *args) -> str:
    """`reverse(name, args=args)`, remembered."""
    return _reverse(get_urlconf() or settings.ROOT_URLCONF, get_script_prefix(), name, args)


def item_url(item) -> str:
    """`item.get_absolute_url()`, remembered."""
    return url("livelihood:item-detail", item.plan.year, item.code)
