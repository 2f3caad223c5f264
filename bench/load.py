#!/usr/bin/env python3
"""
The load goal of issue 7: the public pages, mixed, at 50 connections against PostgreSQL and
gunicorn with production settings: p95 under 300 ms and no error.

    make faults                                   # this, then bench/faults.py
    .venv/bin/python bench/load.py --scale "--years 2" --duration 10 --repeat 1   # quicker

It

1. creates a temporary PostgreSQL database (--pg-url), migrates it, generates the scale data
   set of bench/run.py (`generate_scale_data`: ten plan years, 252,000 figures; --scale to
   change) and runs collectstatic, with DJANGO_DEBUG=false and a secret key;
2. starts gunicorn with the repository's deploy/gunicorn.conf.py when there is one (bind and
   workers overridden), otherwise with the equivalent flags below; pages cached as beyond one
   machine, in Redis database 14 (--cache redis, emptied first) or per process (--cache locmem);
3. warms every page on every worker, then drives the mix (home, domain, item, unit, street,
   search, month, about; each wrk connection walks them in turn) with wrk at 50 connections
   for --duration seconds, --repeat times, after the machine is quiet (bench/run.py: quiet);
4. prints requests/s, p50/p95/p99 and errors (non-2xx/3xx answers and socket errors) per run
   and their medians (errors summed), PASS or FAIL, and exits non-zero on FAIL.

Loopback only; every wait is bounded; the database, the Redis keys and gunicorn are removed on
the way out, whatever happens.
"""

import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import run  # bench/run.py: the helpers of the page benchmark

ROOT = run.ROOT
MIX = Path(__file__).resolve().parent / "mix.lua"
GUNICORN_CONF = ROOT / "deploy" / "gunicorn.conf.py"
P95_GOAL_MS = 300
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")


def gunicorn_command(port: int, workers: int, *extra: str) -> list[str]:
    """gunicorn as production runs it: the repository's config file when there is one,
    otherwise its equivalent (sync workers, 30 s worker timeout, graceful restarts, the
    application preloaded in the master)."""
    command = [str(run.BIN / "gunicorn"), "yaohai_portal.wsgi"]
    if GUNICORN_CONF.exists():
        command += ["--config", str(GUNICORN_CONF)]
    else:
        # --preload: the master loads Django once and forks ready workers, so a worker that
        # dies is replaced by one that serves at once instead of after importing everything.
        command += ["--worker-class", "sync", "--timeout", "30", "--graceful-timeout", "30"]
        command += ["--preload"]
    return [
        *command,
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        "--log-level",
        "warning",
        *extra,
    ]


def production_env(workdir: Path, **variables) -> dict:
    env = {
        **{k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")},
        "DJANGO_DEBUG": "false",
        "DJANGO_SECRET_KEY": "bench-" + os.urandom(16).hex(),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "STATIC_ROOT": str(workdir / "static"),
        "LOG_LEVEL": "WARNING",
    }
    env.update(variables)
    return env


def redis_flush(url: str) -> bool:
    """Empty this benchmark's Redis database; False when Redis does not answer."""
    try:
        import redis

        redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=5).flushdb()
        return True
    except Exception as error:  # redis-py raises several types for one cause
        print(f"load: Redis at {url} does not answer ({error})", file=sys.stderr)
        return False


def arguments():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=20, help="seconds per wrk run (20)")
    parser.add_argument("--repeat", type=int, default=3, help="runs; medians (3)")
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--threads", type=int, default=2, help="wrk threads (2)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (2)")
    parser.add_argument("--cache", choices=("redis", "locmem"), default="redis")
    parser.add_argument(
        "--pg-url",
        default=os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432/postgres"),
        help="a PostgreSQL server to create the temporary database on",
    )
    parser.add_argument("--scale", default="", help="extra generate_scale_data options")
    options = parser.parse_args()
    for name in ("duration", "repeat", "connections", "threads", "workers"):
        if not 1 <= getattr(options, name) <= 600:
            parser.error(f"--{name} must be between 1 and 600")
    return options


