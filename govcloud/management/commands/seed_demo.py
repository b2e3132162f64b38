"""Reference contracts plus demo departments, users, tickets, resources and statements."""

from django.core.management.base import BaseCommand

from govcloud.demo import DEMO_PASSWORD, seed_core


class Command(BaseCommand):
    help = "生成演示数据（可重复执行），并打印演示账号。"

    def handle(self, *args, **options):
        logins = seed_core()
        from requests_app.demo import seed_tickets

        tickets = seed_tickets()
        self.stdout.write(f"演示工单：新建 {tickets} 张（已有则跳过）。")
        from billing.demo import seed_statements

        seed_statements()
        self.stdout.write(
            "月度统计表演示数据已就绪（含全部签认并数字签名的 BT-2025、JZ-2026 统计表）。"
        )
        from sla.demo import seed_sla

        seed_sla()
        self.stdout.write("服务水平考核演示事件已就绪（BT-2025 2025 服务年度）。")
        self.stdout.write(
            self.style.SUCCESS("演示数据已就绪。所有演示账号的密码：" + DEMO_PASSWORD)
        )
        self.stdout.write(
            "用户名            单位 / 角色                                   TOTP 密钥（Base32）"
        )
        for login in logins:
            secret = login.totp_secret or "（使用单位，无需双因素）"
            self.stdout.write(
                f"{login.username:<16}  {login.organization} / {login.role}  {secret}"
            )
        self.stdout.write(
            "双因素认证：把密钥添加到任一身份验证器应用；或在演示环境运行 "
            "`python manage.py demo_totp 用户名` 查看当前 6 位验证码。"
        )
