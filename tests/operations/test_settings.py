"""Configuration mistakes stop manage.py with one line, not a traceback wall."""

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

from tests.builders import ROOT


def manage(*args, **env):
    environment = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"} | env
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("mysql://root@127.0.0.1/yaohai", "DATABASE_URL 只支持 PostgreSQL"),
        ("postgres://postgres@127.0.0.1:5432", "DATABASE_URL 缺少数据库名"),
        ("not a url at all", "DATABASE_URL"),
    ],
)
def test_unusable_database_url_is_one_clear_line(url, message):
    result = manage("check", DATABASE_URL=url)
    assert result.returncode != 0
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_unreachable_database_is_one_clear_message():
    result = manage("migrate", "--check", DATABASE_URL="postgres://postgres@127.0.0.1:1/none")
    assert result.returncode != 0
    assert "无法连接数据库" in result.stderr
    assert "Traceback" not in result.stderr


def test_production_without_secret_key_refuses_to_start():
    result = manage("check", DJANGO_DEBUG="false", DJANGO_SECRET_KEY="")
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in result.stderr


def test_chinese_interface_and_shanghai_time():
    assert settings.LANGUAGE_CODE == "zh-hans"
    assert settings.TIME_ZONE == "Asia/Shanghai"
    assert settings.USE_TZ is True
    middleware = settings.MIDDLEWARE
    assert middleware.index("whitenoise.middleware.WhiteNoiseMiddleware") == (
        middleware.index("django.middleware.security.SecurityMiddleware") + 1
    )
    assert Path(settings.STATIC_ROOT).resolve() != (ROOT / "static").resolve()


def test_embedded_sqlite_database_runs_in_wal_mode(tmp_path):
    database = tmp_path / "portal.sqlite3"
    result = manage("migrate", "--noinput", "-v0", SQLITE_PATH=str(database))
    assert result.returncode == 0, result.stderr
    # WAL is a property of the database file: every later connection reads it from there.
    with sqlite3.connect(database) as connection:
        assert connection.execute("PRAGMA journal_mode").fetchone() == ("wal",)


@pytest.mark.parametrize("value", ["soon", "-1", "120"])
def test_version_recheck_outside_0_to_60_seconds_is_one_clear_line(value):
    result = manage("check", PUBLIC_VERSION_RECHECK_SECONDS=value)
    assert result.returncode != 0
    assert "PUBLIC_VERSION_RECHECK_SECONDS 应为 0 到 60 之间的秒数" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


# ------------------------------------------------------------------------------
# The read replica (DATABASE_REPLICA_URL, docs/deploy.md)
# ------------------------------------------------------------------------------
PRIMARY = "postgres://postgres@127.0.0.1:5432/yaohai"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"DATABASE_REPLICA_URL": PRIMARY}, "DATABASE_REPLICA_URL 需要主库也是 PostgreSQL"),
        (
            {"DATABASE_URL": PRIMARY, "DATABASE_REPLICA_URL": "mysql://ro@10.0.0.22/yaohai"},
            "DATABASE_REPLICA_URL 应为 postgres://",
        ),
    ],
)
def test_unusable_replica_url_is_one_clear_line(env, message):
    result = manage("check", **env)
    assert result.returncode != 0
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_replica_url_adds_a_replica_that_the_public_pages_read():
    show = (
        "from django.conf import settings; r = settings.DATABASES['replica'];"
        "print(r['HOST'], r['NAME'], r['OPTIONS']['connect_timeout'], r['TEST']['MIRROR'],"
        " settings.DATABASE_ROUTERS[0])"
    )
    replica = "postgres://ro:secret@10.0.0.22:5432/yaohai"
    result = manage("shell", "-c", show, DATABASE_URL=PRIMARY, DATABASE_REPLICA_URL=replica)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1].split() == [
        "10.0.0.22",
        "yaohai",
        "5",
        "default",
        "livelihood.operations.routers.PublicReadRouter",
    ]
