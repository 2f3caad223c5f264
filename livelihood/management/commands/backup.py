"""
Back up the whole database to one file (livelihood/operations/backups.py says how).

    manage.py backup                       # BACKUP_DIR/yaohai-<时间>.dump (or .sqlite3)
    manage.py backup /srv/backups --keep 14
    manage.py backup 备份.dump             # exactly this file

`--keep N` then deletes all but the newest N `yaohai-*` backups in that directory: the nightly
timer (deploy/systemd/yaohai-backup.timer) keeps two weeks this way.
"""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS, connections
from django.utils import timezone
from django.utils.connection import ConnectionDoesNotExist

from livelihood.operations.backups import (
    SUFFIX,
    BackupError,
    backup_create,
)

PREFIX = "yaohai-"


class Command(BaseCommand):
    help = "备份整个数据库（PostgreSQL：pg_dump -Fc；SQLite：在线备份接口）到一个文件。"

    def add_arguments(self, parser):
        parser.add_argument(
            "target",
            nargs="?",
            help="备份文件或目录；省略时写入 BACKUP_DIR，文件名为 yaohai-<日期时间>",
        )
        parser.add_argument(
            "--keep",
            type=int,
            metavar="N",
            help="备份写入目录时，只保留该目录中最新的 N 个 yaohai-* 备份，删除更早的",
        )
        parser.add_argument("--database", default=DEFAULT_DB_ALIAS, help="数据库别名，默认 default")

    def handle(self, *args, target, keep, database, **options):
        try:
            connections[database]
        except ConnectionDoesNotExist:
            raise CommandError(f"没有名为 {database} 的数据库。") from None
        if keep is not None and keep < 1:
            raise CommandError("--keep 应为正整数。")
        suffix = SUFFIX.get(connections[database].vendor, ".backup")
        folder = Path(target) if target else Path(settings.BACKUP_DIR)
        if target and not folder.is_dir() and folder.suffix:
            path = folder
            if keep is not None:
                raise CommandError("--keep 只用于写入目录的备份。")
        else:
            path = folder / f"{PREFIX}{timezone.localtime():%Y%m%d-%H%M%S}{suffix}"
        try:
            written = backup_create(path=path, using=database)
        except BackupError as exc:
            raise CommandError(str(exc)) from None
        size = written.stat().st_size
        self.stdout.write(self.style.SUCCESS(f"已备份到 {written}（{size / 1024:.0f} KB）。"))
        if keep is not None:
            older = sorted(path.parent.glob(f"{PREFIX}*{suffix}"), reverse=True)[keep:]
            for old in older:
                old.unlink()
            if older:
                self.stdout.write(f"已删除 {len(older)} 个较早的备份，保留最新 {keep} 个。")
