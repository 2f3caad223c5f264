"""
Faults a resident or the office would notice (docs/reliability.md): the database stops
answering, an import is killed half-way, the disk fills up during an import. The timed
versions, against gunicorn and a PostgreSQL server that is really stopped, are in
bench/faults.py (`make faults`).
"""

import os
import resource
import shutil
import signal
import sqlite3
import subprocess
import time

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.db import OperationalError, ProgrammingError, connection
from django.test import Client

from livelihood.operations import publication
from tests.fault_world import (
    ROOT,
    build,
    changed,
    environment,
    home_status,
    import_command,
    sqlite_state,
)
from tests.operations.test_settings import manage

OUTAGE_TEXT = "系统维护中，请稍后再试"


def failing(error_class):
    """An execute wrapper under which every query raises `error_class`, as a database that has
    gone away does."""

    def wrapper(execute, sql, params, many, context):
        raise error_class("server closed the connection unexpectedly")

    return wrapper


@pytest.fixture
def client():
    # As a browser sees it: the handler's answer, not the exception.
    return Client(raise_request_exception=False)


# ------------------------------------------------------------------------------
# The database stops answering: a 503 page, at once, with Retry-After
# ------------------------------------------------------------------------------
@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/", "/about/", "/2024/items/1-1/", f"/{settings.ADMIN_URL}"])
def test_a_request_while_the_database_is_down_gets_the_503_page(client, plan, path):
    # Staff too: their session is read from the database before any view runs.
    client.force_login(User.objects.create_superuser("office", password="Office-tests-2000"))
    with connection.execute_wrapper(failing(OperationalError)):
        response = client.get(path)
    assert response.status_code == 503
    assert OUTAGE_TEXT in response.content.decode()
    assert response["Retry-After"] == str(settings.OUTAGE_RETRY_AFTER_SECONDS)
    assert "no-store" in response["Cache-Control"]


@pytest.mark.django_db
def test_the_503_page_survives_a_template_that_cannot_render(client, plan, monkeypatch):
    from livelihood.public import errors

    def broken(name):
        raise ValueError("Missing staticfiles manifest entry for 'css/site.css'")

    monkeypatch.setattr(errors.loader, "get_template", broken)
    with connection.execute_wrapper(failing(OperationalError)):
        response = client.get("/")
    assert response.status_code == 503
    assert OUTAGE_TEXT in response.content.decode()


@pytest.mark.django_db
def test_a_defect_in_a_query_is_still_a_500_not_a_503(client, plan):
    with connection.execute_wrapper(failing(ProgrammingError)):
        response = client.get("/")
    assert response.status_code == 500
    assert "Retry-After" not in response


@pytest.mark.django_db(transaction=True)
def test_a_cached_page_is_still_served_while_the_database_is_down(client, plan, settings):
    # Asked on every request: without the fallback the cached page would need the database.
    settings.PUBLIC_VERSION_RECHECK_SECONDS = 0
    assert client.get("/").headers["X-Page-Cache"] == "miss"
    with connection.execute_wrapper(failing(OperationalError)):
        cached = client.get("/")
        uncached = client.get("/about/")
    assert cached.status_code == 200
    assert cached.headers["X-Page-Cache"] == "hit"
    assert plan.title in cached.content.decode()
    assert uncached.status_code == 503
    # Back again: the version is read from the database once more.
    publication.forget_recent()
    assert client.get("/about/").status_code == 200


@pytest.mark.django_db
def test_a_postgresql_connection_gives_up_on_a_vanished_server_and_a_runaway_statement():
    if connection.vendor != "postgresql":
        pytest.skip("libpq's keepalives and the server's statement_timeout: PostgreSQL only")
    connection.ensure_connection()
    parameters = connection.connection.info.get_parameters()
    assert parameters["keepalives_idle"] == "5"
    assert parameters["tcp_user_timeout"] == "10000"
    with connection.cursor() as cursor:
        cursor.execute("SHOW statement_timeout")
        assert cursor.fetchone()[0] == f"{settings.DATABASE_STATEMENT_TIMEOUT_SECONDS}s"


@pytest.mark.parametrize(
    ("name", "value", "bounds"),
    [
        ("OUTAGE_RETRY_AFTER_SECONDS", "0", "1 到 3600"),
        ("OUTAGE_RETRY_AFTER_SECONDS", "half a minute", "1 到 3600"),
        ("DATABASE_STATEMENT_TIMEOUT_SECONDS", "-5", "0 到 86400"),
    ],
)
def test_an_unusable_outage_setting_is_one_clear_line(name, value, bounds):
    result = manage("check", **{name: value})
    assert result.returncode != 0
    assert f"{name} 应为 {bounds} 之间的秒数" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


