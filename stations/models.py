"""The fire-station register: existing, planned and under construction (消防站)."""

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from core.models import YEAR_VALIDATORS, Region, decimal_field, non_negative
from core.querysets import ScopedQuerySet
from planning.models import Plan
from stations.choices import BuildType, ForceType, StationClass, StationStatus


class Station(models.Model):
    plan = models.ForeignKey(
        Plan,
        verbose_name=_("来源规划"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="stations",
    )
    code = models.CharField(_("编码"), max_length=48, blank=True)
    name = models.CharField(_("名称"), max_length=128)
    region = models.ForeignKey(
        Region, verbose_name=_("区划"), on_delete=models.PROTECT, related_name="stations"
    )
    address = models.CharField(_("地址"), max_length=255, blank=True)
    station_class = models.CharField(
        _("站级"), max_length=24, choices=StationClass.choices, blank=True
    )
    force_type = models.CharField(
        _("队伍性质"), max_length=24, choices=ForceType.choices, blank=True
    )
    status = models.CharField(_("状态"), max_length=24, choices=StationStatus.choices)
    build_type = models.CharField(
        _("建设方式"), max_length=24, choices=BuildType.choices, blank=True
    )
    planned_year = models.PositiveSmallIntegerField(
        _("计划年度"), null=True, blank=True, validators=YEAR_VALIDATORS
    )
    completed_year = models.PositiveSmallIntegerField(
        _("建成年度"), null=True, blank=True, validators=YEAR_VALIDATORS
    )
    in_service_on = models.DateField(_("投入执勤日期"), null=True, blank=True)
    floor_area_m2 = decimal_field(_("建筑面积（㎡）"))
    land_area_m2 = decimal_field(_("占地面积（㎡）"))
    investment_10k_yuan = decimal_field(_("投资（万元）"))
    lat = models.DecimalField(
        _("纬度"),
        max_digits=9,
        decimal_places=6,
        null=True,
        blank=True,
        validators=[MinValueValidator(-90), MaxValueValidator(90)],
    )
    lon = models.DecimalField(
        _("经度"),
        max_digits=9,
        decimal_places=6,
        null=True,
        blank=True,
        validators=[MinValueValidator(-180), MaxValueValidator(180)],
    )
    source_text = models.TextField(_("原文依据"), blank=True)
    version = models.PositiveIntegerField(_("版本"), default=1, editable=False)

    objects = ScopedQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("消防站")
        verbose_name_plural = _("消防站")
        ordering = ["region__name", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["plan", "code"], condition=~Q(code=""), name="station_unique_code_in_plan"
            ),
            non_negative("floor_area_m2", "station_floor_area_non_negative"),
            non_negative("land_area_m2", "station_land_area_non_negative"),
            non_negative("investment_10k_yuan", "station_investment_non_negative"),
            models.CheckConstraint(
                condition=Q(lat__isnull=True) | Q(lat__gte=-90, lat__lte=90),
                name="station_lat_in_range",
            ),
            models.CheckConstraint(
                condition=Q(lon__isnull=True) | Q(lon__gte=-180, lon__lte=180),
                name="station_lon_in_range",
            ),
        ]
        indexes = [models.Index(fields=["region", "status"], name="station_region_status_idx")]

    def __str__(self) -> str:
        return self.name
