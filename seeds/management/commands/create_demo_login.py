import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "为本机试用创建演示账号并打印其密码（仅限 DEBUG） / Create the local demo login."

    def add_arguments(self, parser):
        parser.add_argument("--username", default="demo")

    def handle(self, *args, username, **options):
        if not settings.DEBUG:
            raise CommandError(
                "演示账号只能在本机试用（DEBUG=1）时创建，生产环境请用 createsuperuser"
            )
        password = secrets.token_urlsafe(12)
        user, created = get_user_model().objects.get_or_create(username=username)
        user.is_staff = user.is_superuser = True
        user.set_password(password)
        user.save()
        verb = "已创建" if created else "已重置"
        self.stdout.write(
            self.style.SUCCESS(
                f"{verb}演示账号 demo login: 用户名 username={username}  密码 password={password}"
            )
        )
        self.stdout.write("登录 Log in at http://127.0.0.1:8000/admin/")
