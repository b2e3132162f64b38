"""Create the development signing CA and a PKCS#12 key per party organisation (idempotent).

Each party's key is encrypted with that party's *demo* passphrase
(``govcloud.pdf.signing.demo_signing_passphrase``: ``demo-sign-org-<id>``), printed here and by
``seed_demo``. Development and demo only: refused in production mode (a ``SECRET_KEY`` in the
environment, or DEBUG off), with no way around it — demo passphrases are public. In production
each party installs its own key, encrypted with a passphrase only that party knows.
"""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand

from govcloud.demo import refuse_outside_development
from govcloud.models import PARTY_KINDS, Organization
from govcloud.pdf.signing import create_dev_ca, demo_signing_passphrase, dev_party


class Command(BaseCommand):
    help = (
        "创建开发用根证书，并为每个甲方、乙方、监理、审计单位签发签名证书"
        "（SIGNING_DIR/org-<id>.p12，以各单位的演示口令 demo-sign-org-<id> 加密）；"
        "可重复执行，已有证书保留。仅限开发/演示环境。"
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--force",
            action="store_true",
            help="重新生成根证书和全部单位证书（旧签名将不再受信任）。",
        )

    def handle(self, *args, force: bool, **options):
        refuse_outside_development("create_dev_ca（开发证书，演示口令公开）")
        directory = Path(settings.SIGNING_DIR)
        organizations = list(
            Organization.objects.filter(kind__in=PARTY_KINDS, is_active=True).order_by("pk")
        )
        parties = [dev_party(org.pk, org.name) for org in organizations]
        written = set(create_dev_ca(directory, parties, force=force))

        ca_path = directory / "ca.pem"
        self.stdout.write(f"根证书 {ca_path}：{'已创建' if ca_path in written else '已存在'}")
        for org, (key, _name, _passphrase) in zip(organizations, parties, strict=True):
            path = directory / f"{key}.p12"
            state = "已创建" if path in written else "已存在"
            self.stdout.write(
                f"{org.get_kind_display()} {org.name}：{path.name} {state}"
                f"（演示口令 {demo_signing_passphrase(org.pk)}）"
            )
        if not parties:
            self.stdout.write("没有需要证书的单位（甲方、乙方、监理、审计）。")
