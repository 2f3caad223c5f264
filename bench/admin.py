#!/usr/bin/env python3
"""
Time the admin pages a lead-unit clerk and the coordinating office use every month, at the
size of ten plan years (issue 16, "Staff pages at scale").

    .venv/bin/python bench/admin.py                                   # a temporary SQLite file
    .venv/bin/python bench/admin.py --sqlite-path /tmp/staff10.sqlite3   # reused when generated
    .venv/bin/python bench/admin.py --database-url postgres://postgres@127.0.0.1:5432/staff10

In one process, with the settings production uses (DJANGO_DEBUG=false, a secret key), it

1. migrates the database and, unless it already holds scale data, generates it
   (`manage.py generate_scale_data`, by default 2000–2009 × 50 items × 3 indicators ×
   12 months × 13 streets: 6,000 reports, 252,000 figures; --years and the other sizes are
   passed on);
2. makes two staff accounts if missing, `bench-office` (区民生办) and `bench-clerk`
   (牵头单位填报员 of scale-u01), as `manage.py create_unit_user` does, and signs each in
   with Django's test Client;
3. asks each page once counting its queries (CaptureQueriesContext), --warmup times more,
   then --repeat times timed, and prints per page and role the status, the queries, the
   median and the slowest time against the 150 ms goal.

On PostgreSQL the database is vacuumed first (VACUUM ANALYZE, as autovacuum would be; see
vacuum(); --no-vacuum to skip). The temporary SQLite file is removed afterwards; a
--sqlite-path or --database-url database is kept (with the two accounts in it), so the next
run skips the generation. Two-factor sign-in is off for the run
(OTP_REQUIRED_FOR_COORDINATOR=false): it is not what is measured. Static files are served
from their sources (no collectstatic). The machine is shared: a run on a busy machine is slow
everywhere; run it again.
"""

import argparse
import io
import logging
import os
import secrets
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GOAL_MS = 150
OFFICE, CLERK = "bench-office", "bench-clerk"
SIZES = ("years", "items", "indicators", "months", "streets")


def configure(options, workdir):
    """The environment settings.py reads, set before Django is."""
    os.environ.pop("DATABASE_URL", None)
    os.environ.pop("DATABASE_REPLICA_URL", None)
    if options.database_url:
        os.environ["DATABASE_URL"] = options.database_url
    else:
        os.environ["SQLITE_PATH"] = str(options.sqlite_path or Path(workdir) / "admin.sqlite3")
    os.environ["DJANGO_DEBUG"] = "false"
    os.environ["DJANGO_SECRET_KEY"] = secrets.token_urlsafe(40)
    os.environ["DJANGO_ALLOWED_HOSTS"] = "testserver"
    os.environ["OTP_REQUIRED_FOR_COORDINATOR"] = "false"
    os.environ["OTP_REQUIRED_FOR_STAFF"] = "false"
    os.environ["STATIC_ROOT"] = str(workdir)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yaohai_portal.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    # force_login signs in through django-axes, which logs each sign-in.
    logging.getLogger("axes").setLevel(logging.WARNING)


def prepare(options):
    from django.core.management import call_command

    from livelihood.devdata import scale

    call_command("migrate", verbosity=0)
    if scale.scale_exists():
        years = sorted(scale.scale_plans().values_list("year", flat=True))
        print(f"reusing the scale data already there: {years[0]}–{years[-1]}", flush=True)
    else:
        sizes = {name: getattr(options, name) for name in SIZES if getattr(options, name)}
        started = time.monotonic()
        call_command("generate_scale_data", force=True, stdout=io.StringIO(), **sizes)
        print(f"generated the scale data in {time.monotonic() - started:.0f} s", flush=True)
    if options.vacuum:
        vacuum()


