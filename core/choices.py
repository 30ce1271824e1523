"""Vocabulary shared by every layer: region levels, unit kinds, roles, and the target
attribute (约束性/预期性) that tasks are filtered by."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class RegionLevel(models.TextChoices):
    PROVINCE = "province", _("省")
    CITY = "city", _("市")
    DISTRICT = "district", _("区/县/县级市")
    TOWN = "town", _("镇/乡/街道")


class UnitKind(models.TextChoices):
    FIRE_RESCUE = "fire_rescue", _("消防救援机构")
    GOVERNMENT = "government", _("人民政府")
    DEPARTMENT = "department", _("政府部门")
    COLLECTIVE = "collective", _("集合单位")
    ENTERPRISE = "enterprise", _("企业")
    OTHER = "other", _("其他")


class Role(models.TextChoices):
    ADMIN = "admin", _("系统管理员")
    STAFF = "staff", _("委员会办公室工作人员")
    LIAISON = "liaison", _("联络员")
    SUPERVISOR = "supervisor", _("督查考核人员")
    VIEWER = "viewer", _("查阅人员")


class Attribute(models.TextChoices):
    BINDING = "binding", _("约束性")
    EXPECTED = "expected", _("预期性")


class JobState(models.TextChoices):
    QUEUED = "queued", _("排队中")
    RUNNING = "running", _("进行中")
    SUCCEEDED = "succeeded", _("已完成")
    FAILED = "failed", _("失败")
    CANCELLED = "cancelled", _("已取消")
