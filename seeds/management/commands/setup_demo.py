from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from core.services import ServiceError
from planning.models import Plan
from seeds.demo_setup import PREDECESSOR_CODE, setup_demo


class Command(BaseCommand):
    help = (
        "本机试用：创建四个角色的演示账号和待办的演示数据（标记为演示数据） / "
        "Demo logins per role and demo work for each."
    )

    def add_arguments(self, parser):
        parser.add_argument("--url", default="http://127.0.0.1:8000/", help="登录地址")
        parser.add_argument(
            "--force",
            action="store_true",
            help="DEBUG 关闭时也执行（此时密码随机生成，只在创建时打印一次）",
        )

    def handle(self, *args, url, force, **options):
        if not settings.DEBUG and not force:
            raise CommandError(
                "生产环境（DEBUG 关闭）不创建演示账号和演示数据；确需创建请加 --force"
            )
        if not Plan.objects.filter(code=PREDECESSOR_CODE).exists():
            raise CommandError("请先运行 manage.py load_seed_plans 载入种子规划")
        try:
            result = setup_demo(fixed_password=bool(settings.DEBUG))
        except ServiceError as error:
            raise CommandError(f"{error.message}（{error.code}）") from None
        verb = "已生成" if result.written else "已存在，未改动"
        self.stdout.write(f"演示数据{verb}：《{result.plan.title}》，2026 年度填报期间已开放")
        self.stdout.write(self.style.SUCCESS(f"演示账号 demo logins — 登录 Log in at {url}"))
        for login in result.logins:
            password = login.password or "（已在首次创建时打印 shown when created）"
            self.stdout.write(
                f"  {login.user.full_name:<16} 用户名 {login.user.username:<22} "
                f"密码 {password}  可试：{login.user.tries}"
            )
