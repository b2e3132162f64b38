"""Create the development signing CA and a PKCS#12 key per party organisation (idempotent)."""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from govcloud.models import PARTY_KINDS, Organization
from govcloud.pdf.signing import create_dev_ca, p12_passphrase, party_key


class Command(BaseCommand):
    help = (
        "创建开发用根证书，并为每个甲方、乙方、监理、审计单位签发签名证书"
        "（SIGNING_DIR/org-<id>.p12）；可重复执行，已有证书保留。"
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--force",
            action="store_true",
            help="重新生成根证书和全部单位证书（旧签名将不再受信任）。",
        )
        parser.add_argument(
            "--force-production-dev-ca",
            action="store_true",
            help="在 DEBUG 关闭的环境中也创建开发证书（仅用于演示环境）。",
        )

    def handle(self, *args, force: bool, force_production_dev_ca: bool, **options):
        if not settings.DEBUG and not force_production_dev_ca:
            raise CommandError(
                "DEBUG 已关闭：生产环境应使用各单位的正式证书。"
                "确需在此环境创建开发证书，请加 --force-production-dev-ca。"
            )
        directory = Path(settings.SIGNING_DIR)
        organizations = Organization.objects.filter(kind__in=PARTY_KINDS, is_active=True).order_by(
            "pk"
        )
        parties = [(party_key(org.pk), org.name) for org in organizations]
        written = set(create_dev_ca(directory, parties, passphrase=p12_passphrase(), force=force))

        ca_path = directory / "ca.pem"
        self.stdout.write(f"根证书 {ca_path}：{'已创建' if ca_path in written else '已存在'}")
        for org, (key, _) in zip(organizations, parties, strict=True):
            path = directory / f"{key}.p12"
            state = "已创建" if path in written else "已存在"
            self.stdout.write(f"{org.get_kind_display()} {org.name}：{path.name} {state}")
        if not parties:
            self.stdout.write("没有需要证书的单位（甲方、乙方、监理、审计）。")