# ------------------------------------------------------------------------------
# An import killed half-way, or out of disk: nothing of the file is written
# ------------------------------------------------------------------------------
# Child processes on temporary SQLite databases; bench/faults.py does the same on PostgreSQL.
on_sqlite = pytest.mark.skipif(
    bool(os.environ.get("DATABASE_URL")),
    reason="children on SQLite files: run in the SQLite suite (PostgreSQL: bench/faults.py)",
)


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    directory = tmp_path_factory.mktemp("fault-world")
    # 40 items: 1,680 rows, about a second of writing here; enough to be killed in.
    june = build(environment(SQLITE_PATH=str(directory / "world.sqlite3")), directory, items=40)
    return directory / "world.sqlite3", june


@pytest.fixture
def copy(world, tmp_path):
    """A fresh copy of the world's database: (environment, database path, June's file)."""
    source, june = world
    path = tmp_path / "db.sqlite3"
    shutil.copyfile(source, path)
    return environment(SQLITE_PATH=str(path)), path, june


def write_lock_taken(path) -> bool:
    """The import's transaction has begun (BEGIN IMMEDIATE holds the write lock)."""
    probe = sqlite3.connect(path, timeout=0, isolation_level=None)
    try:
        probe.execute("BEGIN IMMEDIATE")
        probe.execute("ROLLBACK")
        return False
    except sqlite3.OperationalError:
        return True
    finally:
        probe.close()


def run_import(env, june, path, *, kill_after=None):
    """Run the import; with `kill_after`, SIGKILL it that many seconds into its transaction.
    Returns the process's exit code and how long the transaction lasted (until the write lock
    was first let go: what follows the commit, such as raising the publication versions, is
    not part of it) or had lasted when it was killed."""
    child = subprocess.Popen(
        import_command(june),
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while not write_lock_taken(path):
            assert child.poll() is None, "the import ended before its transaction was seen"
            assert time.monotonic() < deadline, "the import did not begin writing within 60 s"
            time.sleep(0.01)
        began = time.monotonic()
        if kill_after is not None:
            time.sleep(kill_after)
            assert child.poll() is None, "the import finished before it could be killed"
            assert write_lock_taken(path), "the import committed before it could be killed"
            child.send_signal(signal.SIGKILL)
            child.wait(timeout=60)
            return child.returncode, time.monotonic() - began
        while child.poll() is None and write_lock_taken(path):
            time.sleep(0.01)
        lasted = time.monotonic() - began
        child.wait(timeout=60)
        return child.returncode, lasted
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()


@on_sqlite
def test_an_import_killed_mid_way_leaves_nothing_of_its_file_and_the_site_serves(copy, tmp_path):
    env, path, june = copy
    # Unharmed, on a second copy: the file writes 1,680 figures, and its transaction lasts
    # this long here (it reads the rows first, then writes them): killed half-way through.
    control = tmp_path / "control.sqlite3"
    shutil.copyfile(path, control)
    before = sqlite_state(control)
    code, lasted = run_import(environment(SQLITE_PATH=str(control)), june, control)
    assert code == 0
    assert changed(before, sqlite_state(control))["livelihood_figure"] == (8400, 10080)

    before = sqlite_state(path)
    code, _ = run_import(env, june, path, kill_after=0.5 * lasted)
    assert code == -signal.SIGKILL
    assert changed(before, sqlite_state(path)) == {}
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    assert home_status(env) == 200


@on_sqlite
def test_an_import_that_runs_out_of_disk_fails_clearly_and_writes_nothing(copy):
    env, path, june = copy
    before = sqlite_state(path)
    limit = 256 * 1024  # bytes any file may grow to: the write-ahead log fills it mid-commit

    def small_disk():
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    done = subprocess.run(
        import_command(june),
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        preexec_fn=small_disk,
        check=False,
    )
    assert done.returncode == 1, done.stderr[-2000:]
    # The last line is what the office reads; the traceback above it is for the log.
    message = done.stderr.strip().splitlines()[-1]
    assert message.startswith("CommandError:")
    assert "写入数据库失败" in done.stderr
    assert "整个文件未导入" in message
    assert changed(before, sqlite_state(path)) == {}
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    assert home_status(env) == 200
