#!/usr/bin/env python3
"""
Benchmark the spreadsheet exports at the size of ten plan years, against openpyxl's floor.

    make bench-exports                                          # both databases, ~20 minutes
    .venv/bin/python bench/exports.py --databases sqlite --repeat 1   # a quick look

For each database (a temporary SQLite file, a temporary PostgreSQL database) it

1. migrates and generates the full scale data set (`manage.py generate_scale_data`:
   2000–2009, 50 items × 3 indicators × 12 months × 13 streets, 252,000 approved figures),
   with the settings production uses (DJANGO_DEBUG=false, a secret key);
2. runs each measurement in a process of its own under `/usr/bin/time -v`, --repeat times in
   turn (so that a burst of other work on the machine hits every kind alike):
   (a) the monthly summary of the latest year: `manage.py export_summary --plan 2009
       --month 2009-06`, as .xlsx and as .csv;
   (b) all figures of every plan: `manage.py export_figures --plan all`, as .xlsx and .csv
       (252,000 rows × 7 columns);
   (c) the floor: this script in `--floor` mode, without Django, writing the same number of
       rows and columns with openpyxl's write-only mode directly (and, for the CSV files,
       with the csv module), values of the same types;
   (d) the import of a 5,000-row file: a hook, `measure_import()`, left for the importer
       (issue 5); until it exists the report says "not measured";
3. prints per export the median wall time and the median peak RSS (`Maximum resident set
   size` of `time -v`), the ratio of the wall time to the floor measured in the same run (to
   openpyxl's, the issue's measure, and for CSV also to the csv module's), the same ratio
   after taking off what a Django process costs before it exports anything (`manage.py
   export_summary --help`, measured in the same run), and
   the most CPU that other processes took during any repetition (a shared machine skews the
   figures: rerun when that column is not near 0). Before each run it waits (at most --wait
   seconds, 60) for a second in which other processes use under 10% of the CPU.

The goals (issue 5): within 3 × the openpyxl floor, and under 300 MB peak. Results also go to
var/bench/ as JSON. It needs /usr/bin/time (Debian: `apt-get install time`) and, for
PostgreSQL, a server that lets it create a database (--pg-url); it installs nothing.
"""

import argparse
import csv
import datetime
import json
import os
import platform
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
PYTHON = ROOT / ".venv" / "bin" / "python"
TIME = "/usr/bin/time"

RSS_GOAL_MB = 300
RATIO_GOAL = 3.0

# Column types of each export, for the floor: s text, n number.
FIGURE_TYPES = "snsssns"
SUMMARY_TYPES = "ssssnssnnssssss"


# ------------------------------------------------------------------------------
# (c) The floor: openpyxl write-only (or csv) without Django. Run as its own process.
# ------------------------------------------------------------------------------
def floor(fmt: str, rows: int, types: str, out: str):
    texts = ["1-1", "城镇就业人员新增", "2009-06", "规模测试街镇01", "人", "区人力资源和社会保障局"]

    def row(index):
        return [
            (index * 7 + column) % 100_000 if kind == "n" else texts[(index + column) % len(texts)]
            for column, kind in enumerate(types)
        ]

    if fmt == "csv":
        with open(out, "w", encoding="utf-8-sig", newline="") as stream:
            writer = csv.writer(stream, lineterminator="\r\n")
            for index in range(rows):
                writer.writerow(row(index))
        return
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    ws = workbook.create_sheet("floor")
    for index in range(rows):
        ws.append(row(index))
    workbook.save(out)


# ------------------------------------------------------------------------------
# Measuring one process
# ------------------------------------------------------------------------------
class BenchError(Exception):
    pass


def measure(command, env, *, timing):
    """Run `command` under /usr/bin/time -v; wall seconds, peak RSS in MB, and the share of
    the machine's CPU other processes took meanwhile."""
    timing.quiet()
    before = timing.snapshot()
    started = time.monotonic()
    done = subprocess.run(
        [TIME, "-v", *command],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=3600,
        check=False,
    )
    wall = time.monotonic() - started
    other = timing.other(before)
    if done.returncode != 0:
        raise BenchError(f"{' '.join(map(str, command))} failed:\n{done.stderr[-3000:]}")
    found = re.search(r"Maximum resident set size \(kbytes\): (\d+)", done.stderr)
    if not found:
        raise BenchError(f"no peak RSS in /usr/bin/time's output:\n{done.stderr[-1000:]}")
    return {"wall_s": round(wall, 3), "rss_mb": round(int(found[1]) / 1024, 1), "other_cpu": other}


