from django.db import models
from django.utils.translation import gettext_lazy as _


class Measure(models.TextChoices):
    INCREMENT = "increment", _("增量（新增/新建，逐期累加）")
    LEVEL = "level", _("总量（总数达到，取最新值）")
    RATIO = "ratio", _("比率（%/‰，取最新值）")
    RATE = "rate", _("派生比率（按公式计算）")


class Comparator(models.TextChoices):
    GTE = "gte", _("不低于（≥）")
    LTE = "lte", _("不高于（≤）")
    EQ = "eq", _("等于（=）")
    REDUCE_BY = "reduce_by", _("降低")
    INCREASE_BY = "increase_by", _("提高")


class ReportStatus(models.TextChoices):
    DRAFT = "draft", _("草稿")
    SUBMITTED = "submitted", _("已提交")
    APPROVED = "approved", _("已审核")
    RETURNED = "returned", _("已退回")


class Feed(models.TextChoices):
    """Where a target's actual value comes from."""

    REPORTS = "reports", _("填报数据")
    FORMULA = "formula", _("公式计算（统计数据与基数）")
    STATION_REGISTER = "station_register", _("消防站台账计数")


class ProgressStatus(models.TextChoices):
    """Where a target, task or milestone stands at a date (the lights on every page)."""

    MET = "met", _("已完成")
    ON_TRACK = "on_track", _("正常")
    LAGGING = "lagging", _("滞后")
    CRITICAL = "critical", _("严重滞后")
    # A finished plan (its end date passed) is judged as finished: 已完成 or 未完成, no pace.
    UNMET = "unmet", _("未完成")
    NO_DATA = "no_data", _("未填报")
    NOT_DUE = "not_due", _("未到期")


class MilestoneState(models.TextChoices):
    DONE = "done", _("已完成")
    PENDING = "pending", _("未到期")
    OVERDUE = "overdue", _("已逾期")


class EvaluationKind(models.TextChoices):
    MID = "mid", _("中期评估")
    FINAL = "final", _("终期评估")