def main():
    options = arguments()
    # SIGTERM and SIGHUP unwind like Ctrl+C: the database, Redis keys and gunicorn go.
    for number in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(number, lambda *_: sys.exit("load: terminated"))
    wrk = shutil.which("wrk")
    if wrk is None:
        sys.exit("load: wrk is not installed. On Debian: apt-get install wrk.")
    workdir = Path(tempfile.mkdtemp(prefix="yaohai-load-"))
    name = f"yaohai_load_{os.getpid()}"
    cache = options.cache
    if cache == "redis" and not redis_flush(REDIS_URL):
        cache = "locmem"
        print("load: pages cached per process instead (locmem)", flush=True)
    try:
        env = production_env(workdir, DATABASE_URL=run.postgres_create(options.pg_url, name))
        if cache == "redis":
            env["REDIS_URL"] = REDIS_URL
        print(f"=== preparing ({options.scale or 'the full scale data set'})", flush=True)
        prepared = run.prepare(env, options)
        measured = serve_and_drive(env, options, wrk, workdir)
    except run.BenchError as error:
        sys.exit(f"load: {error}")
    finally:
        run.postgres_drop(options.pg_url, name)
        if cache == "redis":
            redis_flush(REDIS_URL)
        shutil.rmtree(workdir, ignore_errors=True)
    result = {
        "date": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "machine": run.machine(),
        "options": vars(options),
        "cache": cache,
        "gunicorn_config": str(GUNICORN_CONF.relative_to(ROOT))
        if GUNICORN_CONF.exists()
        else "flags (deploy/gunicorn.conf.py absent)",
        "prepare": prepared,
        **measured,
    }
    out = ROOT / "var" / "bench"
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"load-{time.strftime('%Y%m%d-%H%M%S')}.json"
    path.write_text(json.dumps(result, ensure_ascii=False, indent=2))
    median = measured["median"]
    passed = median["p95_ms"] < P95_GOAL_MS and median["errors"] == 0
    print(
        f"\nload: {options.connections} connections, {options.workers} workers, PostgreSQL, "
        f"pages cached in {cache}: {median['rps']:.0f} req/s, p50 {median['p50_ms']:.1f} ms, "
        f"p95 {median['p95_ms']:.1f} ms, p99 {median['p99_ms']:.1f} ms, "
        f"errors {median['errors']} / {median['requests']} "
        f"(most other CPU {median['max_other_cpu_pct']:.0f}%)\n"
        f"{'PASS' if passed else 'FAIL'} load: p95 < {P95_GOAL_MS} ms and 0 errors\n"
        f"Results: {path.relative_to(ROOT)}"
    )
    sys.exit(0 if passed else 1)


def serve_and_drive(env, options, wrk, workdir):
    port = run.free_port()
    paths = list(run.pages(run.latest_year(options.scale)).values())
    log_path = workdir / "gunicorn.log"
    with open(log_path, "w") as log:
        server = subprocess.Popen(
            gunicorn_command(port, options.workers),
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            run.wait_until_up(port, server)
            for path in paths:
                for _ in range(2 * options.workers):
                    status, _, _ = run.fetch(port, path)
                    if status != 200:
                        raise run.BenchError(f"{path} answered {status}: {log_path.read_text()}")
            runs = []
            for round_ in range(options.repeat):
                run.settle(port)
                run.quiet(server.pid)
                before = run.cpu_snapshot(server.pid)
                measured = drive_mix(wrk, port, paths, options)
                measured["other_cpu_pct"] = run.other_cpu(before, run.cpu_snapshot(server.pid))
                runs.append(measured)
                print(
                    f"  [{round_ + 1}/{options.repeat}] mix {measured['rps']:8.1f} req/s  "
                    f"p50 {measured['p50_ms']:6.1f} ms  p95 {measured['p95_ms']:6.1f} ms  "
                    f"p99 {measured['p99_ms']:6.1f} ms  errors {measured['errors']}  "
                    f"other CPU {measured['other_cpu_pct']:.0f}%",
                    flush=True,
                )
        finally:
            server.terminate()
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait(timeout=10)
    median = {
        key: round(statistics.median(r[key] for r in runs), 1)
        for key in ("rps", "p50_ms", "p95_ms", "p99_ms")
    }
    median["errors"] = sum(r["errors"] for r in runs)
    median["requests"] = sum(r["requests"] for r in runs)
    median["max_other_cpu_pct"] = max(r["other_cpu_pct"] for r in runs)
    return {"runs": runs, "median": median, "paths": paths}


def drive_mix(wrk, port, paths, options):
    command = [
        wrk,
        f"-t{options.threads}",
        f"-c{options.connections}",
        f"-d{options.duration}s",
        "--timeout",
        "10s",
        "-s",
        str(MIX),
        f"http://127.0.0.1:{port}",
        "--",
        *paths,
    ]
    done = subprocess.run(
        command, capture_output=True, text=True, timeout=options.duration + 60, check=False
    )
    return run.wrk_figures(done, "the page mix")


if __name__ == "__main__":
    main()
