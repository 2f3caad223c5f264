#!/usr/bin/env python3
"""
The fault scenarios of issue 7, each timed against real processes; PASS or FAIL per scenario
with its figures, and a non-zero exit when any fails.

    make faults                                         # these, then bench/load.py
    .venv/bin/python bench/faults.py --scenarios worker-crash,db-restart

worker-crash  gunicorn (--workers, production settings, SQLite) under a steady stream of
              requests from --clients threads; one worker is killed with SIGKILL --kills
              times. Counts the requests that failed (only the killed worker's in-flight ones
              may: one per sync worker) and the time until the master's new worker has
              answered a request (goal < 5 s; read from gunicorn's access log, which this
              script asks to print the worker's pid; responses carry nothing extra).
db-restart    gunicorn against a throwaway PostgreSQL cluster of this script's own (initdb in a
              temporary directory, its own port; the machine's server is never touched),
              under a stream of cached and uncached page requests; the cluster is stopped
              (pg_ctl -m fast, then -m immediate), left down, and started again. Uncached
              requests during the outage must get the 503 page quickly (none over
              --hang-seconds), and every request after the restart must succeed.
import-killed `manage.py import_figures` (4,200 rows) killed with SIGKILL at 25, 50 and 75 %
              of its writing time (measured on a copy), on SQLite (a temporary file, served
              by gunicorn meanwhile) and on PostgreSQL (a temporary database on --pg-url): no
              table changes, the home page answers 200; the same import left alone then
              writes its 4,200 rows.
disk-full     the same import on SQLite with too little disk: a process file-size limit
              (RLIMIT_FSIZE) and a tmpfs a few hundred KB larger than the database. It must
              fail with a clear Chinese message, change nothing, leave a database that passes
              `PRAGMA integrity_check`, and the home page must answer 200. PostgreSQL's disk
              is not filled: only a throwaway cluster could be, and a full WAL disk makes
              PostgreSQL stop by design (PANIC, then crash recovery), which proves nothing
              about the portal.

Loopback only; every wait is bounded; every process, database, cluster and mount this script
makes is removed on the way out, on an error, Ctrl+C or SIGTERM as well. Results also go to
var/bench/ as JSON.
"""

import argparse
import json
import os
import resource
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import ExitStack, contextmanager
from pathlib import Path
from urllib.parse import quote

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import load  # bench/load.py: gunicorn as in production, the production environment
import run  # bench/run.py: ports, fetch, PostgreSQL databases

from tests import fault_world  # the world the fault tests import into

ROOT = run.ROOT
PG_BIN = Path(os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin"))
OUTAGE_TEXT = "系统维护中"
SCENARIOS = ("worker-crash", "db-restart", "import-killed", "disk-full")


class Failed(Exception):
    """A scenario could not be run (as opposed to one that ran and missed its goal)."""


def main():
    options = arguments()
    # SIGTERM and SIGHUP unwind like Ctrl+C: every `finally` and ExitStack cleans up.
    for number in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(number, lambda *_: sys.exit("faults: terminated"))
    results, verdicts = {}, {}
    for name in options.scenarios:
        print(f"\n=== {name}", flush=True)
        scenario = globals()[name.replace("-", "_")]
        try:
            results[name] = scenario(options)
            verdicts[name] = results[name]["pass"]
        except (Failed, run.BenchError, subprocess.SubprocessError, RuntimeError) as error:
            results[name] = {"pass": False, "error": str(error)}
            verdicts[name] = False
            print(f"FAIL {name}: could not run: {error}", flush=True)
    out = ROOT / "var" / "bench"
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"faults-{time.strftime('%Y%m%d-%H%M%S')}.json"
    record = {"date": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "machine": run.machine()}
    path.write_text(json.dumps({**record, "scenarios": results}, ensure_ascii=False, indent=2))
    print("\n" + "\n".join(f"{'PASS' if ok else 'FAIL'} {name}" for name, ok in verdicts.items()))
    print(f"Results: {path.relative_to(ROOT)}")
    sys.exit(0 if all(verdicts.values()) else 1)


def arguments():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--scenarios", default=",".join(SCENARIOS), type=lambda s: s.split(","), help="which"
    )
    parser.add_argument("--workers", type=int, default=3, help="gunicorn workers (3)")
    parser.add_argument("--clients", type=int, default=8, help="client threads (8)")
    parser.add_argument("--kills", type=int, default=3, help="workers killed, one by one (3)")
    parser.add_argument("--outage-seconds", type=float, default=6.0, help="database down (6)")
    parser.add_argument("--hang-seconds", type=float, default=3.0, help="a 503 slower hangs")
    parser.add_argument(
        "--pg-url",
        default=os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432/postgres"),
        help="a PostgreSQL server to create the import scenario's temporary database on",
    )
    options = parser.parse_args()
    unknown = set(options.scenarios) - set(SCENARIOS)
    if unknown:
        parser.error(f"unknown scenario: {', '.join(sorted(unknown))}")
    if not 1 <= options.workers <= 16 or not 1 <= options.clients <= 64:
        parser.error("--workers 1–16, --clients 1–64")
    return options


