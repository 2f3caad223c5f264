"""
The publication versions: numbers, kept in the database, that change whenever anything
residents can see changes. Cached public pages are keyed on them (livelihood/public/cache.py).

There are three kinds (`Versions`): the version of everything, raised by every change; the
site's, raised by a change every page may show (the plans themselves, lead units, streets,
demo data appearing or going); and one per plan (PlanVersion), raised by a change within that
plan. The pages under /<year>/ are keyed on the site's and their plan's: approving a report of
this year's plan leaves the pages of the nine earlier years cached, and the warm-up after it
renders only this year's pages and the site's own (home, the plan list, the API index…),
which are keyed on the version of everything.

Why the database: `make run` serves two gunicorn workers, each with its own local-memory
cache, and beyond one machine there are several app servers. A version kept in a process would
go stale in every other one; the database is the one thing they all share. Reading them is one
query (a dozen rows), which each worker makes at most once per PUBLIC_VERSION_RECHECK_SECONDS
(`current_for_pages()`).

Writers never call this directly: the signals in livelihood/operations/signals.py call
`publication_bump()` on every save and delete of a model residents can see, with the plan
the row belongs to. Code that writes around the signals (`QuerySet.update()`,
`bulk_create()`, raw SQL) calls `publication_bump()` itself, with the plan when it knows it.
"""

import datetime
import functools
import time
from dataclasses import dataclass, field

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
MAX_LOOKUP = 500  # rows whose plans one transaction looks up; more raise the site's version
SITE_ROW_YEAR = 0  # `current()`'s query: the row of PublicationVersion, not a plan's

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


@dataclass(frozen=True)
class PageVersion:
    """What one page is keyed on: `token` in its cache key, `changed_at` its Last-Modified."""

    token: str
    changed_at: datetime.datetime


@dataclass(frozen=True)
class Versions:
    """The versions read in one query (`current()`):

    - `everything`: raised by every change residents can see. The pages outside a plan year
      (home, the plan list, the data page, the feed, the API index…) are keyed on it, and so
      is the warm-up (`token`, `counter`, `changed_at` are its).
    - `site`: raised only by a change every page may show (the plans themselves, lead units,
      streets, demo data appearing or going; a change whose plan is not known).
    - `plans`: one per plan year, raised by a change within that plan.

    A page under /<year>/ is keyed on the site's version and its plan's (`for_page(year)`):
    approving a report of this year's plan leaves the cached pages of earlier years hits."""

    everything: Version
    site: Version
    plans: dict[int, Version] = field(default_factory=dict)

    @property
    def counter(self) -> int:
        return self.everything.counter

    @property
    def changed_at(self) -> datetime.datetime:
        return self.everything.changed_at

    @property
    def token(self) -> str:
        return self.everything.token

    def for_page(self, year: int | None) -> PageVersion:
        if year is None:
            return PageVersion(self.everything.token, self.everything.changed_at)
        plan = self.plans.get(year)
        if plan is None:  # a plan nothing has been published in yet
            return PageVersion(f"{self.site.token}/-", self.site.changed_at)
        return PageVersion(
            f"{self.site.token}/{plan.token}", max(self.site.changed_at, plan.changed_at)
        )


def current(using: str = DEFAULT_DB_ALIAS) -> Versions | None:
    """The versions residents' pages are at, in one query; None if the row is missing (a table
    flushed by hand: the next bump creates it again).

    Plain SQL, built once: every cached page pays for this query, and building it through the
    ORM costs more than running it."""
    connection = connections[using]
    try:
        rows = _read(connection, health_checked=True)
    except DatabaseError:
        if connection.in_atomic_block:
            raise
        # The server closed the kept connection (a restart, an idle timeout): what Django's
        # health check is there to catch. A new connection, and the question once more.
        connection.close()
        rows = _read(connection, health_checked=False)
    everything = site = None
    plans = {}
    for year, counter, changed_at, site_counter, site_changed_at in rows:
        if year == SITE_ROW_YEAR:
            everything = Version(counter, _moment(changed_at))
            site = Version(site_counter, _moment(site_changed_at))
        else:
            plans[year] = Version(counter, _moment(changed_at))
    if everything is None:
        return None
    return Versions(everything, site, plans)


def _moment(value) -> datetime.datetime:
    if isinstance(value, str):  # SQLite hands back text
        value = datetime.datetime.fromisoformat(value)
    if timezone.is_naive(value):
        value = timezone.make_aware(value, datetime.UTC)
    return value


# The version each worker last read, per database alias: (Version, when to ask again).
_recent: dict[str, tuple[Versions, float]] = {}


def current_for_pages(using: str | None = None) -> Versions | None:
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
        return cursor.fetchall()


