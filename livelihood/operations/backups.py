"""
Backups of the whole database and their restore (`manage.py backup`, `manage.py restore`).

- PostgreSQL: `pg_dump -Fc` (one compressed file, the server's own consistent snapshot) and
  `pg_restore --clean --if-exists --single-transaction`: all or nothing. The connection comes
  from the Django settings; the password travels in PGPASSWORD, never on a command line that
  `ps` shows.
- SQLite: the sqlite3 online backup API, page by page, a consistent copy even while the portal
  is serving. Exact, unlike dumpdata/loaddata: every table (history, sessions, axes, the
  migrations record) with its primary keys and sequences.

A backup is written to a temporary file beside its target and renamed at the end, so a full
disk or a killed process never leaves something that looks like a complete backup.

A file is only restored when it is a backup of this portal (it holds the `django_migrations`
and `livelihood_plan` tables) of the same database engine, and, unless forced, into a database
that holds no data yet (what `migrate` alone writes does not count).
"""

import os
import re
import shutil
import sqlite3
import subprocess
import tempfile
from pathlib import Path

from django.db import connections

from livelihood.operations import publication

PG_MAGIC = b"PGDMP"
SQLITE_MAGIC = b"SQLite format 3\x00"
SUFFIX = {"postgresql": ".dump", "sqlite": ".sqlite3"}
# Tables that prove a file is this portal's.
MARK_TABLES = ("django_migrations", "livelihood_plan")
# What `migrate` writes into a new database by itself: such a database still counts as empty.
MIGRATE_FILLS = {
    "django_migrations",
    "django_content_type",
    "auth_permission",
    "auth_group",
    "auth_group_permissions",
    "livelihood_publicationversion",
    "sqlite_sequence",
}


class BackupError(Exception):
    """A backup or restore that cannot be done; the message is for the person running it."""


def backup_create(*, path: Path, using: str = "default") -> Path:
    """Write a backup of the `using` database to `path` (complete or not at all)."""
    connection = connections[using]
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    os.close(handle)
    try:
        if connection.vendor == "postgresql":
            _run(["pg_dump", "--format=custom", "--file", temporary], connection)
        elif connection.vendor == "sqlite":
            connection.ensure_connection()
            target = sqlite3.connect(temporary)
            try:
                connection.connection.backup(target)
                # A backup file stands alone: no -wal/-shm files beside it when it is opened.
                target.execute("PRAGMA journal_mode=DELETE")
            finally:
                target.close()
        else:
            raise BackupError(f"不支持备份 {connection.vendor} 数据库。")
        os.replace(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)
    return path


def backup_vendor(path: Path) -> str:
    """'postgresql' or 'sqlite' when `path` is a backup of this portal; BackupError otherwise."""
    try:
        with open(path, "rb") as file:
            head = file.read(len(SQLITE_MAGIC))
    except OSError as exc:
        raise BackupError(f"无法读取备份文件 {path}：{exc.strerror}。") from None
    if head.startswith(PG_MAGIC):
        listing = _run(["pg_restore", "--list", str(path)], None).stdout
        tables = set(re.findall(r"^\d+; \d+ \d+ TABLE \S+ (\S+) ", listing, re.MULTILINE))
        vendor = "postgresql"
    elif head == SQLITE_MAGIC:
        try:
            source = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
            try:
                rows = source.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
                tables = {name for (name,) in rows}
            finally:
                source.close()
        except sqlite3.DatabaseError:
            tables = set()
        vendor = "sqlite"
    else:
        raise BackupError(f"{path} 不是本平台的备份文件（既非 pg_dump -Fc 也非 SQLite 文件）。")
    missing = [name for name in MARK_TABLES if name not in tables]
    if missing:
        raise BackupError(f"{path} 不是本平台的备份文件：缺少数据表 {'、'.join(missing)}。")
    return vendor


def tables_with_data(using: str = "default") -> list[str]:
    """The tables of `using` that hold rows beyond what `migrate` writes by itself."""
    connection = connections[using]
    quote = connection.ops.quote_name
    found = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            if table in MIGRATE_FILLS:
                continue
            cursor.execute(f"SELECT 1 FROM {quote(table)} LIMIT 1")
            if cursor.fetchone() is not None:
                found.append(table)
    return found


def backup_restore(*, path: Path, using: str = "default", force: bool = False) -> None:
    """Replace the `using` database's contents with the backup at `path`."""
    connection = connections[using]
    vendor = backup_vendor(path)
    if vendor != connection.vendor:
        current = _NAMES.get(connection.vendor, connection.vendor)
        raise BackupError(f"{path} 是 {_NAMES[vendor]} 备份，当前数据库是 {current}，不能恢复。")
    if not force:
        filled = tables_with_data(using)
        if filled:
            shown = "、".join(filled[:5]) + ("等" if len(filled) > 5 else "")
            raise BackupError(
                f"数据库中已有数据（{shown} {len(filled)} 张表），未恢复。"
                "请恢复到新建的空数据库；确需覆盖现有数据时加 --force。"
            )
    if vendor == "postgresql":
        connection.close()  # no session of ours holds locks on the tables being replaced
        _run(
            [
                "pg_restore",
                "--clean",
                "--if-exists",
                "--no-owner",
                "--no-privileges",
                "--single-transaction",
                "--exit-on-error",
                "--dbname",
                connection.settings_dict["NAME"],
                str(path),
            ],
            connection,
        )
    else:
        connection.ensure_connection()
        source = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            source.backup(connection.connection)
        finally:
            source.close()
    # A new publication version: no page cached before the restore is served after it.
    publication.bump_now(using)


_NAMES = {"postgresql": "PostgreSQL", "sqlite": "SQLite"}


def _run(command, connection):
    if shutil.which(command[0]) is None:
        raise BackupError(
            f"找不到 {command[0]}：请安装 PostgreSQL 客户端（Debian：postgresql-client）。"
        )
    environment = dict(os.environ)
    if connection is not None:
        environment.update(pg_environment(connection.settings_dict))
    result = subprocess.run(command, env=environment, capture_output=True, text=True)
    if result.returncode != 0:
        raise BackupError(
            f"{command[0]} 失败（退出码 {result.returncode}）：{result.stderr.strip()}"
        )
    return result


def pg_environment(settings_dict) -> dict[str, str]:
    """libpq's environment variables for a Django PostgreSQL connection."""
    options = settings_dict.get("OPTIONS", {})
    pairs = {
        "PGHOST": settings_dict.get("HOST"),
        "PGPORT": settings_dict.get("PORT"),
        "PGUSER": settings_dict.get("USER"),
        "PGPASSWORD": settings_dict.get("PASSWORD"),
        "PGDATABASE": settings_dict.get("NAME"),
        "PGSSLMODE": options.get("sslmode"),
        "PGCONNECT_TIMEOUT": options.get("connect_timeout"),
    }
    return {name: str(value) for name, value in pairs.items() if value not in (None, "")}