def verdict(name, ok, figures):
    print(f"{'PASS' if ok else 'FAIL'} {name}: {figures}", flush=True)
    return ok


# ------------------------------------------------------------------------------
# Shared: a served portal, a stream of requests
# ------------------------------------------------------------------------------
def sqlite_portal(workdir: Path) -> dict:
    """A production-like environment on a temporary SQLite database with the 2024 plan and
    demo progress, static files collected."""
    env = load.production_env(workdir, SQLITE_PATH=str(workdir / "db.sqlite3"))
    prepare(env)
    return env


def prepare(env):
    for step in (
        ["migrate", "--noinput", "-v0"],
        ["load_plan", "2024"],
        ["load_demo", "--force"],
        ["collectstatic", "--noinput", "-v0"],
    ):
        fault_world.manage(env, *step, timeout=600)


@contextmanager
def gunicorn(env, workdir: Path, workers: int, *, access_log: Path | None = None):
    """A running gunicorn: (process, port). Terminated (then killed) on the way out."""
    port = run.free_port()
    extra = []
    if access_log is not None:
        # The worker's pid on each access line: how a new worker is seen serving.
        extra = ["--access-logfile", str(access_log), "--access-logformat", "%(p)s %(s)s"]
    with open(workdir / f"gunicorn-{port}.log", "w") as log:
        server = subprocess.Popen(
            load.gunicorn_command(port, workers, *extra),
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            run.wait_until_up(port, server)
            yield server, port
        finally:
            server.terminate()
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait(timeout=10)


class Stream:
    """Client threads requesting paths in turn, one connection per request (as many clients
    would), until stopped; every request recorded as (start, end, path, status or error)."""

    def __init__(self, port, paths, *, clients, timeout=30.0, pause=0.0):
        self.port, self.paths, self.timeout, self.pause = port, paths, timeout, pause
        self.records, self.lock = [], threading.Lock()
        self.stopping = threading.Event()
        self.threads = [
            threading.Thread(target=self._client, args=(n,), daemon=True) for n in range(clients)
        ]
        self.counter = 0

    def __enter__(self):
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc):
        self.stopping.set()
        for thread in self.threads:
            thread.join(timeout=self.timeout + 5)

    def _client(self, number):
        import http.client

        turn = number
        while not self.stopping.is_set():
            path = self.paths[turn % len(self.paths)]
            turn += 1
            with self.lock:
                self.counter += 1
                path = path.replace("{n}", str(self.counter))
            started = time.monotonic()
            connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
            try:
                connection.request("GET", path)
                response = connection.getresponse()
                body = response.read()
                outcome = response.status
                if outcome == 503 and OUTAGE_TEXT not in body.decode("utf-8", "replace"):
                    outcome = "503 without the page"
            except Exception as error:  # what the client sees: reset, refused, timed out
                outcome = type(error).__name__
            finally:
                connection.close()
            with self.lock:
                self.records.append((started, time.monotonic(), path, outcome))
            if self.pause:
                time.sleep(self.pause)


