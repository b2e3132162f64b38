"""Print the current TOTP code of a demo user (development only: refuses with DEBUG off)."""

from django.core.management.base import BaseCommand, CommandError
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from govcloud.demo import refuse_outside_development


class Command(BaseCommand):
    help = "打印演示用户当前的 6 位动态验证码（仅 DEBUG 模式可用）。"

    def add_arguments(self, parser):
        parser.add_argument("username")

    def handle(self, *args, username: str, **options):
        refuse_outside_development("demo_totp ")
        device = TOTPDevice.objects.filter(user__username=username, confirmed=True).first()
        if device is None:
            raise CommandError(f"用户 {username} 没有已绑定的身份验证器。")
        code = totp(device.bin_key, device.step, device.t0, device.digits, device.drift)
        self.stdout.write(f"{code:0{device.digits}d}")