class Timing:
    """CPU accounting from /proc, shared with bench/run.py: what this benchmark's processes
    (the measured ones, reaped; PostgreSQL) used against what the whole machine did."""

    def __init__(self, wait):
        sys.path.insert(0, str(HERE))
        import run  # bench/run.py

        self.run = run
        self.wait = wait

    def snapshot(self):
        return self.run.cpu_snapshot(-1)

    def other(self, before):
        return self.run.other_cpu(before, self.snapshot())

    def quiet(self):
        if self.wait:
            self.run.quiet(-1, seconds=self.wait)


# ------------------------------------------------------------------------------
# (d) The import of a 5,000-row file: for the importer to fill in
# ------------------------------------------------------------------------------
def measure_import(env, workdir, timing):
    """HOOK for issue 5's importer: build a 5,000-row file of one unit's month in the
    importer's template, then `measure([PYTHON, "manage.py", "import_figures", FILE, "--unit",
    CODE, "--month", MONTH], env, timing=timing)` and return the measurements (and the floor:
    openpyxl reading the same file in read-only mode). Until the importer exists, None: the
    report says "not measured". Nothing is faked here."""
    return None


# ------------------------------------------------------------------------------
# One database
# ------------------------------------------------------------------------------
def bench_database(database, options, timing):
    workdir = Path(tempfile.mkdtemp(prefix=f"yaohai-bench-exports-{database}-"))
    env = {
        **{k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")},
        "DJANGO_DEBUG": "false",
        "DJANGO_SECRET_KEY": "bench-" + os.urandom(16).hex(),
        "LOG_LEVEL": "WARNING",
    }
    pg_name = None
    try:
        if database == "sqlite":
            env["SQLITE_PATH"] = str(workdir / "db.sqlite3")
        else:
            pg_name = f"yaohai_bench_exports_{os.getpid()}"
            env["DATABASE_URL"] = timing.run.postgres_create(options.pg_url, pg_name)
        prepared = prepare(env, options)
        return {"prepare": prepared, **run_all(env, options, workdir, timing)}
    except timing.run.BenchError as error:
        raise BenchError(str(error)) from None
    finally:
        if pg_name:
            timing.run.postgres_drop(options.pg_url, pg_name)
        shutil.rmtree(workdir, ignore_errors=True)


def prepare(env, options):
    timings = {}
    for step in (["migrate", "--noinput", "-v0"], ["generate_scale_data", "--force"]):
        if step[0] == "generate_scale_data":
            step += options.scale.split()
        started = time.monotonic()
        done = subprocess.run(
            [str(PYTHON), "manage.py", *step],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=1800,
            check=False,
        )
        timings[step[0]] = round(time.monotonic() - started, 1)
        if done.returncode != 0:
            raise BenchError(f"manage.py {' '.join(step)} failed:\n{done.stderr[-2000:]}")
        if step[0] == "generate_scale_data":
            print(done.stdout.strip(), flush=True)
    return timings


def latest_year(scale_options: str) -> int:
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--years", type=int, default=10)
    parser.add_argument("--first-year", type=int, default=2000)
    known, _ = parser.parse_known_args(scale_options.split())
    return known.first_year + known.years - 1


def count_rows(path: Path, fmt: str) -> int:
    """Rows in an exported file, every sheet together (for the floor to write as many)."""
    if fmt == "csv":
        with open(path, encoding="utf-8-sig", newline="") as stream:
            return sum(1 for _ in csv.reader(stream))
    from openpyxl import load_workbook

    book = load_workbook(path, read_only=True)
    try:
        return sum(1 for ws in book.worksheets for _ in ws.iter_rows(values_only=True))
    finally:
        book.close()


def run_all(env, options, workdir, timing):
    year = latest_year(options.scale)
    manage = [str(PYTHON), "manage.py"]
    exports = {
        "summary-xlsx": (
            [*manage, "export_summary", "--plan", str(year), "--month", f"{year}-06"],
            "xlsx",
            SUMMARY_TYPES,
        ),
        "summary-csv": (
            [*manage, "export_summary", "--plan", str(year), "--month", f"{year}-06"],
            "csv",
            "sssssnssnnsssssss",
        ),
        "figures-xlsx": ([*manage, "export_figures", "--plan", "all"], "xlsx", FIGURE_TYPES),
        "figures-csv": ([*manage, "export_figures", "--plan", "all"], "csv", FIGURE_TYPES),
    }
    # One untimed run each: the row counts the floors write, and a warm page cache.
    shapes = {}
    for name, (command, fmt, types) in exports.items():
        out = workdir / f"{name}.{fmt}"
        done = subprocess.run(
            [*command, "-o", str(out)], cwd=ROOT, env=env, capture_output=True, text=True
        )
        if done.returncode != 0:
            raise BenchError(f"{name} failed:\n{done.stderr[-2000:]}")
        shapes[name] = {"rows": count_rows(out, fmt), "columns": len(types), "types": types}
        print(f"  {name}: {shapes[name]['rows']} rows × {len(types)} columns", flush=True)

    runs = {name: [] for name in exports}
    # What every Django process pays before it exports anything: settings, apps, the command
    # module with openpyxl. A small export is mostly this.
    startup = []
    floors = {f"floor-{name}": [] for name in exports}
    floors.update({f"floor-{name}-openpyxl": [] for name in exports if name.endswith("csv")})
    for round_ in range(options.repeat):
        measured = measure([*manage, "export_summary", "--help"], env, timing=timing)
        startup.append(measured)
        report_line(round_, options.repeat, "django-startup", measured)
        for name, (command, fmt, types) in exports.items():
            out = workdir / f"{name}.{fmt}"
            measured = measure([*command, "-o", str(out)], env, timing=timing)
            runs[name].append(measured)
            report_line(round_, options.repeat, name, measured)
            rows = str(shapes[name]["rows"])
            floor_formats = [(f"floor-{name}", fmt)]
            if fmt == "csv":
                floor_formats.append((f"floor-{name}-openpyxl", "xlsx"))
            for floor_name, floor_fmt in floor_formats:
                floor_out = workdir / f"{floor_name}.{floor_fmt}"
                command_floor = [str(PYTHON), str(Path(__file__).resolve()), "--floor", floor_fmt]
                command_floor += [rows, types, str(floor_out)]
                measured = measure(command_floor, env, timing=timing)
                floors[floor_name].append(measured)
                report_line(round_, options.repeat, floor_name, measured)
    imported = measure_import(env, workdir, timing)
    return {
        "shapes": shapes,
        "runs": runs,
        "floors": floors,
        "startup": startup,
        "medians": medians(runs, floors, startup),
        "import_5000_rows": imported,
    }


def report_line(round_, repeat, name, measured):
    print(
        f"  [{round_ + 1}/{repeat}] {name:30} {measured['wall_s']:8.2f} s "
        f"{measured['rss_mb']:7.1f} MB  other CPU {measured['other_cpu']:.0f}%",
        flush=True,
    )


def medians(runs, floors, startup):
    def median_of(values):
        return {
            "wall_s": round(statistics.median(v["wall_s"] for v in values), 3),
            "rss_mb": round(statistics.median(v["rss_mb"] for v in values), 1),
            "max_other_cpu": max(v["other_cpu"] for v in values),
        }

    table = {}
    started = median_of(startup)["wall_s"]
    for name, values in runs.items():
        row = median_of(values)
        own_floor = median_of(floors[f"floor-{name}"])
        openpyxl_floor = median_of(floors.get(f"floor-{name}-openpyxl") or floors[f"floor-{name}"])
        row["floor_wall_s"] = own_floor["wall_s"]
        row["floor_rss_mb"] = own_floor["rss_mb"]
        row["ratio"] = round(row["wall_s"] / own_floor["wall_s"], 2)
        row["openpyxl_floor_wall_s"] = openpyxl_floor["wall_s"]
        row["ratio_openpyxl"] = round(row["wall_s"] / openpyxl_floor["wall_s"], 2)
        row["startup_s"] = started
        row["beyond_startup_ratio"] = round((row["wall_s"] - started) / own_floor["wall_s"], 2)
        row["goal"] = verdict(row)
        table[name] = row
    return table


def verdict(row):
    missed = []
    if row["ratio_openpyxl"] > RATIO_GOAL:
        missed.append(f"> {RATIO_GOAL:g}× floor")
    if row["rss_mb"] >= RSS_GOAL_MB:
        missed.append(f"≥ {RSS_GOAL_MB} MB")
    return "met" if not missed else "MISSED: " + ", ".join(missed)


def summary(results):
    lines = [f"Machine: {results['machine']}", f"Date: {results['date']}"]
    for database, measured in results["databases"].items():
        lines.append(f"\n### {database}\n")
        lines.append(
            "| export | rows × columns | wall s | peak RSS MB | floor s (same format) | "
            "× floor | × openpyxl floor | goal | (wall − Django start-up) ÷ floor | other CPU |"
        )
        lines.append("|---|--:|--:|--:|--:|--:|--:|---|--:|--:|")
        for name, row in measured["medians"].items():
            shape = measured["shapes"][name]
            lines.append(
                f"| {name} | {shape['rows']:,} × {shape['columns']} | {row['wall_s']:.2f} | "
                f"{row['rss_mb']:.0f} | {row['floor_wall_s']:.2f} | {row['ratio']:.2f} | "
                f"{row['ratio_openpyxl']:.2f} | {row['goal']} | "
                f"{row['beyond_startup_ratio']:.2f} | {row['max_other_cpu']:.0f}% |"
            )
        lines.append(
            f"\nDjango start-up (`manage.py export_summary --help`): "
            f"{statistics.median(v['wall_s'] for v in measured['startup']):.2f} s, "
            f"{statistics.median(v['rss_mb'] for v in measured['startup']):.0f} MB."
        )
        floor_rss = {
            name: statistics.median(v["rss_mb"] for v in values)
            for name, values in measured["floors"].items()
        }
        lines.append(
            "\nFloor peak RSS (MB): "
            + ", ".join(f"{name} {rss:.0f}" for name, rss in floor_rss.items())
        )
        if measured["import_5000_rows"] is None:
            lines.append("(d) import of a 5,000-row file: not measured (no importer yet).")
        lines.append(f"Preparation (s): {measured['prepare']}")
    return "\n".join(lines)


def machine():
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpus": os.cpu_count(),
        "cpu": cpu,
        "python": platform.python_version(),
        "system": platform.platform(),
    }