def percentile(values, share):
    values = sorted(values)
    if not values:
        return 0.0
    return values[min(len(values) - 1, round(share * (len(values) - 1)))]


def ms(seconds):
    return round(seconds * 1000, 1)


# ------------------------------------------------------------------------------
# a. A worker killed under load
# ------------------------------------------------------------------------------
def children(pid) -> set[int]:
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                raw = (entry / "stat").read_text()
            except OSError:
                continue
            if int(raw[raw.rindex(")") + 2 :].split()[1]) == pid:
                found.add(int(entry.name))
    return found


def worker_crash(options):
    with ExitStack() as stack:
        workdir = Path(tempfile.mkdtemp(prefix="yaohai-faults-crash-"))
        stack.callback(shutil.rmtree, workdir, True)
        env = sqlite_portal(workdir)
        access = workdir / "access.log"
        server, port = stack.enter_context(
            gunicorn(env, workdir, options.workers, access_log=access)
        )
        deadline = time.monotonic() + 30
        while len(children(server.pid)) < options.workers:
            if time.monotonic() > deadline:
                raise Failed("gunicorn did not start its workers within 30 s")
            time.sleep(0.1)
        # Rendered pages and uncached ones (a new search each time): requests that take a
        # worker some milliseconds, so that a killed worker is likely to be in the middle of one.
        paths = ["/", "/2024/items/1-1/", f"/2024/search/?q={quote('就业')}{{n}}", "/about/"]
        kills = []
        with Stream(port, paths, clients=options.clients) as stream:
            time.sleep(3)
            for _ in range(options.kills):
                kills.append(kill_one_worker(server.pid, access))
                time.sleep(4)
        records = stream.records
    failed = [r for r in records if r[3] != 200]
    for kill in kills:
        # A failed request is the kill's if it was being served when the worker died.
        kill["failed"] = sum(1 for r in failed if r[0] <= kill["at"] <= r[1] + 0.05)
    stray = len(failed) - sum(k["failed"] for k in kills)
    in_flight_most = gunicorn_threads()
    ok = (
        all(k["serving_s"] is not None and k["serving_s"] < 5 for k in kills)
        and all(k["failed"] <= in_flight_most for k in kills)
        and stray == 0
    )
    figures = {
        "requests": len(records),
        "failed": len(failed),
        "failed_outcomes": sorted({str(r[3]) for r in failed}),
        "per_kill": [
            {
                "failed": k["failed"],
                "new_worker_s": k["spawned_s"],
                "new_worker_serving_s": k["serving_s"],
            }
            for k in kills
        ],
        "failed_not_in_flight": stray,
        "in_flight_per_worker_at_most": in_flight_most,
        "workers": options.workers,
        "clients": options.clients,
    }
    verdict("worker-crash", ok, figures)
    return {"pass": ok, **figures}


def gunicorn_threads() -> int:
    """Requests one worker serves at once: 1 for sync workers, `threads` with gthread."""
    if not load.GUNICORN_CONF.exists():
        return 1
    import runpy

    return int(runpy.run_path(str(load.GUNICORN_CONF)).get("threads", 1) or 1)


def kill_one_worker(master, access: Path) -> dict:
    before = children(master)
    victim = min(before)
    offset = access.stat().st_size if access.exists() else 0
    at = time.monotonic()
    os.kill(victim, signal.SIGKILL)
    spawned = serving = None
    deadline = at + 15
    while time.monotonic() < deadline and serving is None:
        new = children(master) - before
        if new and spawned is None:
            spawned = time.monotonic() - at
        if new:
            with open(access, "rb") as log:
                log.seek(offset)
                # gunicorn writes the pid as <1234>.
                lines = log.read().decode().splitlines()
                pids = {line.split()[0].strip("<>") for line in lines if line.strip()}
            if {str(pid) for pid in new} & pids:
                serving = time.monotonic() - at
        time.sleep(0.02)
    print(
        f"  killed worker {victim}: new worker after "
        f"{spawned if spawned is None else round(spawned, 2)} s, serving after "
        f"{serving if serving is None else round(serving, 2)} s",
        flush=True,
    )
    return {
        "at": at,
        "spawned_s": None if spawned is None else round(spawned, 2),
        "serving_s": None if serving is None else round(serving, 2),
    }


