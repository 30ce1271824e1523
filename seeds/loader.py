"""Load the seed plans in ``fixtures/plans/*.yaml`` into the database.

The format is described in ``fixtures/README.md``. Loading is idempotent: rows are matched on
natural keys and saved only when a field differs, so a second run writes nothing (and adds no
history). All files load in one transaction; any error leaves the database untouched.
"""

from __future__ import annotations

import datetime
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import yaml
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction

from core.choices import Attribute, RegionLevel, UnitKind
from core.models import Region, Unit
from planning.choices import AssignmentRole, PlanKind, PlanStatus, SectionKind
from planning.models import Plan, Section, Stage, Task, TaskAssignment
from stations.choices import BuildType, ForceType, StationClass, StationStatus
from stations.models import Station
from targets.choices import Comparator, Feed, Measure
from targets.models import Allocation, BaseFigure, FireStatistic, Milestone, Target

FIXTURE_DIR = Path(settings.BASE_DIR) / "fixtures" / "plans"
SEED_REASON = "载入种子规划"


class SeedError(Exception):
    """The fixture files hold errors; nothing was written."""

    def __init__(self, errors: list[str]):
        super().__init__("\n".join(errors))
        self.errors = errors


class _RowError(Exception):
    pass


@dataclass
class LoadResult:
    created: Counter = field(default_factory=Counter)
    updated: Counter = field(default_factory=Counter)
    unchanged: Counter = field(default_factory=Counter)
    plans: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(sum(self.created.values()) or sum(self.updated.values()))


# ---------------------------------------------------------------------------------- parsing


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, int | float | Decimal):
        return str(value)
    if not isinstance(value, str):
        raise _RowError(f"应为文本，实际为 {value!r}")
    return value.strip()


def _decimal(value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise _RowError(f"应为数字，实际为 {value!r}")
    try:
        number = Decimal(str(value).replace(",", "").replace(" ", ""))
    except InvalidOperation:
        raise _RowError(f"应为数字，实际为 {value!r}") from None
    if number < 0:
        raise _RowError(f"不能为负数：{value!r}")
    return number


def _integer(value: Any) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise _RowError(f"应为整数，实际为 {value!r}")
    if value < 0:
        raise _RowError(f"不能为负数：{value!r}")
    return value


def _date(value: Any) -> datetime.date | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime.date):
        return value
    try:
        return datetime.date.fromisoformat(str(value))
    except ValueError:
        raise _RowError(f"日期应为 YYYY-MM-DD，实际为 {value!r}") from None


def _bool(value: Any) -> bool:
    if value is None:
        return False
    if not isinstance(value, bool):
        raise _RowError(f"应为 true/false，实际为 {value!r}")
    return value


def _choice(choices: type[models.TextChoices], *, blank: bool = False):
    def convert(value: Any) -> str:
        if value in (None, "") and blank:
            return ""
        if value not in choices.values:
            raise _RowError(f"取值 {value!r} 不在 {', '.join(choices.values)} 之中")
        return value

    return convert


def _required(convert):
    def wrapped(value: Any):
        result = convert(value)
        if result in (None, ""):
            raise _RowError("必填")
        return result

    return wrapped


