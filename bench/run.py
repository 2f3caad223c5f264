#!/usr/bin/env python3
"""
Benchmark the public pages as production serves them, at the size of ten plan years.

    make bench                                  # both databases, about 25 minutes
    .venv/bin/python bench/run.py --databases sqlite --duration 5 --repeat 1   # a quick look

For each database (a temporary SQLite file, a temporary PostgreSQL database) it

1. migrates, generates the full scale data set (`manage.py generate_scale_data`: 2000–2009,
   50 items × 3 indicators × 12 months × 13 streets, 252,000 figures) and runs collectstatic,
   with the settings production uses (DJANGO_DEBUG=false, a secret key);
2. starts gunicorn on a free loopback port, `--workers 2` (see --workers), once with the page
   cache on and once with PUBLIC_PAGE_CACHE=false;
   with the page cache on it first runs `manage.py warm_pages` for the server's address and
   reports its seconds (the warm-up a publication queues, livelihood/public/warmup.py);
3. drives /healthz (the baseline: no database, no template), /bench/trivial (a view that
   does nothing, through the same middleware: bench/trivial_site.py) and each page type
   with wrk, 50 connections for --duration seconds each, --repeat times in turn, sending
   `Accept-Encoding: gzip` as browsers do; before each run it waits for the requests the last
   one left queued to drain, and (at most 3 minutes) for other processes to leave the CPU;
4. prints, per page, the median requests/s, p50 and p95 latency, the errors (non-2xx/3xx
   answers and socket errors, summed), the ratio of its requests/s to /healthz and to the
   trivial view in the same server run, and the most CPU other processes took during a run
   (a shared machine skews the figures: rerun when that column is not near 0); the home
   page's size, compressed as sent and uncompressed; and the warm-up's seconds.

The goals (issue 3): cached ≥ 0.6 × /healthz requests/s, uncached ≥ 0.1 ×, p95 < 300 ms at
50 connections, no errors, home < 60 KB compressed; issue 16: cached ≥ 0.8 × the trivial
view. Results also go to var/bench/ as JSON.

It needs wrk (Debian: `apt-get install wrk`) and, for PostgreSQL, a server that lets it create
a database (--pg-url); it installs nothing. Only loopback traffic; every wait is bounded.
"""

import argparse
import datetime
import gzip
import http.client
import json
import os
import platform
import re
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / ".venv" / "bin"
PYTHON = BIN / "python"
REPORTER = Path(__file__).resolve().parent / "report.lua"


def pages(year):
    """The page types, on the latest generated plan year: what the home page shows."""
    return {
        "home": "/",
        "domain": f"/{year}/domains/1/",
        "item": f"/{year}/items/1-1/",
        "unit": f"/{year}/units/scale-u01/",
        "street": f"/{year}/streets/scale-s01/",
        "search": f"/{year}/search/?q={quote('事项')}",
        "month": f"/{year}/months/{year}-06/",
        "about": "/about/",
    }


def latest_year(scale_options: str) -> int:
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--years", type=int, default=10)
    parser.add_argument("--first-year", type=int, default=2000)
    known, _ = parser.parse_known_args(scale_options.split())
    return known.first_year + known.years - 1


GOALS = {"cached": 0.6, "uncached": 0.1}
TRIVIAL_GOALS = {"cached": 0.8}  # × the trivial view's requests/s (issue 16)
BASELINES = {"healthz": "/healthz", "trivial": "/bench/trivial"}
P95_GOAL_MS = 300
HOME_GOAL_BYTES = 60 * 1024


