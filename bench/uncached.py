#!/usr/bin/env python3
"""
The public pages rendered one request at a time with the page cache off, in one process
(Django's test client, the whole middleware stack, DEBUG off): what a cache miss costs, read
from the stored progress snapshot (issue 16), against the about page in the same run.

    .venv/bin/python bench/uncached.py --sqlite /tmp/scale10.sqlite3     # an existing data set
    .venv/bin/python bench/uncached.py                                 # generates 10 years

Without --sqlite (or --database-url) it migrates a temporary SQLite file and generates the
scale data (`generate_scale_data`, ten plan years). For each page it makes --warmup requests,
then --repeat timed rounds of one request per page in turn (so that a shared machine's drift
moves every page alike), and prints the median and p90 in milliseconds, the ratio to the
about page's median, the median CPU time of the process (steadier on a shared host) and its
ratio, the queries per request, and the targets of issue 16: home ≤ 8 ms and
≤ 2 × about, every other page ≤ 3 × about. `--afresh` times the same pages computing progress
afresh (the snapshot bypassed), as before issue 16, for the ratio between the two.
Results also go to var/bench/ as JSON.
"""

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import scale_setup  # bench/scale_setup.py, beside this script

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def pages(year):
    return {
        "about": "/about/",
        "home": "/",
        "domain": f"/{year}/domains/1/",
        "item": f"/{year}/items/1-1/",
        "unit": f"/{year}/units/scale-u01/",
        "street": f"/{year}/streets/scale-s01/",
        "search": f"/{year}/search/?q=%E4%BA%8B%E9%A1%B9",
        "search landing": f"/{year}/search/",
        "month view": f"/{year}/months/{year}-06/",
        "plan list": "/plans/",
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    scale_setup.add_arguments(parser)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--repeat", type=int, default=40)
    parser.add_argument("--afresh", action="store_true", help="also time progress computed afresh")
    args = parser.parse_args()
    scale_setup.open_scale_data(args, {"PUBLIC_PAGE_CACHE": "false"}, "bench-uncached-")
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from livelihood.plan.models import Plan
    from livelihood.snapshots import read

    year = Plan.objects.published().first().year
    client = Client()

    def run(label):
        rows = {}
        urls = pages(year)
        for url in urls.values():
            for _ in range(args.warmup):
                assert client.get(url).status_code == 200, url
        # Round-robin: one request of each page in turn, so that the machine speeding up or
        # slowing down (a shared host) moves every page's times alike, not one page's.
        times = {name: [] for name in urls}
        cpu = {name: [] for name in urls}
        for _ in range(args.repeat):
            for name, url in urls.items():
                started, started_cpu = time.perf_counter(), time.process_time()
                response = client.get(url)
                times[name].append((time.perf_counter() - started) * 1000)
                cpu[name].append((time.process_time() - started_cpu) * 1000)
                assert response.status_code == 200, url
        for name, url in urls.items():
            with CaptureQueriesContext(connection) as queries:
                client.get(url)
            ordered = sorted(times[name])
            rows[name] = {
                "median_ms": statistics.median(ordered),
                "p90_ms": ordered[int(len(ordered) * 0.9) - 1],
                "cpu_median_ms": statistics.median(cpu[name]),
                "queries": len(queries),
            }
        about = rows["about"]["median_ms"]
        print(f"\n{label} ({connection.vendor}, plan year {year}, {args.repeat} requests each)")
        print(
            f"{'page':<16}{'median ms':>10}{'p90 ms':>9}{'× about':>9}{'CPU ms':>8}{'× about':>9}"
            f"{'queries':>9}  target"
        )
        for name, row in rows.items():
            ratio = row["median_ms"] / about
            row["ratio_to_about"] = ratio
            if name == "about":
                target = ""
            elif name == "home":
                ok = row["median_ms"] <= 8 and ratio <= 2
                target = f"≤ 8 ms and ≤ 2 × about: {'met' if ok else 'MISSED'}"
            else:
                target = f"≤ 3 × about: {'met' if ratio <= 3 else 'MISSED'}"
            cpu_ratio = row["cpu_median_ms"] / rows["about"]["cpu_median_ms"]
            row["cpu_ratio_to_about"] = cpu_ratio
            print(
                f"{name:<16}{row['median_ms']:>10.2f}{row['p90_ms']:>9.2f}{ratio:>9.2f}"
                f"{row['cpu_median_ms']:>8.2f}{cpu_ratio:>9.2f}{row['queries']:>9}  {target}"
            )
        return rows

    results = {"stored": run("Read from the stored snapshot")}
    if args.afresh:
        original = read._build
        read._build = lambda plan: None  # every plan read as if it had no snapshot
        try:
            results["afresh"] = run("Computed afresh (the snapshot bypassed)")
        finally:
            read._build = original
        for name in results["stored"]:
            speedup = results["afresh"][name]["median_ms"] / results["stored"][name]["median_ms"]
            results["stored"][name]["speedup"] = speedup
        print(
            "\nafresh ÷ stored: "
            + ", ".join(f"{n} {r['speedup']:.1f}×" for n, r in results["stored"].items())
        )
    out = ROOT / "var" / "bench"
    out.mkdir(parents=True, exist_ok=True)
    name = out / f"uncached-{time.strftime('%Y%m%d-%H%M%S')}.json"
    name.write_text(json.dumps({"vendor": connection.vendor, "year": year, **results}, indent=2))
    print(f"\n→ {name.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
