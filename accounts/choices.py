from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    ADMIN = "admin", _("系统管理员")
    STAFF = "staff", _("委员会办公室工作人员")
    LIAISON = "liaison", _("联络员")
    SUPERVISOR = "supervisor", _("督查考核人员")
    VIEWER = "viewer", _("查阅人员")


class NoticeLevel(models.TextChoices):
    INFO = "info", _("临近期限")
    WARNING = "warning", _("进度滞后")
    DANGER = "danger", _("已逾期")
