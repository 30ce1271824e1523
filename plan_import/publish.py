"""Publishing a reviewed draft: the plan, its sections, tasks with their units, targets,
milestones and stations, written through the same services as the edit pages and the API
(planning.services, targets.upkeep, stations.services, core.services.create_object for new
units) — in one transaction: any error leaves nothing behind, and every row gets its
history row from the service that wrote it.

Nothing is decided here that the reviewer has not decided: every unit name of a kept task
must be mapped to an existing unit or to ``NEW_UNIT`` (「新建单位」, created here in the
plan's region), every loose milestone attached to a task or target, and every station's
region named by the document confirmed in the region tree — else publishing is refused
(``unresolved_units``, ``unattached_milestones``, ``unresolved_station_regions``).
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Mapping
from decimal import Decimal

from django.db import transaction
from django.utils.text import slugify
from django.utils.translation import gettext as _

from core.choices import UnitKind
from core.models import Region, Unit
from core.services import ServiceError, create_object, invalid
from plan_import.draft import Draft, attach_milestones
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
NEW_UNIT = "new"  # a unit name the reviewer chose to create (「新建单位」)
STATION_STATUSES = {status.value for status in StationStatus}


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
    units: Mapping[str, Unit | str],
) -> Plan:
    """Write the reviewed draft as a plan (nothing on any error: one transaction).
    ``units`` maps every unit name of the draft's tasks to the existing unit the reviewer
    chose or to ``NEW_UNIT``."""
    info = draft.plan
    if not info.title:
        raise invalid(Plan, "title", _("请填写规划标题"))
    if not (info.start_year and info.end_year):
        raise invalid(Plan, "start_year", _("请填写规划起止年度"))
    check_decided(draft, units)
    attach_milestones(draft)
    station_regions = Region.objects.in_bulk(
        {item.region_id for item in draft.stations if item.region_id}
    )
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
    resolved = _Units(actor, region, units)
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
            lead_units=[resolved.get(name, item.source_text) for name in item.lead_units],
            support_units=[
                resolved.get(name, item.source_text)
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
                    "planned_value": _decimal(
                        item.value if milestone.value is None else milestone.value
                    ),
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
                "region": station_regions.get(item.region_id, region),
                "address": item.address[:255],
                "station_class": item.station_class or "",
                "status": item.status
                if item.status in STATION_STATUSES
                else StationStatus.IN_SERVICE,
                "in_service_on": _month(item.in_service),
                "source_text": item.source_text,
            },
        )
    return plan


def unit_names(draft: Draft) -> list[str]:
    """The unit names of the draft's tasks, leads first, each once, in the document's order."""
    names: list[str] = []
    for task in draft.tasks:
        for name in [*task.lead_units, *task.support_units]:
            if name not in names:
                names.append(name)
    return names


def check_decided(draft: Draft, units: Mapping[str, Unit | str]) -> None:
    """Refuse what the reviewer has not decided (see the module's docstring)."""
    pending = [name for name in unit_names(draft) if name not in units]
    if pending:
        raise ServiceError(
            "unresolved_units",
            _(
                "以下单位名称尚未确认：%(names)s。请为每个名称选择对应的已有单位或「新建单位」后再发布"
            )
            % {"names": "、".join(pending)},
        )
    owners = {f"task:{item.ref}" for item in draft.tasks} | {
        f"target:{item.ref}" for item in draft.targets
    }
    loose = [item for item in draft.milestones if item.attach_to not in owners]
    if loose:
        raise ServiceError(
            "unattached_milestones",
            _("有 %(count)s 个时间节点尚未关联任务或指标（如“%(text)s”），请关联或删除后再发布")
            % {"count": len(loose), "text": loose[0].text[:30]},
        )
    unplaced = [item for item in draft.stations if item.region and not item.region_id]
    if unplaced:
        raise ServiceError(
            "unresolved_station_regions",
            _("以下消防站的所在区划尚未确认：%(names)s。请在区划树中选择后再发布")
            % {"names": "、".join(item.name for item in unplaced)},
        )


class _Units:
    """The reviewer's decision for each unit name: the unit chosen, or a new unit of the
    plan's region created on first use (through ``create_object``: scope, history)."""

    def __init__(self, actor, region: Region, decided: Mapping[str, Unit | str]):
        self.actor, self.region = actor, region
        self.known = {name: unit for name, unit in decided.items() if isinstance(unit, Unit)}

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


def _decimal(value: float | None) -> Decimal | None:
    """0.15 as written, not the binary float's 0.1499999…"""
    return None if value is None else Decimal(repr(value))


def _month(value: str | None) -> datetime.date | None:
    if not value:
        return None
    year, month = value.split("-")
    return datetime.date(int(year), int(month), 1)
