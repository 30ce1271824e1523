from django.db import models
from django.utils.translation import gettext_lazy as _


class PlanKind(models.TextChoices):
    FIVE_YEAR = "five_year", _("五年规划")
    ACTION_PLAN = "action_plan", _("行动计划")
    SPECIAL = "special", _("专项规划")


class PlanStatus(models.TextChoices):
    DRAFT = "draft", _("征求意见稿")
    IN_FORCE = "in_force", _("实施中")
    CLOSED = "closed", _("已结束")
    REFERENCE = "reference", _("引用（未录入全文）")


class SectionKind(models.TextChoices):
    CHAPTER = "chapter", _("章")
    SECTION = "section", _("节/条")
    BOX = "box", _("专栏")
    ANNEX = "annex", _("附件/附表")


class TaskStatus(models.TextChoices):
    NOT_STARTED = "not_started", _("未开始")
    IN_PROGRESS = "in_progress", _("推进中")
    COMPLETED = "completed", _("已完成")
    DELAYED = "delayed", _("延期")
    CANCELLED = "cancelled", _("已取消")


class AssignmentRole(models.TextChoices):
    LEAD = "lead", _("牵头单位")
    SUPPORT = "support", _("配合单位")
