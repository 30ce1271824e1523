from django.db import models
from django.utils.translation import gettext_lazy as _


class StationClass(models.TextChoices):
    SPECIAL_SERVICE = "special_service", _("特勤消防站")
    CLASS1 = "class1", _("一级普通消防站")
    CLASS2 = "class2", _("二级普通消防站")
    SMALL = "small", _("小型消防站")
    LOGISTICS = "logistics", _("战勤保障消防站")
    TOWNSHIP = "township", _("乡镇消防站")
    WATER = "water", _("水上消防站")
    TRAINING = "training", _("训练设施")


class ForceType(models.TextChoices):
    NATIONAL = "national", _("国家综合性消防救援队伍")
    GOVERNMENT_FULLTIME = "government_fulltime", _("政府专职消防队")
    ENTERPRISE = "enterprise", _("企业专职消防队")
    VOLUNTEER = "volunteer", _("志愿消防队")
    MICRO = "micro", _("微型消防站")


class StationStatus(models.TextChoices):
    PLANNED = "planned", _("规划")
    UNDER_CONSTRUCTION = "under_construction", _("在建")
    BUILT = "built", _("已建成")
    IN_SERVICE = "in_service", _("执勤中")
    RELOCATING = "relocating", _("迁建中")
    UPGRADING = "upgrading", _("改造中")


class BuildType(models.TextChoices):
    NEW = "new", _("新建")
    REBUILD_RELOCATE = "rebuild_relocate", _("改建/迁建")
    UPGRADE = "upgrade", _("改造提升")
    CONTINUED = "continued", _("续建")