def vacuum():
    """PostgreSQL: VACUUM ANALYZE, as autovacuum does some time after a bulk load. The
    generator only analyses; until a vacuum sets the visibility map, the planner prices every
    index-only scan as a heap fetch and picks plans a database that grew month by month (with
    autovacuum on, the default) would not: the item list's data-month subquery then reads all
    reports once per row. SQLite has no such map: nothing to do."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")


def accounts():
    """(office, clerk) users, made when missing, as create_unit_user makes them."""
    from django.contrib.auth import get_user_model

    from livelihood.accounts.models import StaffProfile
    from livelihood.accounts.roles import roles_ensure
    from livelihood.devdata import scale
    from livelihood.plan.models import LeadUnit

    office_group, unit_group = roles_ensure()
    unit = LeadUnit.objects.get(code=f"{scale.CODE_PREFIX}u01")
    users = []
    for username, group, lead_unit in ((OFFICE, office_group, None), (CLERK, unit_group, unit)):
        user, made = get_user_model().objects.get_or_create(
            username=username, defaults={"is_staff": True}
        )
        if made:
            user.set_unusable_password()
            user.save()
            user.groups.add(group)
            StaffProfile.objects.create(user=user, lead_unit=lead_unit)
        users.append(user)
    return users, unit


def pages(unit):
    """The pages, on the latest generated year: name → URL. The report is the clerk's own
    unit's, December of the latest year, so both roles open the same form."""
    from django.urls import reverse

    from livelihood.devdata import scale
    from livelihood.reporting.models import MonthlyReport

    year = max(scale.scale_plans().values_list("year", flat=True))
    report = (
        MonthlyReport.objects.filter(item__plan__year=year, item__lead_unit=unit)
        .order_by("item__code", "-month")
        .first()
    )

    def admin(name, *args):
        return reverse(f"admin:livelihood_{name}", args=args)

    return {
        "reports": admin("monthlyreport_changelist"),
        "reports, searched": admin("monthlyreport_changelist") + "?q=1-1",
        "reports, one month": admin("monthlyreport_changelist")
        + f"?month__year={year}&month__month=6",
        "figures": admin("figure_changelist"),
        "figures, approved": admin("figure_changelist") + "?report__state__exact=approved",
        "board": admin("monthlyreport_board"),
        "report form": admin("monthlyreport_change", report.pk),
        "items": admin("item_changelist"),
        "items, searched": admin("item_changelist") + "?q=规模测试",
    }


def measure(client, path, warmup, repeat):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        response = client.get(path)
    status, queries = response.status_code, len(captured)
    for _ in range(warmup):
        client.get(path)
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        client.get(path)
        times.append((time.perf_counter() - started) * 1000)
    return {
        "status": status,
        "queries": queries,
        "median_ms": statistics.median(times),
        "max_ms": max(times),
    }


def run(options):
    from django.db import connection
    from django.test import Client, override_settings

    prepare(options)
    users, unit = accounts()
    urls = pages(unit)
    rows = []
    # Static files from their sources: DEBUG off would otherwise need collectstatic's manifest.
    storages = {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    with override_settings(STORAGES=storages):
        for user, role in zip(users, ("office", "clerk"), strict=True):
            client = Client()
            client.force_login(user)
            for name, path in urls.items():
                if options.only and not any(word in name for word in options.only):
                    continue
                found = measure(client, path, options.warmup, options.repeat)
                rows.append({"page": name, "role": role, **found})
                print_row(rows[-1])
    print(
        f"\n{connection.vendor}, {options.repeat} timed requests per page after "
        f"{options.warmup} warm-up; goal: at most {GOAL_MS} ms"
    )
    return rows


HEADER = f"{'page':<20} {'role':<7} {'status':>6} {'queries':>7} {'median ms':>10} {'max ms':>7}"


def print_row(row):
    if not getattr(print_row, "started", False):
        print(HEADER + "  goal")
        print("-" * (len(HEADER) + 6))
        print_row.started = True
    verdict = "ok" if row["status"] == 200 and row["median_ms"] <= GOAL_MS else "OVER"
    if row["status"] != 200:
        verdict = f"HTTP {row['status']}"
    print(
        f"{row['page']:<20} {row['role']:<7} {row['status']:>6} {row['queries']:>7} "
        f"{row['median_ms']:>10.1f} {row['max_ms']:>7.1f}  {verdict}",
        flush=True,
    )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0].strip())
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--sqlite-path", type=Path, help="a SQLite file, kept (reused if generated)")
    where.add_argument("--database-url", help="postgres://… of an existing database, kept")
    parser.add_argument("--repeat", type=int, default=9, help="timed requests per page (9)")
    parser.add_argument("--warmup", type=int, default=2, help="untimed requests first (2)")
    parser.add_argument(
        "--no-vacuum",
        dest="vacuum",
        action="store_false",
        help="PostgreSQL: measure the database as the generator leaves it, not vacuumed",
    )
    parser.add_argument("--only", nargs="*", help="pages whose name contains one of these words")
    for name in SIZES:
        parser.add_argument(f"--{name}", type=int, help=f"generate_scale_data --{name}")
    options = parser.parse_args(argv)
    if options.repeat < 1:
        parser.error("--repeat must be at least 1")
    with tempfile.TemporaryDirectory(prefix="bench-admin-") as workdir:
        configure(options, workdir)
        rows = run(options)
    return 0 if all(r["status"] == 200 for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
