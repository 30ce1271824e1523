"""Publishing a reviewed draft: the plan, its sections, tasks with their units, targets,
milestones and stations, written through the same services as the edit pages and the API
(planning.services, targets.upkeep, stations.services, core.services.create_object for new
units) — in one transaction: any error leaves nothing behind, and every row gets its
history row from the service that wrote it.
"""

from __future__ import annotations

import datetime
import re
from decimal import Decimal

from django.db import transaction
from django.utils.text import slugify
from django.utils.translation import gettext as _

from core.choices import UnitKind
from core.models import Region, Unit
from core.services import create_object, invalid
from plan_import.draft import Draft
from planning.choices import PlanKind, PlanStatus, SectionKind
from planning.models import Plan
from planning.services import create_plan, create_section, create_task
from stations.choices import StationStatus
from stations.services import create_station
from targets.choices import Comparator, Measure
from targets.upkeep import create_milestone, create_target

SECTION_KINDS = {kind.value for kind in SectionKind}
COMPARATORS = {kind.value for kind in Comparator}
UNIT_FIELDS = ("name", "kind", "region", "source_text")


def unit_kind(name: str) -> str:
    if "消防" in name and re.search(r"支队|大队|救援站|机构", name):
        return UnitKind.FIRE_RESCUE
    if name.startswith("各") or "、" in name:
        return UnitKind.COLLECTIVE
    if name.endswith(("人民政府", "政府", "管委会")):
        return UnitKind.GOVERNMENT
    if re.search(r"公司|企业|集团", name):
        return UnitKind.ENTERPRISE
    if re.search(r"局|委|办|部门|中心|厅|委员会", name):
        return UnitKind.DEPARTMENT
    return UnitKind.OTHER


def measure_of(unit: str, comparator: str) -> str:
    if unit in ("%", "‰"):
        return Measure.RATIO
    return Measure.LEVEL if comparator in (Comparator.LTE, Comparator.EQ) else Measure.INCREMENT


def _plan_kind(title: str, start: int, end: int) -> str:
    if re.search(r"行动计划|行动方案|实施方案", title):
        return PlanKind.ACTION_PLAN
    if end - start == 4 and "规划" in title:
        return PlanKind.FIVE_YEAR
    return PlanKind.SPECIAL


def _unique_code(title: str, start: int, end: int) -> str:
    base = slugify(f"import-{start}-{end}") or "import"
    code, n = base, 1
    while Plan.objects.filter(code=code).exists():
        n += 1
        code = f"{base}-{n}"
    return code


