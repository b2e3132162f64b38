"""Check every stored statement and bill PDF: its bytes still hash to the recorded SHA-256 and
every signature in it validates against the trust roots in SIGNING_DIR (after a restore, or
from cron). Exit code 0 when all hold, 1 otherwise."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from billing.models import StatementDocument
from govcloud.pdf.signing import (
    InvalidPdf,
    SigningKeyMissing,
    sha256_hex,
    trust_roots_from_settings,
    verify_pdf,
)


class Command(BaseCommand):
    help = "校验已存储的统计表与账单 PDF：文件哈希与登记一致，全部签名有效（退出码 0/1）。"

    def handle(self, *args, **options):
        try:
            roots = trust_roots_from_settings()
        except SigningKeyMissing as exc:
            raise CommandError(f"没有信任根证书，无法校验签名：{exc}") from None
        checked = signatures = 0
        problems: list[str] = []
        for document in StatementDocument.objects.exclude(file="").order_by("pk").iterator():
            label = f"{document.file.name}"
            try:
                with document.file.open("rb") as handle:
                    data = handle.read()
            except OSError as exc:
                problems.append(f"{label}：文件无法读取（{exc.strerror or exc}）")
                continue
            checked += 1
            if document.sha256 and sha256_hex(data) != document.sha256:
                problems.append(f"{label}：SHA-256 与登记不符")
                continue
            if not document.signatures:
                continue
            try:
                reports = verify_pdf(data, trust_roots=roots)
            except InvalidPdf as exc:
                problems.append(f"{label}：{exc}")
                continue
            signatures += len(reports)
            if len(reports) < document.signatures:
                problems.append(
                    f"{label}：登记 {document.signatures} 个签名，文件中只有 {len(reports)} 个"
                )
            problems.extend(
                f"{label}：签名 {r.field_name}（{r.signer_organization}）无效"
                for r in reports
                if not r.ok
            )
        for problem in problems:
            self.stdout.write(self.style.ERROR(problem))
        self.stdout.write(f"已校验文件 {checked} 份、签名 {signatures} 个。")
        if problems:
            raise CommandError(f"文件校验未通过：{len(problems)} 处问题。")
        self.stdout.write(self.style.SUCCESS("全部文件与签名有效。"))
