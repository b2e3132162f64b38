"""Demo data: every app's registered part, in order, then the demo logins."""

from django.core.management.base import BaseCommand

from govcloud.demo import DEMO_PASSWORD, demo_logins, demo_parts


class Command(BaseCommand):
    help = "生成演示数据（可重复执行），并打印演示账号。"

    def handle(self, *args, **options):
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
