from django.db import models
from django.utils.translation import gettext_lazy as _


class NoticeLevel(models.TextChoices):
    INFO = "info", _("临近期限")
    WARNING = "warning", _("进度滞后")
    DANGER = "danger", _("已逾期")