@functools.cache
def _current_sql(vendor: str) -> str:
    from django.db import connection

    from livelihood.operations.models import PlanVersion, PublicationVersion
    from livelihood.plan.models import Plan

    quote = connection.ops.quote_name

    def column(model, name):
        return quote(model._meta.get_field(name).column)

    site, plan, plans = (quote(m._meta.db_table) for m in (PublicationVersion, PlanVersion, Plan))
    counter, changed_at = column(PlanVersion, "counter"), column(PlanVersion, "changed_at")
    # No parameters: nothing to bind on every request. A dozen rows for a dozen plan years.
    return (
        f"SELECT {SITE_ROW_YEAR}, {column(PublicationVersion, 'counter')}, "
        f"{column(PublicationVersion, 'changed_at')}, "
        f"{column(PublicationVersion, 'site_counter')}, "
        f"{column(PublicationVersion, 'site_changed_at')} "
        f"FROM {site} WHERE {column(PublicationVersion, 'id')} = {SINGLE_ROW} "
        f"UNION ALL SELECT {plans}.{column(Plan, 'year')}, {plan}.{counter}, "
        f"{plan}.{changed_at}, {plan}.{counter}, {plan}.{changed_at} "
        f"FROM {plan} INNER JOIN {plans} "
        f"ON {plans}.{column(Plan, 'id')} = {plan}.{column(PlanVersion, 'plan')}"
    )


class _Bump:
    """The on-commit callback, one per transaction: what the transaction changed, gathered as
    it goes (`add`), raised once it commits. A class so that a pending one can be found."""

    def __init__(self, using):
        self.using = using
        self.site = False
        self.plans: set[int] = set()
        # (model, path to the plan's id, pks): looked up once, when the transaction commits.
        self.through: dict[tuple[type, str], set] = {}

    def add(self, *, plan=None, through=None):
        if plan is None and through is None:
            self.site = True
        if plan is not None:
            self.plans.add(plan)
        if through is not None:
            model, path, pk = through
            self.through.setdefault((model, path), set()).add(pk)

    def __call__(self):
        plans = set(self.plans)
        site = self.site
        for (model, path), pks in self.through.items():
            if site or len(pks) > MAX_LOOKUP:  # a change that large: the whole site
                site = True
                break
            found = model._base_manager.using(self.using).filter(pk__in=pks)
            rows = dict(found.values_list("pk", path))
            if len(rows) < len(pks) or None in rows.values():
                site = True  # a row gone since: its plan is not known, so every page's
            plans.update(plan for plan in rows.values() if plan is not None)
        bump_now(self.using, site=site, plans=plans)


def _pending(using) -> _Bump | None:
    # `run_on_commit` holds (savepoint ids, callable, robust); Django drops the entries of a
    # savepoint that rolls back, and all of them when the transaction does.
    for entry in connections[using].run_on_commit:
        if isinstance(entry[1], _Bump):
            return entry[1]
    return None


def bump_pending(using: str = DEFAULT_DB_ALIAS) -> bool:
    """A change on this connection waits for its transaction to commit before it raises the
    version: until then the version in the database is older than what this connection sees.
    """
    return _pending(using) is not None


def publication_bump(using: str = DEFAULT_DB_ALIAS, *, plan=None, through=None) -> None:
    """Raise the versions once the current transaction commits (at once outside one).

    `plan` (a plan's id) when the change is within one plan; `through` = (model, path, pk)
    when the plan is known only through a row: `model`'s row `pk`, whose plan id is at
    `path` ("plan_id", "item__plan_id"), looked up when the transaction commits. Neither: a
    change of the whole site (every page). The version of everything is raised either way.

    A transaction that saves a thousand rows raises them once: a bump already waiting for this
    transaction gathers what this one adds (a rolled-back savepoint's additions stay in it,
    which only means some pages are rendered afresh when they need not be).
    """
    connection = connections[using]
    pending = _pending(using) if connection.in_atomic_block else None
    if pending is not None:
        pending.add(plan=plan, through=through)
        return
    bump = _Bump(using)
    bump.add(plan=plan, through=through)
    transaction.on_commit(bump, using=using)


def bump_now(using: str = DEFAULT_DB_ALIAS, *, site: bool = True, plans=()) -> None:
    """`UPDATE … SET counter = counter + 1`: atomic in the database, so two workers bumping at
    once both count. Raises the version of everything; the site's when `site`; each of
    `plans` (plan ids) otherwise. Creates the rows that are missing."""
    from livelihood.operations.models import PlanVersion, PublicationVersion

    now = timezone.now()
    with transaction.atomic(using=using):
        rows = PublicationVersion.objects.using(using).filter(pk=SINGLE_ROW)
        raise_site = {"site_counter": F("site_counter") + 1, "site_changed_at": now}
        changes = {"counter": F("counter") + 1, "changed_at": now, **(raise_site if site else {})}
        if not rows.update(**changes):
            PublicationVersion.objects.using(using).get_or_create(
                pk=SINGLE_ROW,
                defaults={
                    "counter": 1,
                    "changed_at": now,
                    "site_counter": 1,
                    "site_changed_at": now,
                },
            )
        if plans and not site:  # a site change already moves every plan year's pages
            versions = PlanVersion.objects.using(using)
            missing = [
                PlanVersion(plan_id=plan, counter=1, changed_at=now)
                # One order for every writer: no deadlock between two.
                for plan in sorted(plans)
                if not versions.filter(plan_id=plan).update(
                    counter=F("counter") + 1, changed_at=now
                )
            ]
            if missing:
                versions.bulk_create(missing, ignore_conflicts=True)
    forget_recent(using)
    if published.has_listeners():
        version = current(using)
        if version is not None:
            published.send_robust(sender=Version, version=version, using=using)