def main():
    options = arguments()
    wrk = shutil.which("wrk")
    if wrk is None:
        sys.exit(
            "bench: wrk is not installed. On Debian: apt-get install wrk "
            "(this script installs nothing itself)."
        )
    if not PYTHON.exists():
        sys.exit("bench: .venv is missing; run `make setup` (or `make test`) first.")
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
            results["databases"][database] = bench_database(database, options, wrk)
        except BenchError as error:
            print(f"bench: {database}: {error}", file=sys.stderr, flush=True)
            failed.append(database)
    out = ROOT / "var" / "bench"
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"bench-{time.strftime('%Y%m%d-%H%M%S')}.json"
    path.write_text(json.dumps(results, ensure_ascii=False, indent=2))
    print(f"\n{summary(results)}\nResults: {path.relative_to(ROOT)}")
    if failed:
        sys.exit(f"bench: not measured: {', '.join(failed)}")


class BenchError(Exception):
    pass


def arguments():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--databases", default="sqlite,postgresql", type=lambda s: s.split(","))
    parser.add_argument(
        "--modes", default="cached,uncached", type=lambda s: s.split(","), help="page cache"
    )
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run (10)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per page; medians (3)")
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--threads", type=int, default=2, help="wrk threads (2)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (2)")
    parser.add_argument(
        "--pg-url",
        default=os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432/postgres"),
        help="a PostgreSQL server to create the temporary database on",
    )
    parser.add_argument(
        "--scale",
        default="",
        help="extra generate_scale_data options, e.g. '--years 2' (default: the full set)",
    )
    options = parser.parse_args()
    for name in ("duration", "repeat", "connections", "threads", "workers"):
        if not 1 <= getattr(options, name) <= 600:
            parser.error(f"--{name} must be between 1 and 600")
    if set(options.modes) - set(GOALS):
        parser.error("--modes: cached, uncached or both")
    unknown = set(options.databases) - {"sqlite", "postgresql"}
    if unknown:
        parser.error(f"unknown database: {', '.join(sorted(unknown))}")
    return options


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
        "wrk": (run_text(["wrk", "--version"]).splitlines() or [""])[0],
        "postgresql": run_text(["psql", "--version"]).strip(),
        "sqlite": run_text([str(PYTHON), "-c", "import sqlite3; print(sqlite3.sqlite_version)"]),
    }


def run_text(command):
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return (done.stdout or done.stderr).strip()


