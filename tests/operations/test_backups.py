"""`manage.py backup` and `manage.py restore`: a backup restored into an empty database gives
the same rows, on SQLite and on PostgreSQL (whichever the suite runs on); wrong files and
non-empty databases are refused."""

import sqlite3

import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command
from django.db import connections
from django.db.utils import load_backend

from livelihood.models import (
    Feedback,
    Figure,
    Item,
    MonthlyReport,
    Plan,
)

# pg_dump reads what is committed, from another process.
pytestmark = pytest.mark.django_db(transaction=True)

SCRATCH = "restore_target"
# Compared row by row; every other table by its row count (the publication version is raised
# by the restore on purpose, so that no page cached before it is served).
BUMPED = {"livelihood_publicationversion"}


@pytest.fixture
def scratch(tmp_path):
    """A new, empty database beside the test database, reachable as the SCRATCH alias."""
    default = connections["default"]
    settings_dict = dict(default.settings_dict)
    if default.vendor == "postgresql":
        settings_dict["NAME"] = f"{default.settings_dict['NAME']}_restore"
        with default.cursor() as cursor:
            cursor.execute(f"DROP DATABASE IF EXISTS {settings_dict['NAME']} WITH (FORCE)")
            cursor.execute(f"CREATE DATABASE {settings_dict['NAME']}")
    else:
        settings_dict["NAME"] = str(tmp_path / "restored.sqlite3")
    backend = load_backend(settings_dict["ENGINE"])
    connections[SCRATCH] = backend.DatabaseWrapper(settings_dict, SCRATCH)
    yield connections[SCRATCH]
    connections[SCRATCH].close()
    del connections[SCRATCH]
    if default.vendor == "postgresql":
        with default.cursor() as cursor:
            cursor.execute(f"DROP DATABASE IF EXISTS {settings_dict['NAME']} WITH (FORCE)")


@pytest.fixture
def portal_data(make_staff, unit):
    """The 2024 plan, demo progress (reports, figures, milestones, their history), an account,
    a resident's message."""
    call_command("load_plan", "2024", verbosity=0)
    call_command("load_demo", force=True, verbosity=0)
    make_staff("clerk", unit, email="clerk@example.gov.cn")
    item = Item.objects.filter(plan__year=2024).first()
    Feedback.objects.create(item=item, message="路灯不亮，请尽快维修。", contact="13800000000")
    assert MonthlyReport.objects.exists() and Figure.objects.exists()


def contents(alias):
    connection = connections[alias]
    quote = connection.ops.quote_name
    tables = {}
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            cursor.execute(f"SELECT * FROM {quote(table)}")
            tables[table] = sorted(map(repr, cursor.fetchall()))
    return tables


def test_a_backup_restored_into_an_empty_database_gives_the_same_rows(
    portal_data, scratch, tmp_path
):
    backup = tmp_path / "portal.backup"
    call_command("backup", str(backup), verbosity=0)
    assert backup.stat().st_size > 0

    call_command("restore", str(backup), database=SCRATCH, verbosity=0)

    before, after = contents("default"), contents(SCRATCH)
    assert set(after) == set(before)
    assert {t: len(rows) for t, rows in after.items()} == {
        t: len(rows) for t, rows in before.items()
    }
    for table in set(before) - BUMPED:
        assert after[table] == before[table], table
    # The rows the portal is about, through the ORM, on the restored database.
    assert Plan.objects.using(SCRATCH).get(year=2024).items.count() == Item.objects.count()
    assert Figure.objects.using(SCRATCH).count() == Figure.objects.count() > 0
    assert User.objects.using(SCRATCH).get(username="clerk").email == "clerk@example.gov.cn"
    assert Feedback.objects.using(SCRATCH).get().contact == "13800000000"
    assert MonthlyReport.history.model.objects.using(SCRATCH).count() > 0


def test_restore_refuses_a_database_that_holds_data_unless_forced(portal_data, tmp_path):
    backup = tmp_path / "portal.backup"
    call_command("backup", str(backup), verbosity=0)
    Item.objects.filter(code="1-1").update(title="改过的标题")
    with pytest.raises(CommandError, match=r"数据库中已有数据.*--force"):
        call_command("restore", str(backup), verbosity=0)
    assert Item.objects.get(code="1-1", plan__year=2024).title == "改过的标题"

    call_command("restore", str(backup), force=True, verbosity=0)
    assert Item.objects.get(code="1-1", plan__year=2024).title != "改过的标题"


def test_restore_refuses_files_that_are_not_a_backup_of_this_portal(scratch, tmp_path):
    text = tmp_path / "notes.dump"
    text.write_text("不是备份")
    with pytest.raises(CommandError, match="不是本平台的备份文件"):
        call_command("restore", str(text), database=SCRATCH, verbosity=0)

    other = tmp_path / "other.sqlite3"
    with sqlite3.connect(other) as foreign:
        foreign.execute("CREATE TABLE django_migrations (id integer)")
    with pytest.raises(CommandError, match="缺少数据表 livelihood_plan"):
        call_command("restore", str(other), database=SCRATCH, verbosity=0)
    # Nothing was written into the target.
    with scratch.cursor() as cursor:
        assert scratch.introspection.table_names(cursor) == []


def test_backup_into_a_folder_keeps_the_newest_n(db, tmp_path):
    suffix = ".dump" if connections["default"].vendor == "postgresql" else ".sqlite3"
    for stamp in ("20240101-020000", "20240102-020000", "20240103-020000"):
        (tmp_path / f"yaohai-{stamp}{suffix}").write_bytes(b"old")
    call_command("backup", str(tmp_path), keep=2, verbosity=0)
    left = sorted(path.name for path in tmp_path.iterdir())
    assert len(left) == 2
    assert left[0] == f"yaohai-20240103-020000{suffix}"
    assert not left[1].startswith("yaohai-2024")  # today's
