"""Demo data: every app's registered part, in order, then the demo logins and the parties'
demo signing passphrases."""

from django.conf import settings
from django.core.management.base import BaseCommand

from govcloud.demo import DEMO_PASSWORD, demo_logins, demo_parts, refuse_outside_development
from govcloud.models import PARTY_KINDS, Organization
from govcloud.pdf.signing import demo_signing_passphrase


class Command(BaseCommand):
    help = "生成演示数据（可重复执行），并打印演示账号及各单位签名密钥的演示口令。"

    def handle(self, *args, **options):
        refuse_outside_development("seed_demo ")
        for part in demo_parts():
            self.stdout.write(part.run())
        self.stdout.write(
            self.style.SUCCESS("演示数据已就绪。所有演示账号的密码：" + DEMO_PASSWORD)
        )
        self.stdout.write(
            "用户名            单位 / 角色                                   TOTP 密钥（Base32）"
        )
        for login in demo_logins():
            secret = login.totp_secret or "（使用单位，无需双因素）"
            self.stdout.write(
                f"{login.username:<16}  {login.organization} / {login.role}  {secret}"
            )
        self.stdout.write(
            "双因素认证：把密钥添加到任一身份验证器应用；或在演示环境运行 "
            "`python manage.py demo_totp 用户名` 查看当前 6 位验证码。"
        )
        self.stdout.write(
            "签名密钥口令（提交、确认统计表和审计结论时输入，用于打开本单位的签名密钥）："
        )
        for org in Organization.objects.filter(kind__in=PARTY_KINDS, is_active=True).order_by("pk"):
            self.stdout.write(f"  {org.name}：{demo_signing_passphrase(org.pk)}")
        where = settings.SIGNING_DIR
        self.stdout.write(
            f"（演示口令由单位编号推导，仅限开发/演示环境；密钥文件在 {where}，"
            "由 `python manage.py create_dev_ca` 创建。）"
        )