# ------------------------------------------------------------------------------
# One database
# ------------------------------------------------------------------------------
def bench_database(database, options, wrk):
    workdir = Path(tempfile.mkdtemp(prefix=f"yaohai-bench-{database}-"))
    env = {
        **{k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")},
        "DJANGO_DEBUG": "false",
        "DJANGO_SECRET_KEY": "bench-" + os.urandom(16).hex(),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "STATIC_ROOT": str(workdir / "static"),
        "LOG_LEVEL": "WARNING",
        "PAGE_CACHE_DIR": str(workdir / "page-cache"),
    }
    pg_name = None
    try:
        if database == "sqlite":
            env["SQLITE_PATH"] = str(workdir / "db.sqlite3")
        else:
            pg_name = f"yaohai_bench_{os.getpid()}"
            env["DATABASE_URL"] = postgres_create(options.pg_url, pg_name)
        prepared = prepare(env, options)
        modes = {}
        for mode in options.modes:
            server_env = {**env, "PUBLIC_PAGE_CACHE": "true" if mode == "cached" else "false"}
            print(f"--- {database}, pages {mode}", flush=True)
            modes[mode] = bench_server(server_env, options, wrk, workdir / f"gunicorn-{mode}.log")
        return {"prepare": prepared, "modes": modes}
    finally:
        if pg_name:
            postgres_drop(options.pg_url, pg_name)
        shutil.rmtree(workdir, ignore_errors=True)


def prepare(env, options):
    steps = [
        ["migrate", "--noinput", "-v0"],
        ["generate_scale_data", "--force", *options.scale.split()],
        ["collectstatic", "--noinput", "-v0"],
    ]
    timings = {}
    for step in steps:
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


def postgres_create(url, name):
    import psycopg

    try:
        with psycopg.connect(url, autocommit=True, connect_timeout=5) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            connection.execute(f'CREATE DATABASE "{name}"')
    except psycopg.Error as error:
        raise BenchError(f"cannot create a database on {url}: {error}") from None
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


def postgres_drop(url, name):
    import psycopg

    try:
        with psycopg.connect(url, autocommit=True, connect_timeout=5) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    except psycopg.Error as error:
        print(f"bench: could not drop database {name}: {error}", file=sys.stderr)


# ------------------------------------------------------------------------------
# One server run: /healthz and every page, --repeat times in turn
# ------------------------------------------------------------------------------
def bench_server(env, options, wrk, log_path):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    paths = pages(latest_year(options.scale))
    server_env = {
        **env,
        "DJANGO_SETTINGS_MODULE": "trivial_site",
        "PYTHONPATH": os.pathsep.join(
            p for p in (str(Path(__file__).resolve().parent), env.get("PYTHONPATH")) if p
        ),
    }
    warmed = None
    with open(log_path, "w") as log:
        server = subprocess.Popen(
            [
                str(BIN / "gunicorn"),
                "yaohai_portal.wsgi",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                str(options.workers),
                "--log-level",
                "warning",
            ],
            cwd=ROOT,
            env=server_env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            wait_until_up(port, server)
            if env.get("PUBLIC_PAGE_CACHE") == "true":
                warmed = warm_pages(env, base)
            for path in paths.values():  # every page answers, and each worker has seen it
                for _ in range(2 * options.workers):
                    status, _, _ = fetch(port, path)
                    if status != 200:
                        raise BenchError(f"{path} answered {status}; see {log_path}")
            runs = {name: [] for name in (*BASELINES, *paths)}
            for round_ in range(options.repeat):
                for name in runs:
                    path = BASELINES.get(name) or paths[name]
                    settle(port)
                    quiet(server.pid)
                    before = cpu_snapshot(server.pid)
                    measured = drive(wrk, base + path, options)
                    measured["other_cpu_pct"] = other_cpu(before, cpu_snapshot(server.pid))
                    runs[name].append(measured)
                    print(
                        f"  [{round_ + 1}/{options.repeat}] {name:8} "
                        f"{measured['rps']:8.1f} req/s  p50 {measured['p50_ms']:7.1f} ms  "
                        f"p95 {measured['p95_ms']:7.1f} ms  errors {measured['errors']}  "
                        f"other CPU {measured['other_cpu_pct']:.0f}%",
                        flush=True,
                    )
            home = home_size(port)
        finally:
            server.terminate()
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait(timeout=10)
    return {"runs": runs, "medians": medians(runs), "home": home, "warm_pages": warmed}


def warm_pages(env, base):
    """`manage.py warm_pages` for the server's address: its seconds and pages."""
    started = time.monotonic()
    done = subprocess.run(
        [str(PYTHON), "manage.py", "warm_pages", "--origin", base],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
    )
    seconds = round(time.monotonic() - started, 1)
    if done.returncode != 0:
        raise BenchError(f"manage.py warm_pages failed:\n{done.stderr[-2000:]}")
    found = re.search(r"已生成 (\d+) 个页面", done.stdout)
    pages = int(found.group(1)) if found else None
    print(f"  warm_pages: {pages} pages in {seconds} s ({done.stdout.strip()})", flush=True)
    return {"seconds": seconds, "pages": pages}


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_snapshot(server_pid):
    """CPU seconds: the whole machine's (total, busy), and per process the part that is this
    benchmark's (the gunicorn master and workers, PostgreSQL), plus wrk once it has exited."""
    with open("/proc/stat") as stat:
        values = [int(v) for v in stat.readline().split()[1:9]]
    total = sum(values) / CLOCK_TICKS
    busy = total - (values[3] + values[4]) / CLOCK_TICKS
    reaped = resource.getrusage(resource.RUSAGE_CHILDREN)  # the wrk runs so far
    ours = {"wrk": reaped.ru_utime + reaped.ru_stime}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            raw = (entry / "stat").read_text()
        except OSError:
            continue
        name = raw[raw.index("(") + 1 : raw.rindex(")")]
        fields = raw[raw.rindex(")") + 2 :].split()
        pid, ppid = int(entry.name), int(fields[1])
        if pid == server_pid or ppid == server_pid or name == "postgres":
            ours[pid] = (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
    return total, busy, ours


def other_cpu(before, after):
    """The share of the machine's CPU that went elsewhere during a run, in percent. A process
    that exited during the run (a PostgreSQL backend) is not counted as ours: at worst this
    overstates the share."""
    total = after[0] - before[0]
    ours = sum(seconds - before[2].get(key, 0) for key, seconds in after[2].items())
    other = (after[1] - before[1]) - ours
    return round(min(max(other / total, 0), 1) * 100, 1) if total > 0 else 0.0


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until_up(port, server, seconds=60):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise BenchError(f"gunicorn exited with {server.returncode}")
        try:
            if fetch(port, "/healthz")[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise BenchError(f"gunicorn did not answer within {seconds} s")


def settle(port, seconds=120):
    """Wait until the requests the last run left queued (wrk stops writing, but a slow page's
    backlog is still being served) are gone: /healthz answers at once twice in a row."""
    deadline = time.monotonic() + seconds
    quick = 0
    while time.monotonic() < deadline:
        started = time.monotonic()
        fetch(port, "/healthz")
        quick = quick + 1 if time.monotonic() - started < 0.05 else 0
        if quick == 2:
            return
        time.sleep(0.1)
    raise BenchError(f"the server was still busy {seconds} s after a run")


def quiet(server_pid, seconds=180, most=10.0):
    """On a shared machine, wait (at most `seconds`) for a second in which other processes
    use under `most` % of the CPU; the run's 'other CPU' column says how that went."""
    deadline = time.monotonic() + seconds
    said = False
    while time.monotonic() < deadline:
        before = cpu_snapshot(server_pid)
        time.sleep(1)
        other = other_cpu(before, cpu_snapshot(server_pid))
        if other < most:
            return
        if not said:
            print(f"  (waiting for other work to stop: {other:.0f}% CPU)", flush=True)
            said = True


def fetch(port, path, headers=None):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        connection.request("GET", path, headers=headers or {})
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


def home_size(port):
    status, headers, body = fetch(port, "/", {"Accept-Encoding": "gzip"})
    if status != 200:
        raise BenchError(f"home answered {status}")
    encoding = headers.get("Content-Encoding", "")
    html = gzip.decompress(body) if encoding == "gzip" else body
    return {"sent_bytes": len(body), "encoding": encoding or "identity", "html_bytes": len(html)}


LINE = re.compile(r"^BENCH (.*)$", re.MULTILINE)


def drive(wrk, url, options):
    command = [
        wrk,
        f"-t{options.threads}",
        f"-c{options.connections}",
        f"-d{options.duration}s",
        "--timeout",
        "10s",
        "-H",
        "Accept-Encoding: gzip",
        "-s",
        str(REPORTER),
        url,
    ]
    done = subprocess.run(
        command, capture_output=True, text=True, timeout=options.duration + 60, check=False
    )
    return wrk_figures(done, url)


def wrk_figures(done, what):
    """The figures of a finished wrk run from the BENCH line its Lua script printed
    (report.lua, mix.lua)."""
    found = LINE.search(done.stdout)
    if done.returncode != 0 or not found:
        raise BenchError(f"wrk failed on {what}: {done.stderr or done.stdout}")
    values = {k: int(v) for k, v in (pair.split("=") for pair in found.group(1).split())}
    socket_errors = sum(values[k] for k in ("connect", "read", "write", "timeout"))
    return {
        "rps": values["requests"] / (values["duration_us"] / 1e6),
        "p50_ms": values["p50_us"] / 1000,
        "p95_ms": values["p95_us"] / 1000,
        "p99_ms": values["p99_us"] / 1000,
        "max_ms": values["max_us"] / 1000,
        "requests": values["requests"],
        "non_2xx_3xx": values["status"],
        "socket_errors": socket_errors,
        "errors": values["status"] + socket_errors,
        "bytes": values["bytes"],
    }


def medians(runs):
    health = statistics.median(run["rps"] for run in runs["healthz"])
    trivial = statistics.median(run["rps"] for run in runs["trivial"])
    table = {}
    for name, measured in runs.items():
        rps = statistics.median(run["rps"] for run in measured)
        table[name] = {
            "rps": round(rps, 1),
            "ratio": round(rps / health, 3) if health else None,
            "ratio_trivial": round(rps / trivial, 3) if trivial else None,
            "p50_ms": round(statistics.median(run["p50_ms"] for run in measured), 1),
            "p95_ms": round(statistics.median(run["p95_ms"] for run in measured), 1),
            "errors": sum(run["errors"] for run in measured),
            "requests": sum(run["requests"] for run in measured),
            "max_other_cpu_pct": max(run["other_cpu_pct"] for run in measured),
        }
    return table


# ------------------------------------------------------------------------------
# The table
# ------------------------------------------------------------------------------
def summary(results):
    lines = []
    for database, measured in results["databases"].items():
        lines.append(f"## {database}")
        lines.append("")
        lines.append(
            "| page | cache | req/s | × /healthz | × trivial | goal | p50 ms | p95 ms "
            "| errors / requests | other CPU |"
        )
        lines.append("|---|---|--:|--:|--:|---|--:|--:|--:|--:|")
        for mode, run in measured["modes"].items():
            for name, row in run["medians"].items():
                goal = "" if name in BASELINES else verdict(mode, row)
                lines.append(
                    f"| {name} | {mode} | {row['rps']:.0f} | {row['ratio']:.2f} | "
                    f"{row['ratio_trivial']:.2f} | {goal} | "
                    f"{row['p50_ms']:.1f} | {row['p95_ms']:.1f} | "
                    f"{row['errors']} / {row['requests']} | {row['max_other_cpu_pct']:.0f}% |"
                )
        for mode, run in measured["modes"].items():
            home = run["home"]
            ok = "met" if home["sent_bytes"] < HOME_GOAL_BYTES else "MISSED"
            lines.append(
                f"\nHome page ({mode}): {home['sent_bytes'] / 1024:.1f} KB sent "
                f"({home['encoding']}), {home['html_bytes'] / 1024:.1f} KB of HTML "
                f"(goal < 60 KB compressed: {ok})."
            )
        other = max(
            row["max_other_cpu_pct"]
            for run in measured["modes"].values()
            for row in run["medians"].values()
        )
        if other > 10:
            lines.append(
                f"\nNote: up to {other:.0f}% of the machine's CPU went to processes other than "
                "gunicorn, wrk and PostgreSQL during a run (column 'other CPU', the most in any "
                "repetition): those figures understate this machine."
            )
        for mode, run in measured["modes"].items():
            if run.get("warm_pages"):
                warmed = run["warm_pages"]
                lines.append(
                    f"\nWarm-up ({mode}): `manage.py warm_pages` rendered {warmed['pages']} "
                    f"pages in {warmed['seconds']} s."
                )
        lines.append(f"\nPreparation (s): {measured['prepare']}\n")
    return "\n".join(lines)


def verdict(mode, row):
    missed = []
    if row["ratio"] < GOALS[mode]:
        missed.append(f"ratio < {GOALS[mode]}")
    if mode in TRIVIAL_GOALS and row["ratio_trivial"] < TRIVIAL_GOALS[mode]:
        missed.append(f"× trivial < {TRIVIAL_GOALS[mode]}")
    if row["p95_ms"] >= P95_GOAL_MS:
        missed.append(f"p95 ≥ {P95_GOAL_MS} ms")
    if row["errors"]:
        missed.append("errors")
    return "met" if not missed else "MISSED: " + ", ".join(missed)


if __name__ == "__main__":
    main()
