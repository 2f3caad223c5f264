"""
The publication version: one number, kept in the database, that changes whenever anything
residents can see changes. Cached public pages are keyed on it (livelihood/public/cache.py).

Why the database: `make run` serves two gunicorn workers, each with its own local-memory
cache, and beyond one machine there are several app servers. A version kept in a process would
go stale in every other one; the database is the one thing they all share. Reading it is one
primary-key query, which each worker makes at most once per PUBLIC_VERSION_RECHECK_SECONDS
(`current_for_pages()`).

Writers never call this directly: the signals in livelihood/operations/signals.py call
`publication_bump()`
on every save and delete of a model residents can see. Code that writes around the signals
(`QuerySet.update()`, `bulk_create()`, raw SQL) calls `publication_bump()` itself.
"""

import datetime
import functools
import time
from dataclasses import dataclass

from django.conf import settings
from django.db import (
    DEFAULT_DB_ALIAS,
    DatabaseError,
    InterfaceError,
    OperationalError,
    connections,
    transaction,
)
from django.db.models import F
from django.dispatch import Signal
from django.utils import timezone

SINGLE_ROW = 1

# Sent by `bump_now` once the version is raised (the change behind it has committed), with
# `version` (the new Version) and `using` (the database alias). The page warm-up listens
# (livelihood/public/warmup.py); this module knows nothing of it. Sent robustly: a receiver
# that fails is logged and fails nothing, the publication has already happened.
published = Signal()


@dataclass(frozen=True)
class Version:
    counter: int
    changed_at: datetime.datetime

    @property
    def token(self) -> str:
        """Unique across databases and resets as well as changes: the counter alone would
        restart at 1 in a new database and meet pages cached for an old one in Redis."""
        return f"{self.counter}.{self.changed_at.timestamp():.6f}"


def current(using: str = DEFAULT_DB_ALIAS) -> Version | None:
    """The version residents' pages are at, in one query; None if the row is missing (a table
    flushed by hand: the next bump creates it again).

    Plain SQL, built once: every cached page pays for this query, and building it through the
    ORM costs more than running it."""
    connection = connections[using]
    try:
        row = _read(connection, health_checked=True)
    except DatabaseError:
        if connection.in_atomic_block:
            raise
        # The server closed the kept connection (a restart, an idle timeout): what Django's
        # health check is there to catch. A new connection, and the question once more.
        connection.close()
        row = _read(connection, health_checked=False)
    if row is None:
        return None
    counter, changed_at = row
    if isinstance(changed_at, str):  # SQLite hands back text
        changed_at = datetime.datetime.fromisoformat(changed_at)
    if timezone.is_naive(changed_at):
        changed_at = timezone.make_aware(changed_at, datetime.UTC)
    return Version(counter, changed_at)


# The version each worker last read, per database alias: (Version, when to ask again).
_recent: dict[str, tuple[Version, float]] = {}


def current_for_pages(using: str | None = None) -> Version | None:
    """`current()`, read from the database at most once per PUBLIC_VERSION_RECHECK_SECONDS
    in this process. A bump made here forgets it at once (`bump_now`); other workers and app
    servers see it within that time. Under load this spares cached pages their one query.

    By default from the database the page itself reads (the read replica for residents'
    pages when there is one, livelihood/operations/routers.py), so that a page is never stored under
    a version newer than the data it was rendered from."""
    if using is None:
        from livelihood.operations.routers import public_read_alias

        using = public_read_alias()
    wait = settings.PUBLIC_VERSION_RECHECK_SECONDS
    recent = _recent.get(using)
    if wait > 0 and recent is not None and time.monotonic() < recent[1]:
        return recent[0]
    try:
        version = current(using)
    except (OperationalError, InterfaceError):
        # The database is down or restarting. Nothing can be published while it is, so the
        # version this worker last read is still the current one: pages cached under it keep
        # being served, and a page not in the cache gets the 503 page (its view needs the
        # database). The database is asked again at most once a second meanwhile, so that
        # an unreachable host's connect timeout is not paid by every cached page.
        if recent is None or connections[using].in_atomic_block:
            raise
        _recent[using] = (recent[0], time.monotonic() + max(wait, 1))
        return recent[0]
    if version is not None:  # kept with wait = 0 too: what an outage falls back on
        _recent[using] = (version, time.monotonic() + wait)
    return version


def forget_recent(using: str | None = None) -> None:
    """Ask the database on the next page (all aliases when `using` is None)."""
    if using is None:
        _recent.clear()
    else:
        _recent.pop(using, None)


def _read(connection, *, health_checked):
    # With CONN_HEALTH_CHECKS (PostgreSQL) Django checks a kept connection with `SELECT 1`
    # before its first query in each request. This query, the first of every public page,
    # checks it as well: a failure is retried above. One round trip instead of two on every
    # cached page. (`health_check_done` is Django's own flag; were it renamed, Django would
    # simply check as before.)
    if health_checked and connection.connection is not None:
        connection.health_check_done = True
    with connection.cursor() as cursor:
        cursor.execute(_current_sql(connection.vendor))
        return cursor.fetchone()


@functools.cache
def _current_sql(vendor: str) -> str:
    from django.db import connection

    from livelihood.operations.models import PublicationVersion

    meta, quote = PublicationVersion._meta, connection.ops.quote_name
    counter, changed_at, pk = (
        quote(meta.get_field(name).column) for name in ("counter", "changed_at", "id")
    )
    # No parameters: nothing to bind on every request.
    return f"SELECT {counter}, {changed_at} FROM {quote(meta.db_table)} WHERE {pk} = {SINGLE_ROW}"


class _Bump:
    """The on-commit callback; a class so that a pending one can be recognised."""

    def __init__(self, using):
        self.using = using

    def __call__(self):
        bump_now(self.using)


def bump_pending(using: str = DEFAULT_DB_ALIAS) -> bool:
    """A change on this connection waits for its transaction to commit before it raises the
    version: until then the version in the database is older than what this connection sees.
    """
    # `run_on_commit` holds (savepoint ids, callable, robust); Django drops the entries of a
    # savepoint that rolls back, and all of them when the transaction does.
    return any(isinstance(entry[1], _Bump) for entry in connections[using].run_on_commit)


def publication_bump(using: str = DEFAULT_DB_ALIAS) -> None:
    """Raise the version once the current transaction commits (at once outside one).

    A transaction that saves a thousand rows raises it once: a bump already waiting for this
    transaction is not scheduled again.
    """
    if connections[using].in_atomic_block and bump_pending(using):
        return
    transaction.on_commit(_Bump(using), using=using)


def bump_now(using: str = DEFAULT_DB_ALIAS) -> None:
    """`UPDATE … SET counter = counter + 1`: atomic in the database, so two workers bumping at
    once both count. Creates the row when it is missing."""
    from livelihood.operations.models import PublicationVersion

    now = timezone.now()
    rows = PublicationVersion.objects.using(using).filter(pk=SINGLE_ROW)
    if not rows.update(counter=F("counter") + 1, changed_at=now):
        PublicationVersion.objects.using(using).get_or_create(
            pk=SINGLE_ROW, defaults={"counter": 1, "changed_at": now}
        )
    forget_recent(using)
    if published.has_listeners():
        version = current(using)
        if version is not None:
            published.send_robust(sender=Version, version=version, using=using)
