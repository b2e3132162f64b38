"""Back up the database, the files and the signing keys into a new folder (README: 备份与恢复)."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from govcloud.backup import BackupError, backup_to


class Command(BaseCommand):
    help = "备份数据库（pg_dump 或 SQLite 在线备份）、MEDIA_ROOT 与签名密钥目录到新目录。"

    def add_arguments(self, parser):
        parser.add_argument("dest", help="备份目录（不存在或为空）")

    def handle(self, *args, **options):
        dest = Path(options["dest"])
        try:
            manifest = backup_to(dest)
        except BackupError as exc:
            raise CommandError(str(exc)) from None
        head = manifest.audit_head
        self.stdout.write(
            f"已备份到 {dest}（{manifest.engine}）：{', '.join(sorted(manifest.files))}；"
            f"审计日志链尾第 {head['seq']} 条，哈希 {head['row_hash']}。"
        )
        if not head.get("intact"):
            self.stdout.write(
                self.style.WARNING("注意：备份时审计日志哈希链已有问题（verify_audit）。")
            )
