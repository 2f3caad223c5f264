"""
Restore a backup made by `manage.py backup` (livelihood/operations/backups.py says how).

    manage.py restore /srv/backups/yaohai-20240630-020000.dump

Stop the app servers first. Into a new, empty database (createdb; `migrate` may have run); an
existing database's data is replaced only with `--force`. Run `manage.py migrate` afterwards
when the code is newer than the backup.
"""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS, connections
from django.utils.connection import ConnectionDoesNotExist

from livelihood.operations.backups import (
    BackupError,
    backup_restore,
)


class Command(BaseCommand):
    help = "从 manage.py backup 生成的备份文件恢复整个数据库（默认只恢复到空数据库）。"

    def add_arguments(self, parser):
        parser.add_argument("backup", help="备份文件")
        parser.add_argument(
            "--force", action="store_true", help="数据库中已有数据时仍然恢复（现有数据将被替换）"
        )
        parser.add_argument("--database", default=DEFAULT_DB_ALIAS, help="数据库别名，默认 default")

    def handle(self, *args, backup, force, database, **options):
        try:
            connections[database]
        except ConnectionDoesNotExist:
            raise CommandError(f"没有名为 {database} 的数据库。") from None
        path = Path(backup)
        if not path.is_file():
            raise CommandError(f"备份文件 {path} 不存在。")
        try:
            backup_restore(path=path, using=database, force=force)
        except BackupError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(
            self.style.SUCCESS(
                f"已从 {path} 恢复数据库。如代码版本较新，请再运行 manage.py migrate。"
            )
        )