def arguments():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--databases", default="sqlite,postgresql", type=lambda s: s.split(","))
    parser.add_argument("--repeat", type=int, default=3, help="runs of each export; medians (3)")
    parser.add_argument(
        "--pg-url",
        default=os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432/postgres"),
        help="a PostgreSQL server to create the temporary database on",
    )
    parser.add_argument(
        "--wait",
        type=int,
        default=60,
        help="seconds to wait at most before each run for other processes to leave the CPU (60)",
    )
    parser.add_argument(
        "--scale", default="", help="extra generate_scale_data options, e.g. '--years 2'"
    )
    options = parser.parse_args()
    if not 1 <= options.repeat <= 50:
        parser.error("--repeat must be between 1 and 50")
    unknown = set(options.databases) - {"sqlite", "postgresql"}
    if unknown:
        parser.error(f"unknown database: {', '.join(sorted(unknown))}")
    return options


def main():
    if len(sys.argv) == 6 and sys.argv[1] == "--floor":
        _, _, fmt, rows, types, out = sys.argv
        floor(fmt, int(rows), types, out)
        return
    options = arguments()
    # Stopped by a signal, it still drops its database and removes its files (the finally
    # blocks); a shell starts a background job with SIGINT ignored.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    signal.signal(signal.SIGINT, signal.default_int_handler)
    if not Path(TIME).exists():
        sys.exit(
            "bench: /usr/bin/time is not installed. On Debian: apt-get install time "
            "(this script installs nothing itself)."
        )
    if not PYTHON.exists():
        sys.exit("bench: .venv is missing; run `make setup` (or `make test`) first.")
    timing = Timing(options.wait)
    results = {
        "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "machine": machine(),
        "options": vars(options),
        "databases": {},
    }
    failed = []
    for database in options.databases:
        print(f"\n=== {database}", flush=True)
        try:
            results["databases"][database] = bench_database(database, options, timing)
        except BenchError as error:
            print(f"bench: {database}: {error}", file=sys.stderr, flush=True)
            failed.append(database)
    out = ROOT / "var" / "bench"
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"exports-{time.strftime('%Y%m%d-%H%M%S')}.json"
    path.write_text(json.dumps(results, ensure_ascii=False, indent=2))
    print(f"\n{summary(results)}\nResults: {path.relative_to(ROOT)}")
    if failed:
        sys.exit(f"bench: not measured: {', '.join(failed)}")


if __name__ == "__main__":
    main()