# Allowed keys per row kind, each with its converter; references (region, unit, task …) are
# resolved separately and listed with `None`.
ROW_FIELDS: dict[str, dict[str, Any]] = {
    "plan": {
        "code": _required(_text),
        "title": _required(_text),
        "kind": _choice(PlanKind),
        "status": _choice(PlanStatus, blank=True),
        "issuer": _text,
        "doc_number": _text,
        "issued_on": _date,
        "start_year": _required(_integer),
        "end_year": _required(_integer),
        "region": None,
        "parent": None,
        "source_file": _text,
        "source_text": _text,
    },
    "parent": {
        "code": _required(_text),
        "title": _required(_text),
        "kind": _choice(PlanKind),
        "start_year": _required(_integer),
        "end_year": _required(_integer),
        "region": None,
        "source_text": _text,
    },
    "region": {"path": None, "level": _choice(RegionLevel), "source_text": _text},
    "unit": {
        "name": _required(_text),
        "kind": _choice(UnitKind),
        "region": None,
        "source_text": _text,
    },
    "stage": {
        "name": _required(_text),
        "starts_on": _date,
        "ends_on": _date,
        "source_text": _text,
    },
    "section": {
        "code": _required(_text),
        "number": _text,
        "title": _required(_text),
        "kind": _choice(SectionKind),
        "source_text": _text,
        "children": None,
    },
    "task": {
        "code": _required(_text),
        "section": None,
        "number": _text,
        "title": _required(_text),
        "description": _text,
        "due_on": _date,
        "units": None,
        "source_text": _text,
        "milestones": None,
    },
    "assignment": {"unit": None, "region": None, "role": _choice(AssignmentRole)},
    "target": {
        "code": _required(_text),
        "name": _required(_text),
        "task": None,
        "section": None,
        "measure": _choice(Measure),
        "measure_unit": _text,
        "comparator": _choice(Comparator),
        "target_value": _decimal,
        "target_year": _integer,
        "baseline_value": _decimal,
        "baseline_year": _integer,
        "attribute": _choice(Attribute, blank=True),
        "region": None,
        "formula": _text,
        "feed": _choice(Feed, blank=True),
        "source_text": _text,
        "milestones": None,
        "allocations": None,
    },
    "milestone": {
        "code": _text,
        "due_on": _required(_date),
        "planned_value": _decimal,
        "is_cumulative": _bool,
        "text": _text,
        "region": None,
        "source_text": _text,
    },
    "allocation": {"region": None, "value": _required(_decimal), "source_text": _text},
    "station": {
        "code": _required(_text),
        "name": _required(_text),
        "region": None,
        "address": _text,
        "station_class": _choice(StationClass, blank=True),
        "force_type": _choice(ForceType, blank=True),
        "status": _choice(StationStatus),
        "build_type": _choice(BuildType, blank=True),
        "planned_year": _integer,
        "completed_year": _integer,
        "in_service_on": _date,
        "floor_area_m2": _decimal,
        "land_area_m2": _decimal,
        "investment_10k_yuan": _decimal,
        "lat": None,
        "lon": None,
        "source_text": _text,
    },
    "fire_statistic": {
        "region": None,
        "year": _required(_integer),
        "fires": _integer,
        "deaths": _integer,
        "injuries": _integer,
        "direct_loss_10k_yuan": _decimal,
        "source_text": _text,
    },
    "base_figure": {
        "region": None,
        "year": _required(_integer),
        "name": _required(_text),
        "key": _text,
        "value": _required(_decimal),
        "measure_unit": _text,
        "source_text": _text,
    },
}


def _fields(kind: str, row: Any, where: str) -> dict[str, Any]:
    """Convert the plain fields of a row; unknown keys are errors (they are usually typos)."""
    if not isinstance(row, dict):
        raise _RowError(f"{where}: 应为键值表，实际为 {type(row).__name__}")
    spec = ROW_FIELDS[kind]
    unknown = sorted(set(row) - set(spec))
    if unknown:
        raise _RowError(f"{where}: 未知字段 {', '.join(unknown)}（可用：{', '.join(spec)}）")
    values = {}
    for name, convert in spec.items():
        if convert is None:
            continue
        try:
            values[name] = convert(row.get(name))
        except _RowError as error:
            raise _RowError(f"{where}.{name}: {error}") from None
    return values


# ---------------------------------------------------------------------------------- writing


