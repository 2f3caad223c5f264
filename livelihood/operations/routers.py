"""
The optional read replica (DATABASE_REPLICA_URL): residents' pages read from it, everything
else uses the primary.

`PublicReadMiddleware` marks a request as a public read when it is a GET or HEAD of one of the
portal's public pages (the `livelihood` URL namespace: pages, downloads, API, feed) from a
visitor without a session or messages cookie. `PublicReadRouter` then sends that request's
reads to the `replica` alias. Writes, the admin, staff (who have just approved something and
expect to see it), form submissions, imports, commands, /healthz and /readyz all stay on the
primary, as does anything outside a request.

The publication version that keys the page cache (livelihood/operations/publication.py) is read
from the
same database as the page: a page rendered from the replica is then never stored under a
version newer than the data it shows. Read from the primary, a lagging replica would render
the old data under the new version's key and keep it there until the next change.

Without a `replica` alias the router answers nothing and Django uses `default`, as before.
https://docs.djangoproject.com/en/5.2/topics/db/multi-db/#automatic-database-routing
"""

import contextvars

from django.db import DEFAULT_DB_ALIAS, connections

from livelihood.operations.visitors import is_personal

REPLICA = "replica"
_public_read = contextvars.ContextVar("yaohai_public_read", default=False)


def public_pages_alias() -> str:
    """The alias residents' pages read from, whatever the current request: the replica if
    there is one. For code that must agree with a public page before the page is resolved
    (the page cache's early hits, livelihood/public/cache.py)."""
    return REPLICA if REPLICA in connections.settings else DEFAULT_DB_ALIAS


def public_read_alias() -> str:
    """The alias the current public read uses: the replica if there is one and this is a
    public read, else the primary."""
    if _public_read.get() and REPLICA in connections.settings:
        return REPLICA
    return DEFAULT_DB_ALIAS


class PublicReadRouter:
    def db_for_read(self, model, **hints):
        alias = public_read_alias()
        return alias if alias == REPLICA else None

    def db_for_write(self, model, **hints):
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1, obj2, **hints):
        # The replica holds the primary's rows: an object read from one may point at the other.
        return True

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        # The replica follows the primary's schema through replication; it is never migrated.
        return False if db == REPLICA else None


def is_public_read(request) -> bool:
    match = request.resolver_match
    return (
        request.method in ("GET", "HEAD")
        and match is not None
        and "livelihood" in match.app_names
        and not is_personal(request)
    )


class PublicReadMiddleware:
    """Marks the request as a public read between URL resolution and the end of the response
    (a streamed download included, which reads its rows while it is being sent)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = _public_read.set(False)
        try:
            response = self.get_response(request)
            public = _public_read.get()
        finally:
            _public_read.reset(token)
        if public and response.streaming:
            response.streaming_content = _reading_public(response.streaming_content)
        return response

    def process_view(self, request, view_func, view_args, view_kwargs):
        if is_public_read(request):
            _public_read.set(True)


def _reading_public(chunks):
    token = _public_read.set(True)
    try:
        yield from chunks
    finally:
        _public_read.reset(token)