# ------------------------------------------------------------------------------
# b. The database restarted while serving
# ------------------------------------------------------------------------------
@contextmanager
def throwaway_cluster():
    """A PostgreSQL cluster of this script's own in a temporary directory, on a free loopback
    port: (pg_ctl start, pg_ctl stop(mode), url). Stopped (immediate) and deleted on the way
    out. Runs as the `postgres` OS user when this script runs as root (initdb refuses root)."""
    if not (PG_BIN / "initdb").exists():
        raise Failed(f"no PostgreSQL binaries in {PG_BIN} (set PG_BIN)")
    directory = Path(tempfile.mkdtemp(prefix="yaohai-pg-"))
    as_owner = []
    if os.geteuid() == 0:
        shutil.chown(directory, "postgres", "postgres")
        as_owner = ["runuser", "-u", "postgres", "--"]
    data, port = directory / "data", run.free_port()

    def pg_ctl(*args, check=True):
        done = subprocess.run(
            [*as_owner, str(PG_BIN / "pg_ctl"), "-D", str(data), *args],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        if check and done.returncode != 0:
            raise Failed(f"pg_ctl {' '.join(args)}: {done.stderr or done.stdout}")
        return done

    def start():
        pg_ctl(
            "-o",
            f"-p {port} -k {directory} -c listen_addresses=127.0.0.1 -c fsync=off",
            "-l",
            str(directory / "server.log"),
            "-w",
            "-t",
            "30",
            "start",
        )

    def stop(mode):
        pg_ctl("-m", mode, "-w", "-t", "30", "stop")

    try:
        done = subprocess.run(
            [
                *as_owner,
                str(PG_BIN / "initdb"),
                *("-D", str(data), "-A", "trust", "-U", "postgres", "--no-sync"),
                *("-E", "UTF8", "--locale", "C.UTF-8"),
            ],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        if done.returncode != 0:
            raise Failed(f"initdb failed: {done.stderr[-1000:]}")
        start()
        yield start, stop, f"postgres://postgres@127.0.0.1:{port}"
    finally:
        pg_ctl("-m", "immediate", "-w", "-t", "30", "stop", check=False)
        shutil.rmtree(directory, ignore_errors=True)


def db_restart(options):
    import psycopg

    with ExitStack() as stack:
        workdir = Path(tempfile.mkdtemp(prefix="yaohai-faults-restart-"))
        stack.callback(shutil.rmtree, workdir, True)
        start, stop, server_url = stack.enter_context(throwaway_cluster())
        with psycopg.connect(f"{server_url}/postgres", autocommit=True) as connection:
            connection.execute("CREATE DATABASE yaohai")
        env = load.production_env(workdir, DATABASE_URL=f"{server_url}/yaohai")
        prepare(env)
        _, port = stack.enter_context(gunicorn(env, workdir, options.workers))
        cached, uncached = "/2024/items/1-1/", f"/2024/search/?q={quote('就业')}{{n}}"
        for _ in range(3 * options.workers):  # cached on every worker
            run.fetch(port, cached)
        cycles = []
        with Stream(port, [cached, uncached], clients=4, pause=0.02) as stream:
            for mode in ("fast", "immediate"):
                time.sleep(3)
                stopping = time.monotonic()
                stop(mode)
                down = time.monotonic()
                time.sleep(options.outage_seconds)
                starting = time.monotonic()
                start()
                up = time.monotonic()
                cycles.append(
                    {"mode": mode, "stopping": stopping, "down": down, "starting": starting}
                )
                cycles[-1]["up"] = up
                print(
                    f"  pg_ctl stop -m {mode}: {down - stopping:.2f} s; down "
                    f"{starting - down:.1f} s; start: {up - starting:.2f} s",
                    flush=True,
                )
            time.sleep(5)
        records = stream.records
    return judge_restart(options, cycles, records)


def judge_restart(options, cycles, records):
    ok, per_cycle = True, []
    for number, cycle in enumerate(cycles):
        end = cycles[number + 1]["stopping"] if number + 1 < len(cycles) else float("inf")
        during = [r for r in records if cycle["down"] <= r[0] and r[1] <= cycle["starting"]]
        outage_uncached = [r for r in during if "search" in r[2]]
        outage_cached = [r for r in during if "search" not in r[2]]
        answers_503 = [r for r in outage_uncached if r[3] == 503]
        latencies = [r[1] - r[0] for r in answers_503]
        # Answered before the next cycle's stop began: those overlapping it are its own.
        after = [r for r in records if cycle["up"] <= r[0] and r[1] < end]
        after_errors = [r for r in after if r[3] != 200]
        first_uncached_ok = min(
            (r[1] for r in after if "search" in r[2] and r[3] == 200), default=None
        )
        around = [
            r
            for r in records
            if r[0] < cycle["up"] and r[1] > cycle["stopping"] and r not in during
        ]
        figures = {
            "mode": cycle["mode"],
            "outage_uncached_requests": len(outage_uncached),
            "outage_uncached_503": len(answers_503),
            "outage_uncached_other": sorted({str(r[3]) for r in outage_uncached if r[3] != 503}),
            "outage_503_p95_ms": ms(percentile(latencies, 0.95)),
            "outage_503_max_ms": ms(max(latencies, default=0)),
            "outage_cached_requests": len(outage_cached),
            "outage_cached_200": sum(1 for r in outage_cached if r[3] == 200),
            "while_stopping_or_starting": {
                str(o): sum(1 for r in around if r[3] == o) for o in {r[3] for r in around}
            },
            "after_restart_requests": len(after),
            "after_restart_errors": len(after_errors),
            "after_restart_error_samples": [
                (ms(r[0] - cycle["up"]), ms(r[1] - r[0]), str(r[3])) for r in after_errors[:5]
            ],
            "first_uncached_success_after_start_ms": None
            if first_uncached_ok is None
            else ms(first_uncached_ok - cycle["up"]),
            "slowest_request_ms": ms(max((r[1] - r[0] for r in records), default=0)),
        }
        cycle_ok = (
            outage_uncached
            and len(answers_503) == len(outage_uncached)
            # Pages already in the cache go on being served
            # (livelihood/operations/publication.py); a run where they did not is what caught
            # the portal's signals left unconnected.
            and outage_cached
            and figures["outage_cached_200"] == len(outage_cached)
            and max(latencies) < options.hang_seconds
            and after
            and not after_errors
            and figures["slowest_request_ms"] < options.hang_seconds * 1000
        )
        ok = ok and bool(cycle_ok)
        per_cycle.append(figures)
        verdict(f"db-restart ({cycle['mode']})", bool(cycle_ok), figures)
    return {"pass": ok, "cycles": per_cycle}


# ------------------------------------------------------------------------------
# c. An import killed half-way; an import out of disk
# ------------------------------------------------------------------------------
def sqlite_writing(path):
    """The import's transaction has begun on SQLite (BEGIN IMMEDIATE holds the write lock)."""

    def probe():
        connection = sqlite3.connect(path, timeout=0, isolation_level=None)
        try:
            connection.execute("BEGIN IMMEDIATE")
            connection.execute("ROLLBACK")
            return False
        except sqlite3.OperationalError:
            return True
        finally:
            connection.close()

    return probe


def postgres_writing(url, name):
    """The import has written a row on PostgreSQL: its backend holds a transaction id."""
    import psycopg

    connection = psycopg.connect(url, autocommit=True, connect_timeout=5)

    def probe():
        row = connection.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = %s "
            "AND backend_xid IS NOT NULL AND pid <> pg_backend_pid()",
            (name,),
        ).fetchone()
        return row[0] > 0

    probe.close = connection.close
    return probe


def timed_import(env, june, writing, *, kill_at=None):
    """(exit code, seconds from the first write to the end or the kill)."""
    child = subprocess.Popen(
        fault_world.import_command(june),
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 120
        while not writing():
            if child.poll() is not None:
                raise Failed(f"the import ended ({child.returncode}) before it was seen writing")
            if time.monotonic() > deadline:
                raise Failed("the import did not begin writing within 120 s")
            time.sleep(0.005)
        began = time.monotonic()
        if kill_at is not None:
            time.sleep(kill_at)
            if child.poll() is not None:
                raise Failed("the import finished before it could be killed")
            child.send_signal(signal.SIGKILL)
        child.wait(timeout=120)
        return child.returncode, time.monotonic() - began
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()


def import_killed(options):
    import psycopg

    results = {}
    with ExitStack() as stack:
        workdir = Path(tempfile.mkdtemp(prefix="yaohai-faults-import-"))
        stack.callback(shutil.rmtree, workdir, True)

        # SQLite: a temporary file, served by gunicorn while the imports are killed.
        path, copy = workdir / "db.sqlite3", workdir / "calibration.sqlite3"
        env = load.production_env(workdir, SQLITE_PATH=str(path))
        june = fault_world.build(env, workdir)
        fault_world.manage(env, "collectstatic", "--noinput", "-v0")
        shutil.copyfile(path, copy)
        lasted = calibrate({**env, "SQLITE_PATH": str(copy)}, june, sqlite_writing(copy), "sqlite")
        _, port = stack.enter_context(gunicorn(env, workdir, 2))
        results["sqlite"] = kill_series(
            "sqlite",
            env,
            june,
            lasted,
            state=lambda: fault_world.sqlite_state(path),
            writing=sqlite_writing(path),
            home=lambda: run.fetch(port, "/")[0],
            settle=lambda: None,
        )

        # PostgreSQL: temporary databases on the shared server (only clients are killed).
        name = f"yaohai_faults_{os.getpid()}"
        url = run.postgres_create(options.pg_url, name)
        stack.callback(run.postgres_drop, options.pg_url, name)
        pg_env = load.production_env(workdir, DATABASE_URL=url)
        (workdir / "pg").mkdir()
        june_pg = fault_world.build(pg_env, workdir / "pg")
        copy_name = f"{name}_calibration"
        with psycopg.connect(options.pg_url, autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{copy_name}" TEMPLATE "{name}"')
        stack.callback(run.postgres_drop, options.pg_url, copy_name)
        probe = postgres_writing(options.pg_url, name)
        stack.callback(probe.close)
        copy_probe = postgres_writing(options.pg_url, copy_name)
        stack.callback(copy_probe.close)
        copy_url = url.rsplit("/", 1)[0] + f"/{copy_name}"
        lasted = calibrate({**pg_env, "DATABASE_URL": copy_url}, june_pg, copy_probe, "postgresql")

        def settle():
            # The killed client's backend rolls its transaction back once it sees the socket
            # closed; compare after it has gone (gunicorn's kept connections are idle).
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                if not probe():
                    return
                time.sleep(0.05)
            raise Failed("the killed import's transaction was still open after 30 s")

        _, pg_port = stack.enter_context(gunicorn(pg_env, workdir, 2))
        results["postgresql"] = kill_series(
            "postgresql",
            pg_env,
            june_pg,
            lasted,
            state=lambda: fault_world.postgres_state(url),
            writing=probe,
            home=lambda: run.fetch(pg_port, "/")[0],
            settle=settle,
        )
    ok = all(result["pass"] for result in results.values())
    return {"pass": ok, **results}


def calibrate(env, june, writing, label) -> float:
    """How long the import writes, measured by letting it run on a copy of the database."""
    code, lasted = timed_import(env, june, writing)
    if code != 0:
        raise Failed(f"{label}: the unharmed import failed ({code})")
    print(f"  {label}: the import writes for {lasted:.2f} s (unharmed, on a copy)", flush=True)
    return lasted


def kill_series(label, env, june, lasted, *, state, writing, home, settle):
    """Kill the import at 25, 50 and 75 % of its writing time: each time no table changes and
    the home page answers. Then the same import, left alone, writes its rows."""
    before = state()
    kills, ok = [], True
    for fraction in (0.25, 0.5, 0.75):
        code, _ = timed_import(env, june, writing, kill_at=fraction * lasted)
        settle()
        differs = fault_world.changed(before, state())
        status = home()
        kill_ok = code == -signal.SIGKILL and not differs and status == 200
        ok = ok and kill_ok
        kills.append(
            {
                "killed_at_s": round(fraction * lasted, 2),
                "exit": code,
                "tables_changed": differs,
                "home_status": status,
            }
        )
    code, _ = timed_import(env, june, writing)
    settle()
    written = fault_world.changed(before, state()).get("livelihood_figure")
    status = home()
    control_ok = code == 0 and written is not None and written[1] - written[0] == 4200
    ok = ok and control_ok and status == 200
    figures = {
        "writing_s": round(lasted, 2),
        "kills": kills,
        "then_unharmed": {"exit": code, "figures": written, "home_status": status},
    }
    verdict(f"import-killed ({label})", ok, figures)
    return {"pass": ok, **figures}


# ------------------------------------------------------------------------------
# Disk full
# ------------------------------------------------------------------------------
def disk_full(options):
    results = {}
    with ExitStack() as stack:
        workdir = Path(tempfile.mkdtemp(prefix="yaohai-faults-disk-"))
        stack.callback(shutil.rmtree, workdir, True)
        world = workdir / "world.sqlite3"
        june = fault_world.build(fault_world.environment(SQLITE_PATH=str(world)), workdir)

        # A process file-size limit: no file may grow past 256 KB, the WAL included.
        limited = workdir / "limited.sqlite3"
        shutil.copyfile(world, limited)
        limit = 256 * 1024

        def small_files():
            resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

        results["rlimit_fsize"] = full_import(
            "RLIMIT_FSIZE 256 KB", limited, june, preexec_fn=small_files
        )

        # A filesystem that is really full: a tmpfs 512 KB larger than the database.
        mount = workdir / "small-disk"
        mount.mkdir()
        size = world.stat().st_size + 512 * 1024
        done = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(mount)],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        if done.returncode != 0:
            print(f"  (no tmpfs: {done.stderr.strip()}; that variant is skipped)", flush=True)
            results["tmpfs"] = {"pass": True, "skipped": done.stderr.strip()}
        else:
            stack.callback(unmount, mount)
            full = mount / "db.sqlite3"
            shutil.copyfile(world, full)
            results["tmpfs"] = full_import(f"tmpfs of {size // 1024} KB", full, june)
    ok = all(result["pass"] for result in results.values())
    return {"pass": ok, **results}


def unmount(mount):
    done = subprocess.run(["umount", str(mount)], capture_output=True, timeout=30, check=False)
    if done.returncode != 0:  # a process still holding a file: detach now, freed when it ends
        subprocess.run(["umount", "-l", str(mount)], capture_output=True, timeout=30, check=False)


def full_import(label, path, june, **popen):
    env = fault_world.environment(SQLITE_PATH=str(path))
    before = fault_world.sqlite_state(path)
    started = time.monotonic()
    done = subprocess.run(
        fault_world.import_command(june),
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        **popen,
    )
    seconds = time.monotonic() - started
    message = (done.stderr.strip().splitlines() or [""])[-1]
    differs = fault_world.changed(before, fault_world.sqlite_state(path))
    with sqlite3.connect(path) as connection:
        integrity = connection.execute("PRAGMA integrity_check").fetchone()[0]
    status = fault_world.home_status(env)
    reason = next((line for line in done.stderr.splitlines() if "写入数据库失败" in line), "")
    ok = (
        done.returncode == 1
        and "写入数据库失败" in done.stderr
        and "整个文件未导入" in message
        and not differs
        and integrity == "ok"
        and status == 200
    )
    figures = {
        "exit": done.returncode,
        "seconds": round(seconds, 2),
        "message": reason.strip(),
        "tables_changed": differs,
        "integrity_check": integrity,
        "home_status": status,
    }
    verdict(f"disk-full ({label})", ok, figures)
    return {"pass": ok, **figures}


if __name__ == "__main__":
    main()