class _Loader:
    def __init__(self, result: LoadResult):
        self.result = result
        self.regions: dict[str, Region] = {}

    def upsert(
        self, model: type[models.Model], lookup: dict, values: dict, *, shared: bool = False
    ) -> models.Model:
        """Create, or update only the fields that differ; count what happened.

        ``shared`` rows (regions, units) may be named by several plans, each quoting its own
        sentence: the first plan's ``source_text`` is kept, so reloading stays a no-op.
        """
        label = model._meta.model_name
        obj = model.objects.filter(**lookup).first()
        if obj is not None and shared and obj.source_text:
            values = {name: value for name, value in values.items() if name != "source_text"}
        if obj is None:
            obj = model(**lookup, **values)
            obj._change_reason = SEED_REASON
            _validate(obj, lookup)
            obj.save()
            self.result.created[label] += 1
            return obj
        changed = [name for name, value in values.items() if _differs(getattr(obj, name), value)]
        if not changed:
            self.result.unchanged[label] += 1
            return obj
        for name in changed:
            setattr(obj, name, values[name])
        obj._change_reason = SEED_REASON
        _validate(obj, lookup)
        obj.save(update_fields=changed)
        self.result.updated[label] += 1
        return obj

    # references ------------------------------------------------------------------------

    def region(self, path: Any, where: str) -> Region:
        path = _text(path)
        if path not in self.regions:
            found = None
            for name in path.split("/"):
                found = Region.objects.filter(parent=found, name=name).first()
                if found is None:
                    break
            if found is None:
                raise _RowError(f"{where}: 区划 {path!r} 未在 regions 中声明")
            self.regions[path] = found
        return self.regions[path]

    def load_region(self, row: dict, where: str) -> None:
        values = _fields("region", row, where)
        path = _text(row.get("path"))
        if not path:
            raise _RowError(f"{where}.path: 必填")
        *parents, name = path.split("/")
        parent = self.region("/".join(parents), where) if parents else None
        region = self.upsert(Region, {"parent": parent, "name": name}, values, shared=True)
        self.regions[path] = region

    # plans -----------------------------------------------------------------------------

    def load_file(self, data: dict, where: str) -> Plan:
        if not isinstance(data, dict) or "plan" not in data:
            raise _RowError(f"{where}: 缺少 plan")
        known = {"plan", "regions", "units", "stages", "sections", "tasks", "targets",
                 "stations", "fire_statistics", "base_figures"}  # fmt: skip
        unknown = sorted(set(data) - known)
        if unknown:
            raise _RowError(f"{where}: 未知的顶层键 {', '.join(unknown)}")
        for i, row in enumerate(data.get("regions") or [], 1):
            self.load_region(row, f"{where} regions[{i}]")
        plan = self.load_plan(data["plan"], f"{where} plan")
        units = self.load_units(plan, data.get("units") or [], f"{where} units")
        for i, row in enumerate(data.get("stages") or [], 1):
            values = _fields("stage", row, f"{where} stages[{i}]")
            self.upsert(Stage, {"plan": plan, "name": values.pop("name")}, {**values, "order": i})
        sections: dict[str, Section] = {}
        self.load_sections(plan, data.get("sections") or [], None, sections, f"{where} sections")
        tasks = self.load_tasks(plan, data.get("tasks") or [], sections, units, where)
        self.load_targets(plan, data.get("targets") or [], sections, tasks, where)
        self.load_register(plan, data, where)
        return plan

    def load_plan(self, row: dict, where: str) -> Plan:
        values = _fields("plan", row, where)
        values["region"] = self.region(row.get("region"), where)
        values["status"] = values["status"] or PlanStatus.IN_FORCE
        parent_row = row.get("parent")
        values["parent"] = None
        if parent_row:
            parent_values = _fields("parent", parent_row, f"{where}.parent")
            parent_values["region"] = self.region(
                parent_row.get("region") or row.get("region"), where
            )
            parent_values["status"] = PlanStatus.REFERENCE
            code = parent_values.pop("code")
            values["parent"] = self.upsert(Plan, {"code": code}, parent_values)
        code = values.pop("code")
        plan = self.upsert(Plan, {"code": code}, values)
        self.result.plans.append(code)
        return plan

    def load_units(self, plan: Plan, rows: list, where: str) -> dict[str, list[Unit]]:
        by_name: dict[str, list[Unit]] = {}
        for i, row in enumerate(rows, 1):
            values = _fields("unit", row, f"{where}[{i}]")
            region = self.region(row.get("region") or plan.region.path, f"{where}[{i}]")
            lookup = {"region": region, "name": values.pop("name")}
            unit = self.upsert(Unit, lookup, values, shared=True)
            by_name.setdefault(unit.name, []).append(unit)
        return by_name

    def load_sections(self, plan, rows, parent, sections, where) -> None:
        for i, row in enumerate(rows or [], 1):
            here = f"{where}[{i}]"
            values = _fields("section", row, here)
            code = values.pop("code")
            if code in sections:
                raise _RowError(f"{here}.code: 编码 {code!r} 重复")
            values.update(parent=parent, order=len(sections) + 1)
            sections[code] = self.upsert(Section, {"plan": plan, "code": code}, values)
            self.load_sections(plan, row.get("children"), sections[code], sections, here)

    def load_tasks(self, plan, rows, sections, units, where) -> dict[str, Task]:
        tasks: dict[str, Task] = {}
        for i, row in enumerate(rows, 1):
            here = f"{where} tasks[{i}]"
            values = _fields("task", row, here)
            code = values.pop("code")
            if code in tasks:
                raise _RowError(f"{here}.code: 编码 {code!r} 重复")
            values["section"] = _lookup(sections, row.get("section"), f"{here}.section", "章节")
            values["order"] = i
            task = self.upsert(Task, {"plan": plan, "code": code}, values)
            tasks[code] = task
            for n, assignment in enumerate(row.get("units") or [], 1):
                at = f"{here}.units[{n}]"
                role = _fields("assignment", assignment, at)["role"]
                unit = self.unit(plan, assignment, units, at)
                self.upsert(
                    TaskAssignment, {"task": task, "unit": unit}, {"role": role, "order": n}
                )
            self.load_milestones(plan, row.get("milestones"), {"task": task}, code, here)
        return tasks

    def unit(self, plan: Plan, row: dict, units: dict[str, list[Unit]], where: str) -> Unit:
        name = _text(row.get("unit"))
        if row.get("region"):
            region = self.region(row["region"], where)
            candidates = [u for u in units.get(name, []) if u.region_id == region.pk]
        else:
            candidates = units.get(name, [])
            if len(candidates) > 1:
                candidates = [u for u in candidates if u.region_id == plan.region_id]
        if len(candidates) != 1:
            raise _RowError(f"{where}: 单位 {name!r} 未在 units 中声明（或不唯一，请写明 region）")
        return candidates[0]

    def load_milestones(self, plan, rows, owner: dict, owner_code: str, where: str) -> None:
        for i, row in enumerate(rows or [], 1):
            here = f"{where}.milestones[{i}]"
            values = _fields("milestone", row, here)
            code = values.pop("code") or f"{owner_code}-m{i}"
            values["region"] = self.region(row["region"], here) if row.get("region") else None
            values.update(owner, order=i)
            values.setdefault("target", None)
            values.setdefault("task", None)
            self.upsert(Milestone, {"plan": plan, "code": code}, values)

    def load_targets(self, plan, rows, sections, tasks, where) -> None:
        seen: set[str] = set()
        for i, row in enumerate(rows, 1):
            here = f"{where} targets[{i}]"
            values = _fields("target", row, here)
            code = values.pop("code")
            if code in seen:
                raise _RowError(f"{here}.code: 编码 {code!r} 重复")
            seen.add(code)
            values["task"] = _lookup(tasks, row.get("task"), f"{here}.task", "任务")
            values["section"] = _lookup(sections, row.get("section"), f"{here}.section", "章节")
            values["region"] = self.region(row.get("region") or plan.region.path, here)
            values["order"] = i
            values["feed"] = values["feed"] or (Feed.FORMULA if values["formula"] else Feed.REPORTS)
            target = self.upsert(Target, {"plan": plan, "code": code}, values)
            self.load_milestones(plan, row.get("milestones"), {"target": target}, code, here)
            for n, allocation in enumerate(row.get("allocations") or [], 1):
                at = f"{here}.allocations[{n}]"
                values = _fields("allocation", allocation, at)
                region = self.region(allocation.get("region"), at)
                self.upsert(Allocation, {"target": target, "region": region}, values)

    def load_register(self, plan: Plan, data: dict, where: str) -> None:
        for i, row in enumerate(data.get("stations") or [], 1):
            here = f"{where} stations[{i}]"
            values = _fields("station", row, here)
            values["region"] = self.region(row.get("region") or plan.region.path, here)
            values["lat"] = _decimal(row.get("lat"))
            values["lon"] = _decimal(row.get("lon"))
            self.upsert(Station, {"plan": plan, "code": values.pop("code")}, values)
        for i, row in enumerate(data.get("fire_statistics") or [], 1):
            here = f"{where} fire_statistics[{i}]"
            values = _fields("fire_statistic", row, here)
            region = self.region(row.get("region") or plan.region.path, here)
            year = values.pop("year")
            self.upsert(FireStatistic, {"region": region, "year": year}, {**values, "plan": plan})
        for i, row in enumerate(data.get("base_figures") or [], 1):
            here = f"{where} base_figures[{i}]"
            values = _fields("base_figure", row, here)
            region = self.region(row.get("region") or plan.region.path, here)
            lookup = {"region": region, "year": values.pop("year"), "name": values.pop("name")}
            self.upsert(BaseFigure, lookup, {**values, "plan": plan})


