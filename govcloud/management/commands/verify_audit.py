"""Walk the audit hash chain and report every deletion, edit, forgery and backdating.

Exit code 0 when the chain is intact, 1 when anything is found (for cron and monitoring).
Write the printed chain head (seq and hash) down outside the database: a later run that no
longer reaches that hash at that seq shows the chain was rewritten from there on.
"""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS

from govcloud.audit import FINDING_LABELS, audit_verify


class Command(BaseCommand):
    help = "校验审计日志哈希链：删除、修改、伪造插入与时间倒填。完整时退出码 0，否则 1。"

    def add_arguments(self, parser):
        parser.add_argument("--json", action="store_true", help="以 JSON 输出结果。")
        parser.add_argument(
            "--limit", type=int, default=1000, help="最多列出多少处问题（全部都计数）。"
        )
        parser.add_argument("--database", default=DEFAULT_DB_ALIAS)

    def handle(self, *args, **options):
        result = audit_verify(using=options["database"], max_findings=options["limit"])
        if options["json"]:
            self.stdout.write(json.dumps(result.as_dict(), ensure_ascii=False, indent=2))
        else:
            self.stdout.write(
                f"审计日志校验：共检查 {result.checked} 条记录；"
                f"链尾第 {result.head_seq} 条，哈希 {result.head_hash}。"
            )
            for finding in result.findings:
                self.stdout.write(f"  [{FINDING_LABELS[finding.kind]}] {finding.message}")
            if result.not_listed:
                self.stdout.write(f"  另有 {result.not_listed} 处问题未列出（--limit）。")
            if result.intact:
                self.stdout.write(self.style.SUCCESS("未发现问题：哈希链完整。"))
            else:
                summary = "，".join(f"{label} {n} 处" for label, n in result.labelled_counts())
                self.stdout.write(self.style.ERROR(f"发现 {result.total} 处问题：{summary}。"))
        if not result.intact:
            raise CommandError(f"审计日志校验未通过：发现 {result.total} 处问题。", returncode=1)
