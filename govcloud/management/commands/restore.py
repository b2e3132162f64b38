"""Restore a backup into an empty database and empty folders, then prove it (README: 备份与恢复).

Exit code 0 only when every file matched its manifest, the audit chain is intact and reaches
the head recorded at backup time, and every stored signed document verifies.
"""

from __future__ import annotations

from pathlib import Path

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from govcloud.backup import BackupError, restore_from, verify_restored


class Command(BaseCommand):
    help = "从备份目录恢复到空数据库与空目录，并校验审计日志哈希链与已签名文件。"

    def add_arguments(self, parser):
        parser.add_argument("src", help="备份目录（manage.py backup 的输出）")

    def handle(self, *args, **options):
        src = Path(options["src"])
        try:
            manifest = restore_from(src)
        except BackupError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"已恢复 {src}（备份于 {manifest.created_at}）。")
        problems = verify_restored(manifest)
        for problem in problems:
            self.stdout.write(self.style.ERROR(problem))
        if problems:
            raise CommandError(f"恢复后校验未通过：{len(problems)} 处问题。")
        self.stdout.write(f"审计日志完整，链尾第 {manifest.audit_head['seq']} 条与备份时一致。")
        call_command("verify_documents", stdout=self.stdout, stderr=self.stderr)
