"""Create a user with a role and a scope, for set-up scripts.

    manage.py create_scoped_user li_hua --role liaison --region 南召县 --random-password
    echo "$PASSWORD" | manage.py create_scoped_user li_hua --role liaison \\
        --region-path 河南省/南阳市/南召县 --unit 消防部门 --password-stdin

The same rules as the user pages (accounts.services.create_user): a known role, a strong
password, a unit that belongs to the region or a region above it. A region name found in
several places is refused; --region-path names the place exactly.
"""

from __future__ import annotations

import secrets
import string
import sys

from django.core.management.base import BaseCommand, CommandError

from accounts import services
from accounts.forms import region_path
from core.choices import Role
from core.models import Region, Unit
from core.regions import RegionTree
from core.services import ServiceError

RANDOM_ALPHABET = string.ascii_letters + string.digits


def random_password(length: int = 16) -> str:
    """Letters and digits; long enough for every validator, never entirely numeric."""
    while True:
        password = "".join(secrets.choice(RANDOM_ALPHABET) for _ in range(length))
        if any(c.isalpha() for c in password) and any(c.isdigit() for c in password):
            return password


class Command(BaseCommand):
    help = "创建带角色与管辖区划的用户（用于初始化脚本）"
    stealth_options = ("stdin",)  # tests pass the password stream, as for createsuperuser

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--role", required=True, help="角色：" + "、".join(Role.values))
        parser.add_argument("--region", help="管辖区划名称，如 南召县")
        parser.add_argument(
            "--region-path", help="管辖区划完整路径，如 河南省/南阳市/南召县（名称重复时使用）"
        )
        parser.add_argument("--unit", help="所属单位名称（可选）")
        parser.add_argument("--full-name", default="", help="姓名")
        parser.add_argument("--email", default="", help="电子邮箱")
        password = parser.add_mutually_exclusive_group(required=True)
        password.add_argument(
            "--password-stdin", action="store_true", help="从标准输入读取密码（第一行）"
        )
        password.add_argument("--random-password", action="store_true", help="生成随机密码并打印")

    def handle(self, *args, **options):
        role = options["role"]
        if role not in Role.values:
            raise CommandError(f"未知角色“{role}”，应为 {'、'.join(Role.values)} 之一")
        tree = RegionTree.load()
        region = self._region(tree, options["region"], options["region_path"])
        unit = self._unit(tree, options["unit"], region) if options["unit"] else None
        if options["random_password"]:
            password = random_password()
        else:
            stream = options.get("stdin") or sys.stdin
            password = stream.readline().rstrip("\r\n")
            if not password:
                raise CommandError("标准输入中没有密码（--password-stdin 读取第一行）")
        try:
            user = services.create_user(
                actor=None,
                username=options["username"],
                full_name=options["full_name"],
                email=options["email"],
                password=password,
                role=role,
                region=region,
                unit=unit,
            )
        except ServiceError as error:
            raise CommandError(error.message) from None
        self.stdout.write(
            f"已创建用户 {user.username}：{Role(role).label}，{region_path(tree, region.pk)}"
            + (f"，{unit.name}" if unit else "")
        )
        if options["random_password"]:
            self.stdout.write(f"密码：{password}")

    def _region(self, tree: RegionTree, name: str | None, path: str | None) -> Region:
        if not name and not path:
            raise CommandError("请用 --region 或 --region-path 指定管辖区划")
        if path:
            found = [pk for pk in tree.names if region_path(tree, pk) == path.strip("/ ")]
            if not found:
                raise CommandError(
                    f"找不到区划路径“{path}”，应为 省/市/县 形式，如 河南省/南阳市/南召县"
                )
            region = Region.objects.get(pk=found[0])
            if name and region.name != name:
                raise CommandError(f"--region“{name}”与 --region-path“{path}”不一致")
            return region
        matches = sorted(pk for pk, region_name in tree.names.items() if region_name == name)
        if not matches:
            raise CommandError(f"找不到名为“{name}”的区划")
        if len(matches) > 1:
            paths = "、".join(sorted(region_path(tree, pk) for pk in matches))
            raise CommandError(
                f"有 {len(matches)} 个名为“{name}”的区划：{paths}；请用 --region-path 指定"
            )
        return Region.objects.get(pk=matches[0])

    def _unit(self, tree: RegionTree, name: str, region: Region) -> Unit:
        """The unit of that name in the region, else in the nearest region above it."""
        candidates = {u.region_id: u for u in Unit.objects.filter(name=name)}
        if not candidates:
            raise CommandError(f"找不到名为“{name}”的单位")
        for region_id in [region.pk, *tree.ancestors(region.pk)]:
            if region_id in candidates:
                return candidates[region_id]
        below = sorted(region_path(tree, pk) for pk in candidates if pk in tree.subtree(region.pk))
        if len(below) == 1:
            return next(u for pk, u in candidates.items() if pk in tree.subtree(region.pk))
        places = "、".join(below or sorted(region_path(tree, pk) for pk in candidates))
        if below:
            raise CommandError(
                f"单位“{name}”在管辖区划下有多个：{places}；请把区划指定到该单位所在地"
            )
        raise CommandError(f"单位“{name}”不在“{region.name}”或其上级区划，而在：{places}")