def _validate(obj: models.Model, lookup: dict) -> None:
    """Model validation (field validators and clean()), reported as a row error."""
    try:
        obj.full_clean(validate_unique=False, validate_constraints=False)
    except ValidationError as error:
        key = ", ".join(f"{name}={value}" for name, value in lookup.items())
        problems = "；".join(
            f"{name}: {'，'.join(messages)}" for name, messages in error.message_dict.items()
        )
        raise _RowError(f"{obj._meta.verbose_name}（{key}）: {problems}") from None


def _lookup(items: dict, code: Any, where: str, what: str):
    if code in (None, ""):
        return None
    if code not in items:
        raise _RowError(f"{where}: {what}编码 {code!r} 不存在")
    return items[code]


def _differs(current: Any, new: Any) -> bool:
    if isinstance(current, models.Model) or isinstance(new, models.Model):
        return getattr(current, "pk", None) != getattr(new, "pk", None)
    if isinstance(current, Decimal) and new is not None:
        return current != Decimal(new)
    return current != new


# ---------------------------------------------------------------------------------- entry


def fixture_files(directory: Path = FIXTURE_DIR) -> list[Path]:
    return sorted(directory.glob("*.yaml"))


def read_fixture(path: Path) -> dict:
    try:
        with path.open(encoding="utf-8") as handle:
            return yaml.safe_load(handle)
    except yaml.YAMLError as error:
        raise SeedError([f"{path.name}: YAML 格式错误：{error}"]) from None


def load_seed_plans(
    paths: list[Path] | None = None, *, only: list[str] | None = None
) -> LoadResult:
    """Load the fixture files (all of them by default) in one transaction."""
    paths = fixture_files() if paths is None else paths
    documents = [(path, read_fixture(path)) for path in paths]
    if only:
        documents = [(p, d) for p, d in documents if (d or {}).get("plan", {}).get("code") in only]
        missing = set(only) - {d["plan"]["code"] for _, d in documents}
        if missing:
            raise SeedError([f"没有编码为 {code} 的种子规划" for code in sorted(missing)])
    result = LoadResult()
    try:
        with transaction.atomic():
            loader = _Loader(result)
            for path, data in documents:
                loader.load_file(data, path.name)
    except _RowError as error:
        raise SeedError([str(error)]) from None
    except IntegrityError as error:  # a database rule the checks above did not foresee
        raise SeedError([f"数据库约束拒绝写入：{error}"]) from None
    return result
