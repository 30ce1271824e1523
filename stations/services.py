"""Writes to the fire-station register (消防站台账): one transaction each, scope-checked,
version-checked and recorded in history — the shared path of planning.services."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from core.models import Region
from core.scope import VIEW
from core.services import create_object, edit_object, invalid
from stations.models import Station

STATION_FIELDS = (
    "plan", "code", "name", "region", "address", "station_class", "force_type", "status",
    "build_type", "planned_year", "completed_year", "in_service_on", "floor_area_m2",
    "land_area_m2", "investment_10k_yuan", "lat", "lon", "source_text",
)  # fmt: skip
# The station's own region is checked by the scope rule itself (changeable only inside the
# actor's regions); the plan it comes from only needs to be visible.
RELATED = {"plan": VIEW}


def _rules(station: Station) -> None:
    if station.code and station.plan_id:
        clash = Station.objects.filter(plan_id=station.plan_id, code=station.code)
        if station.pk:
            clash = clash.exclude(pk=station.pk)
        if clash.exists():
            raise invalid(
                Station,
                "code",
                _("该规划下已有编码为“%(code)s”的消防站") % {"code": station.code},
            )
    if (
        station.in_service_on
        and station.completed_year
        and station.in_service_on.year < station.completed_year
    ):
        raise invalid(Station, "in_service_on", _("投入执勤日期不能早于建成年度"))


@transaction.atomic
def create_station(*, actor, values: Mapping[str, Any]) -> Station:
    region = values.get("region")
    if not isinstance(region, Region):
        raise invalid(Station, "region", _("请选择消防站所在区划"))
    return create_object(
        Station,
        actor=actor,
        values=values,
        allowed=STATION_FIELDS,
        within=region,
        related=RELATED,
        rules=_rules,
        reason="创建",
    )


@transaction.atomic
def update_station(
    station: Station, *, actor, version: int | None, changes: Mapping[str, Any]
) -> Station:
    return edit_object(
        Station,
        station,
        actor=actor,
        version=version,
        changes=changes,
        allowed=STATION_FIELDS,
        related=RELATED,
        rules=_rules,
    )
