"""Base figures and fire statistics (基础数据): what the formula targets need per region and
year, who enters them, and the one way they are written.

Every door — the page (``targets.views.base_figures``), the API (``/api/v1/fire-statistics/``,
``/api/v1/base-figures/``) and the figures workbook's 基础数据 sheet
(``reports.excel.importers``) — calls ``save_base_figures``: the same numbers as people type
them, the same scope rule, optimistic locking, one transaction, a history row with the reason.

What is asked for (``load_sheet``): the fire statistics (起数, 死亡, 受伤, 直接损失) and the
resident population (常住人口) always, plus every base figure the formulas of the plan's
formula targets name (``targets.formulas``: each variable that is neither a fire statistic
nor the station register is a ``BaseFigure.key``) for the targets judged in the region — set
for it or allocated to it. ``owed_items`` keeps only what those formulas read (the workbook's
sheet).

Who enters them: the region's liaison (联络员) or committee staff whose scope holds the region
(the plan's region staff) — any user with the report or change role and the region in scope.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Profile
from core.choices import Role
from core.models import Region
from core.numbers import NumberError
from core.numbers import parse_number as parse_number_as_typed
from core.scope import CHANGE, REPORT, can, require, scope_of
from core.services import (
    REASON_LIMIT,
    InvalidInput,
    NotAllowed,
    ServiceError,
    StaleEdit,
    save_versioned,
    validate,
)
from planning.models import Plan
from targets.choices import Feed
from targets.formulas import (
    BASE_FIGURE,
    FIRE_STATISTIC,
    STATIONS_IN_SERVICE,
    FormulaError,
    is_variable_name,
    normalize_name,
    parse_formula,
)
from targets.models import BaseFigure, FireStatistic, Target
from targets.services import COUNT_UNITS

POPULATION = "population"
# The fire statistics, in the order people read them: (label, unit, whole number).
FIRE_ITEMS: dict[str, tuple[str, str, bool]] = {
    "fires": ("火灾起数", "起", True),
    "deaths": ("死亡人数", "人", True),
    "injuries": ("受伤人数", "人", True),
    "direct_loss_10k_yuan": ("直接财产损失", "万元", False),
}
# Base figures the seed plans' formulas name: the name a new row gets and its unit. Any other
# key is named by itself, without a unit.
KNOWN_BASES: dict[str, tuple[str, str]] = {
    POPULATION: ("常住人口", "人"),
    "fulltime_firefighters": ("专职消防救援人员", "人"),
    "专职消防队员工资": ("专职消防队员工资", "元"),
    "城镇非私营单位在岗职工平均工资": ("城镇非私营单位在岗职工平均工资", "元"),
}
FIRE_VERSION = "fire_statistic"  # the version token of the region's fire statistics row
FIRST_YEAR = 1949
MAX_DECIMAL_PLACES = 4
MAX_NUMBER = Decimal(10) ** 14  # numeric(18, 4)
NO_FIGURE = {"", "—", "——", "-", "－", "/", "无", "暂无"}
_THOUSANDS = re.compile(r"^\d{1,3}(,\d{3})+(\.\d+)?$")


# ------------------------------------------------------------------------------ what is asked


@dataclass
class BaseItem:
    """One figure of a region and year: a fire statistic (``key`` its field) or a base figure
    (``key`` the formula variable)."""

    key: str
    kind: str  # FIRE_STATISTIC or BASE_FIGURE
    label: str
    measure_unit: str
    whole: bool
    used_by: list[Target] = field(default_factory=list)  # the formula targets reading it

    @property
    def title(self) -> str:
        return f"{self.label}（{self.measure_unit}）" if self.measure_unit else self.label

    @property
    def version_token(self) -> str:
        return FIRE_VERSION if self.kind == FIRE_STATISTIC else self.key

    @property
    def owed(self) -> bool:
        return bool(self.used_by)


def item_for(key: str) -> BaseItem:
    """The item of a fire statistic field or a base figure key."""
    if key in FIRE_ITEMS:
        label, unit, whole = FIRE_ITEMS[key]
        return BaseItem(key, FIRE_STATISTIC, label, unit, whole)
    label, unit = KNOWN_BASES.get(key, (key, ""))
    return BaseItem(key, BASE_FIGURE, label, unit, unit in COUNT_UNITS)


def label_of(kind: str, key: str) -> str:
    """How a page names a missing input (the engine's ``MissingValue``)."""
    item = item_for(key)
    if kind == BASE_FIGURE and item.label != key:
        return f"{item.label}（{key}）"
    return item.label


def formula_targets(region: Region, *, plan: Plan | None = None) -> list[Target]:
    """The formula targets judged in ``region``: set for it or allocated to it (one query)."""
    targets = Target.objects.filter(feed=Feed.FORMULA).filter(
        Q(region=region) | Q(allocations__region=region)
    )
    if plan is not None:
        targets = targets.filter(plan=plan)
    return list(
        targets.distinct().select_related("plan__region").order_by("plan_id", "order", "pk")
    )


def needed_items(targets: Iterable[Target], *, standard: bool = True) -> list[BaseItem]:
    """The items the targets' formulas read (with the targets reading each), in a steady
    order: fire statistics, population, then the other bases as the formulas name them.
    ``standard`` adds the fire statistics and the population even when no formula reads them."""
    items: dict[str, BaseItem] = {}
    if standard:
        for key in (*FIRE_ITEMS, POPULATION):
            items[key] = item_for(key)
    for target in targets:
        try:
            names = parse_formula(target.formula).names_in_order
        except FormulaError:
            continue  # the engine reports the broken formula on the target's page
        for name in names:
            if name == STATIONS_IN_SERVICE:
                continue  # counted from the station register
            item = items.setdefault(name, item_for(name))
            if target not in item.used_by:
                item.used_by.append(target)
    first = [*FIRE_ITEMS, POPULATION]
    return sorted(
        items.values(),
        key=lambda i: first.index(i.key) if i.key in first else len(first),
    )


@dataclass
class BaseSheet:
    """What is asked for and what is entered, for one region and year."""

    region: Region
    year: int
    plan: Plan | None
    items: list[BaseItem]
    targets: list[Target]
    fire_statistic: FireStatistic | None
    figures: dict[str, BaseFigure]  # key → the row that holds it

    def current(self, item: BaseItem) -> Decimal | None:
        if item.kind == FIRE_STATISTIC:
            value = getattr(self.fire_statistic, item.key, None) if self.fire_statistic else None
            return None if value is None else Decimal(value)
        row = self.figures.get(item.key)
        return row.value if row is not None else None

    def version(self, item: BaseItem) -> int:
        row = self.fire_statistic if item.kind == FIRE_STATISTIC else self.figures.get(item.key)
        return row.version if row is not None else 0

    @property
    def versions(self) -> dict[str, int]:
        return {item.version_token: self.version(item) for item in self.items}

    @property
    def owed(self) -> list[BaseItem]:
        return [item for item in self.items if item.owed]


def load_sheet(
    region: Region, year: int, *, plan: Plan | None = None, standard: bool = True
) -> BaseSheet:
    """The items asked for in ``region`` and ``year`` with their values (three queries)."""
    targets = formula_targets(region, plan=plan)
    items = needed_items(targets, standard=standard)
    keys = [i.key for i in items if i.kind == BASE_FIGURE]
    statistic = FireStatistic.objects.filter(region=region, year=year).first()
    return BaseSheet(
        region, year, plan, items, targets, statistic, _figures(region, year, keys, lock=False)
    )


def _figures(region: Region, year: int, keys: list[str], *, lock: bool) -> dict[str, BaseFigure]:
    """The base figures holding ``keys``: the row with that key, else a row without a key
    named as the key's known name (entered before it had a key)."""
    if not keys:
        return {}
    names = {item_for(key).label: key for key in keys}
    rows = BaseFigure.objects.filter(region=region, year=year).filter(
        Q(key__in=keys) | Q(key="", name__in=list(names))
    )
    if lock:
        rows = rows.select_for_update()
    rows = list(rows.order_by("pk"))
    found: dict[str, BaseFigure] = {row.key: row for row in rows if row.key}
    for row in rows:
        key = names.get(row.name)
        if not row.key and key is not None and key not in found:
            found[key] = row
    return found


def owed_items(actor, region: Region, year: int, *, plan: Plan) -> BaseSheet | None:
    """The bases ``actor`` enters for ``plan`` in ``region`` and ``year`` — only what the
    plan's formulas read there (the workbook's 基础数据 sheet); None when there is nothing or
    the actor may not enter figures for the region."""
    if not may_enter(actor, region):
        return None
    sheet = load_sheet(region, year, plan=plan, standard=False)
    return sheet if sheet.items else None


# ------------------------------------------------------------------------------ who enters


def may_enter(actor, region: Region) -> bool:
    """Liaisons and staff enter the figures of the regions in their scope."""
    if not (can(actor, REPORT) or can(actor, CHANGE)):
        return False
    return scope_of(actor).covers(region)


def check_may_enter(actor, region: Region) -> None:
    if not can(actor, CHANGE):
        require(actor, REPORT)  # the role cannot enter anything: PermissionDenied (403)
    if not may_enter(actor, region):
        raise NotAllowed(
            "out_of_scope", _("%(region)s不在您的填报范围内") % {"region": region.name}
        )


@dataclass
class Enterers:
    """Who should enter a region's bases: its liaisons, and committee staff of the region or
    of the plan's region."""

    region_name: str
    plan_region_name: str
    liaisons: list[str] = field(default_factory=list)
    staff: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        return who_enters_text(
            self.region_name, self.plan_region_name, liaisons=self.liaisons, staff=self.staff
        )


def who_enters_text(
    region_name: str, plan_region_name: str, *, liaisons: Iterable[str] = (), staff=()
) -> str:
    liaisons, staff = "、".join(liaisons), "、".join(staff)
    return _("由%(region)s的联络员%(liaisons)s或%(office)s委员会办公室工作人员%(staff)s录入") % {
        "region": region_name,
        "liaisons": f"（{liaisons}）" if liaisons else "",
        "office": plan_region_name or region_name,
        "staff": f"（{staff}）" if staff else "",
    }


def who_enters(region: Region, plan: Plan | None = None) -> Enterers:
    """The people by name (one query)."""
    plan_region_id = plan.region_id if plan is not None else region.pk
    plan_region_name = plan.region.name if plan is not None else region.name
    profiles = (
        Profile.objects.filter(user__is_active=True)
        .filter(
            Q(role=Role.LIAISON, region_id=region.pk)
            | Q(role=Role.STAFF, region_id__in={region.pk, plan_region_id})
        )
        .select_related("user")
        .order_by("role", "user__username")
    )
    found = Enterers(region.name, plan_region_name)
    for profile in profiles:
        user = profile.user
        name = user.get_full_name() or user.get_username()
        (found.liaisons if profile.role == Role.LIAISON else found.staff).append(name)
    return found


# ------------------------------------------------------------------------------ numbers


class NotANumber(ValueError):
    pass


def parse_number(raw, item: BaseItem, *, number_format: str | None = None) -> Decimal | None:
    """A figure as typed, read by the shared parser (core.numbers: full-width digits,
    thousands separators, 万/亿, blank or “—” for none; 1,5 refused); then the rules of a base:
    not negative, whole for counts. Refused with ``NotANumber`` saying what is expected."""
    expected = _expected(item)
    try:
        value = parse_number_as_typed(
            raw, measure_unit=item.measure_unit, number_format=number_format, expected=expected
        )
    except NumberError as error:
        raise NotANumber(error.message) from None
    if value is None:
        return None
    if value < 0:
        raise NotANumber(_("不能为负数，应填写%(expected)s") % {"expected": expected})
    if item.whole and value != value.to_integral_value():
        raise NotANumber(
            _("计量单位为“%(unit)s”，应填写整数") % {"unit": item.measure_unit or _("人")}
        )
    return value


def _expected(item: BaseItem) -> str:
    if item.whole:
        return _("不小于 0 的整数（单位：%(unit)s）") % {"unit": item.measure_unit}
    return _("不小于 0 的数字（单位：%(unit)s）") % {"unit": item.measure_unit or _("无")}


# ------------------------------------------------------------------------------ writing


@dataclass
class SavedBases:
    fire_statistic: FireStatistic | None
    figures: dict[str, BaseFigure]  # key → the row written or kept
    changed: list[str]  # the keys whose value changed, in the order given

    @property
    def written(self) -> bool:
        return bool(self.changed)


def _check_year(year: int) -> None:
    last = timezone.localdate().year
    if not FIRST_YEAR <= year <= last:
        raise InvalidInput(
            {
                "year": [
                    _("年度应在 %(first)s 至 %(last)s 之间") % {"first": FIRST_YEAR, "last": last}
                ]
            },
            {"year": _("年度")},
        )


def _items(values: Mapping[str, object], errors: dict) -> dict[str, BaseItem]:
    items = {}
    for raw_key in values:
        key = normalize_name(str(raw_key))
        if key == STATIONS_IN_SERVICE:
            errors.setdefault(raw_key, []).append(_("在役消防站数由消防站台账计算，无需录入"))
        elif key in FIRE_ITEMS or is_variable_name(key):
            items[raw_key] = item_for(key)
        else:
            errors.setdefault(raw_key, []).append(
                _("公式变量名只能由英文字母、数字、下划线或汉字组成，且不以数字开头")
            )
    return items


@transaction.atomic
def save_base_figures(
    region: Region,
    year: int,
    *,
    actor,
    values: Mapping[str, object],
    reason: str = "",
    versions: Mapping[str, int | None] | None = None,
    names: Mapping[str, str] | None = None,
    source_text: str = "",
) -> SavedBases:
    """Enter or correct the figures of ``region`` and ``year``: ``values`` maps fire statistic
    fields (``deaths`` …) and base figure keys (``population``, ``城镇非私营单位在岗职工平均工资``
    …) to the numbers as typed; blank or “—” means none (a fire statistic is cleared, a base
    figure cannot be: it is corrected). Nothing is written unless every value is right
    (``InvalidInput`` maps each wrong key to its messages).

    ``versions`` maps ``FIRE_VERSION`` and base keys to the version the user saw (0: nothing
    was entered); a row changed since → ``StaleEdit``. ``reason`` is kept in every history
    row written; it is required to change a value already entered. ``names`` names new base
    figures (default: ``KNOWN_BASES`` or the key)."""
    check_may_enter(actor, region)
    _check_year(year)
    errors: dict[str | None, list[str]] = {}
    items = _items(values, errors)
    numbers: dict[str, Decimal | None] = {}
    for raw_key, item in items.items():
        try:
            numbers[item.key] = parse_number(values[raw_key], item)
        except NotANumber as error:
            errors.setdefault(raw_key, []).append(str(error))
    reason = (reason or "").strip()
    if len(reason) > REASON_LIMIT:
        errors.setdefault("reason", []).append(
            _("理由最多 %(limit)s 个字") % {"limit": REASON_LIMIT}
        )
    labels = {raw: item.title for raw, item in items.items()} | {"reason": _("理由")}
    if errors:
        raise InvalidInput(errors, labels)
    by_key = {item.key: item for item in items.values()}
    fire_keys = [key for key, item in by_key.items() if item.kind == FIRE_STATISTIC]
    base_keys = [key for key, item in by_key.items() if item.kind == BASE_FIGURE]

    statistic = (
        FireStatistic.objects.select_for_update().filter(region=region, year=year).first()
        if fire_keys
        else None
    )
    figures = _figures(region, year, base_keys, lock=True)
    _check_versions(versions, fire_keys, statistic, base_keys, figures)

    changed: list[str] = []
    corrected: list[str] = []  # keys whose entered value changes (a reason is required)
    for key in fire_keys:
        current = getattr(statistic, key, None) if statistic else None
        new = numbers[key]
        if (None if current is None else Decimal(current)) != new:
            changed.append(key)
            if current is not None:
                corrected.append(key)
    for key in base_keys:
        row, new = figures.get(key), numbers[key]
        if row is None and new is None:
            continue
        if new is None:
            errors.setdefault(_raw(items, key), []).append(
                _("已录入的数值不能清空，如有误请填写更正后的数值")
            )
        elif row is None or row.value != new or row.key != key:
            changed.append(key)
            if row is not None and row.value != new:
                corrected.append(key)
    if corrected and not reason:
        errors.setdefault("reason", []).append(_("修改已录入的数值时请填写理由"))
    if errors:
        raise InvalidInput(errors, labels)

    if any(key in changed for key in fire_keys):
        statistic = _write_statistic(
            statistic, region, year, {k: numbers[k] for k in fire_keys if k in changed},
            actor=actor, reason=reason, source_text=source_text,
        )  # fmt: skip
    for key in base_keys:
        if key in changed:
            figures[key] = _write_figure(
                figures.get(key), region, year, key, numbers[key],
                name=(names or {}).get(key), actor=actor, reason=reason, source_text=source_text,
            )  # fmt: skip
    return SavedBases(statistic, figures, changed)


def _raw(items: Mapping[str, BaseItem], key: str) -> str:
    return next((raw for raw, item in items.items() if item.key == key), key)


def _check_versions(versions, fire_keys, statistic, base_keys, figures) -> None:
    if versions is None:
        return
    seen = {normalize_name(str(token)): version for token, version in versions.items()}
    checks = [(FIRE_VERSION, statistic)] if fire_keys else []
    checks += [(key, figures.get(key)) for key in base_keys]
    for token, row in checks:
        version = seen.get(token)
        if version is None:
            continue
        if row is None and version:
            raise ServiceError("stale_edit", _("该记录已不存在，请刷新后重试"))
        if row is not None and row.version != version:
            raise StaleEdit(row)


def _default_reason(created: bool) -> str:
    return _("录入") if created else _("补录")


def _write_statistic(statistic, region, year, numbers, *, actor, reason, source_text):
    stored = {
        key: (None if v is None else int(v) if FIRE_ITEMS[key][2] else v)
        for key, v in numbers.items()
    }
    if statistic is None:
        statistic = FireStatistic(region=region, year=year, source_text=source_text, version=1)
        for key, value in stored.items():
            setattr(statistic, key, value)
        validate(statistic)
        statistic._history_user = actor
        statistic._change_reason = reason or _default_reason(True)
        statistic.save()
        return statistic
    for key, value in stored.items():
        setattr(statistic, key, value)
    validate(statistic)
    save_versioned(statistic, list(stored), actor=actor, reason=reason or _default_reason(False))
    return statistic


def _write_figure(row, region, year, key, value, *, name, actor, reason, source_text):
    if row is None:
        label, unit = KNOWN_BASES.get(key, (key, ""))
        row = BaseFigure(
            region=region, year=year, key=key, name=(name or label)[:128], value=value,
            measure_unit=unit, source_text=source_text, version=1,
        )  # fmt: skip
        validate(row)
        row._history_user = actor
        row._change_reason = reason or _default_reason(True)
        row.save()
        return row
    fields = ["value"] if row.key == key else ["value", "key"]
    row.value, row.key = value, key
    validate(row)
    save_versioned(row, fields, actor=actor, reason=reason or _default_reason(False))
    return row


# ------------------------------------------------------------------------------ history


@dataclass
class BaseHistoryEntry:
    when: datetime.datetime
    who: str
    action: str
    what: str
    reason: str


def history_of(region: Region, year: int, limit: int = 50) -> list[BaseHistoryEntry]:
    """The history rows of the region's fire statistics and base figures of the year, newest
    first (two queries)."""
    entries = []
    actions = {"+": _("录入"), "~": _("修改"), "-": _("删除")}
    statistics = (
        FireStatistic.history.filter(region_id=region.pk, year=year)
        .select_related("history_user")
        .order_by("-history_date")[:limit]
    )
    for record in statistics:
        parts = [
            f"{label} {_plain(getattr(record, key))}{unit}"
            for key, (label, unit, _whole) in FIRE_ITEMS.items()
        ]
        entries.append(_entry(record, actions, "；".join(parts)))
    figures = (
        BaseFigure.history.filter(region_id=region.pk, year=year)
        .select_related("history_user")
        .order_by("-history_date")[:limit]
    )
    for record in figures:
        entries.append(
            _entry(record, actions, f"{record.name} {_plain(record.value)}{record.measure_unit}")
        )
    entries.sort(key=lambda e: e.when, reverse=True)
    return entries[:limit]


def _plain(value) -> str:
    if value is None:
        return "—"
    if isinstance(value, Decimal):
        return f"{value.normalize():f}"
    return str(value)


def _entry(record, actions, what: str) -> BaseHistoryEntry:
    user = record.history_user
    return BaseHistoryEntry(
        when=timezone.localtime(record.history_date),
        who=(user.get_full_name() or user.username) if user else _("系统"),
        action=actions.get(record.history_type, record.history_type),
        what=what,
        reason=record.history_change_reason or "",
    )
