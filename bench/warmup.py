#!/usr/bin/env python3
"""
The page warm-up (livelihood/public/warmup.py) timed on ten years of data: how long it takes
to render every public page into the page cache, and how many pages it renders, in four runs:

1. cold: an empty page cache, every page of every plan year rendered (a deploy, or a change
   every page shows);
2. everything cached: nothing changed, each page one cache lookup;
3. after an approval in the current plan: an approved report reopened, corrected, submitted
   and approved again through the services the admin uses (two publications); only the
   current plan's pages and the pages outside a plan year are rendered again, the earlier
   years' are hits (livelihood/operations/publication.py, `Versions`);
4. after a street is renamed (shown on every plan year's pages): every page again.

    .venv/bin/python bench/warmup.py --sqlite /tmp/scale10.sqlite3     # an existing data set
    .venv/bin/python bench/warmup.py                                  # generates 10 years

The data set is changed by runs 3 and 4 (a report re-approved, a street renamed and named back):
use a copy if it matters. The page cache is the portal's own two tiers, its shared tier in a
temporary folder; one process, one origin (http://testserver). Results also go to var/bench/.
"""

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import scale_setup  # bench/scale_setup.py, beside this script

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

ORIGIN = "http://testserver"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    scale_setup.add_arguments(parser)
    args = parser.parse_args()
    settings = {
        "PUBLIC_PAGE_CACHE": "true",  # whatever the shell says: the cache is what is timed
        "PUBLIC_PAGE_WARMUP": "false",  # warmed here, by hand, not by the publications
        "PAGE_CACHE_DIR": tempfile.mkdtemp(prefix="bench-warmup-cache-"),
        "PUBLIC_VERSION_RECHECK_SECONDS": "0",
    }
    scale_setup.open_scale_data(args, settings, "bench-warmup-")
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.urls import resolve

    from livelihood.plan.models import Plan, Street
    from livelihood.public import warmup
    from livelihood.reporting import services
    from livelihood.reporting.models import MonthlyReport

    plans = list(Plan.objects.published())
    pages = len(warmup.page_paths())
    runs = {}
    kinds = {}  # page kind (URL name) -> [pages, seconds] of the run under way
    render = warmup.render

    def timed_render(handler, origin, path):
        started = time.perf_counter()
        try:
            return render(handler, origin, path)
        finally:
            kind = kinds.setdefault(resolve(path).url_name, [0, 0.0])
            kind[0] += 1
            kind[1] += time.perf_counter() - started

    warmup.render = timed_render

    def run(label):
        kinds.clear()
        done = warmup.warm(extra_origins=[ORIGIN])
        runs[label] = {
            **done.as_dict(),
            "kinds": {k: [n, round(t, 3)] for k, (n, t) in kinds.items()},
        }
        print(
            f"{label:<46}{done.seconds:>8.2f} s{done.pages:>7} rendered{done.cached:>7} cached"
            f"{done.skipped:>5} not stored"
        )
        slowest = sorted(kinds.items(), key=lambda kind: -kind[1][1])[:6]
        print("    " + ", ".join(f"{k} {n}× {t / n * 1000:.1f} ms" for k, (n, t) in slowest))

    print(f"{pages} pages, {len(plans)} plan years ({connection.vendor}), one origin\n")
    run("1. cold (empty cache)")
    run("2. everything cached")

    office, _ = get_user_model().objects.get_or_create(
        username="bench-warmup-office", defaults={"is_staff": True, "is_superuser": True}
    )
    report = (
        MonthlyReport.objects.filter(item__plan=plans[0], state=MonthlyReport.State.APPROVED)
        .order_by("-month", "item__code")
        .first()
    )
    report = services.report_reopen(report=report, user=office, reason="基准测试：更正数据")
    answers = {
        "narrative": "基准测试：已更正。",
        "delay_reason": MonthlyReport._meta.get_field("delay_reason").choices[0][0],
        "delay_note": "基准测试",
        "confidence": 3,
    }
    report.refresh_from_db()
    missing = services.submission_problems(report)
    report = services.report_save(
        report=report, user=office, **{field: answers[field] for field in missing}
    )
    report = services.report_submit(report=report, user=office)
    services.report_approve(report=report, user=office)
    run(f"3. after an approval in {plans[0].year}")

    street = Street.objects.order_by("code").first()
    name = street.name
    street.name = f"{name}（更名）"
    street.save()
    run("4. after a street renamed")
    street.name = name
    street.save()

    out = ROOT / "var" / "bench"
    out.mkdir(parents=True, exist_ok=True)
    target = out / f"warmup-{time.strftime('%Y%m%d-%H%M%S')}.json"
    target.write_text(
        json.dumps({"vendor": connection.vendor, "pages": pages, "runs": runs}, indent=2)
    )
    print(f"\n→ {target.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