@transaction.atomic
def publish_draft(
    draft: Draft,
    *,
    actor,
    region: Region,
    code: str | None = None,
    source_file: str = "",
    status: str = PlanStatus.IN_FORCE,
) -> Plan:
    """Write the reviewed draft as a plan (nothing on any error: one transaction)."""
    info = draft.plan
    if not info.title:
        raise invalid(Plan, "title", _("请填写规划标题"))
    if not (info.start_year and info.end_year):
        raise invalid(Plan, "start_year", _("请填写规划起止年度"))
    plan = create_plan(
        actor=actor,
        values={
            "code": code or _unique_code(info.title, info.start_year, info.end_year),
            "title": info.title[:255],
            "kind": _plan_kind(info.title, info.start_year, info.end_year),
            "status": status,
            "issuer": info.issuer[:128],
            "doc_number": info.doc_number[:64],
            "issued_on": info.issued_on,
            "start_year": info.start_year,
            "end_year": info.end_year,
            "region": region,
            "source_file": source_file[:255],
            "source_text": info.source_text,
        },
    )
    sections = {}
    for order, item in enumerate(draft.sections, start=1):
        sections[item.ref] = create_section(
            plan,
            actor=actor,
            values={
                "code": item.ref,
                "parent": sections.get(item.parent_ref),
                "number": item.number[:32],
                "title": item.title[:255] or item.number,
                "kind": item.kind if item.kind in SECTION_KINDS else SectionKind.SECTION,
                "order": order,
                "source_text": item.source_text,
            },
        )
    units = _Units(actor, region)
    tasks = {}
    for order, item in enumerate(draft.tasks, start=1):
        task = create_task(
            plan,
            actor=actor,
            values={
                "code": item.ref,
                "section": sections.get(item.section_ref),
                "number": item.number[:32],
                "title": item.title[:255],
                "due_on": item.due_on,
                "order": order,
                "source_text": item.source_text,
            },
            lead_units=[units.get(name, item.source_text) for name in item.lead_units],
            support_units=[
                units.get(name, item.source_text)
                for name in item.support_units
                if name not in item.lead_units
            ],
        )
        tasks[item.ref] = task
        for number, milestone in enumerate(item.milestones, start=1):
            create_milestone(
                actor=actor,
                values={
                    "task": task,
                    "code": f"{item.ref}-m{number}",
                    "due_on": milestone.due_on,
                    "text": milestone.text,
                    "order": number,
                    "source_text": milestone.text,
                },
            )
    for order, item in enumerate(draft.targets, start=1):
        if item.value is None:
            continue
        comparator = item.comparator if item.comparator in COMPARATORS else Comparator.GTE
        target = create_target(
            plan,
            actor=actor,
            values={
                "code": item.ref,
                "task": tasks.get(item.task_ref),
                "section": sections.get(item.section_ref),
                "name": item.name[:255] or item.source_text[:40],
                "measure": measure_of(item.unit, comparator),
                "measure_unit": item.unit[:32],
                "comparator": comparator,
                "target_value": _decimal(item.value),
                "target_year": item.year,
                "baseline_value": _decimal(item.baseline_value),
                "baseline_year": item.baseline_year,
                "attribute": item.attribute or "",
                "order": order,
                "source_text": item.source_text,
            },
        )
        for number, milestone in enumerate(item.milestones, start=1):
            create_milestone(
                actor=actor,
                values={
                    "target": target,
                    "code": f"{item.ref}-m{number}",
                    "due_on": milestone.due_on,
                    "planned_value": _decimal(item.value),
                    "text": milestone.text,
                    "order": number,
                    "source_text": item.source_text,
                },
            )
    for number, item in enumerate(draft.stations, start=1):
        create_station(
            actor=actor,
            values={
                "plan": plan,
                "code": f"st{number}",
                "name": item.name[:128],
                "region": _region_named(region, item.region),
                "address": item.address[:255],
                "station_class": item.station_class or "",
                "status": StationStatus.PLANNED
                if item.status == "planned"
                else StationStatus.IN_SERVICE,
                "in_service_on": _month(item.in_service),
                "source_text": item.source_text,
            },
        )
    return plan


class _Units:
    """Unit names matched to the units of the plan's region (or its ancestors); a name
    not found becomes a new unit of the plan's region (「新建单位」)."""

    def __init__(self, actor, region: Region):
        self.actor, self.region = actor, region
        regions = [region.pk]
        node = region
        while node.parent_id:
            node = node.parent
            regions.append(node.pk)
        self.known = {}
        for unit in Unit.objects.filter(region_id__in=regions).order_by("-region__level", "pk"):
            self.known.setdefault(unit.name, unit)

    def get(self, name: str, source_text: str) -> Unit:
        unit = self.known.get(name)
        if unit is None:
            unit = create_object(
                Unit,
                actor=self.actor,
                values={
                    "name": name[:128],
                    "kind": unit_kind(name),
                    "region": self.region,
                    "source_text": source_text,
                },
                allowed=UNIT_FIELDS,
                within=self.region,
                reason="导入规划",
            )
            self.known[name] = unit
        return unit


def _region_named(region: Region, name: str) -> Region:
    if not name:
        return region
    return Region.objects.filter(parent=region, name=name).first() or region


def _decimal(value: float | None) -> Decimal | None:
    """0.15 as written, not the binary float's 0.1499999…"""
    return None if value is None else Decimal(repr(value))


def _month(value: str | None) -> datetime.date | None:
    if not value:
        return None
    year, month = value.split("-")
    return datetime.date(int(year), int(month), 1)
