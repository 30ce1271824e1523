"""The status engine: where a target stands at a date, the way a committee office judges it.

``load_status_inputs(targets)`` fetches everything once (a fixed number of queries, whatever
the number of targets, regions and periods); ``compute_status(target, inputs, on=date)`` is
pure Python and never queries. Pages, API, exports and ``plan_status`` all call these two.
The pace behind a status is exported too, for the assessment and the figures template:
``pace_ratio`` (progress ÷ expected progress) and ``year_plan`` (the value planned for a year).

Reported figures come from the roll-ups (``ReportRollup``, ``targets/rollup_store.py``): per
target, period and region the region's own approved figure and the sum of its children's
figures, kept in the same transaction as each approval — a few rows per target and region
read, instead of every raw figure of the subtree (issue 9: ≈ 11 million at national scale).
``load_status_inputs(..., source="raw")`` reads the raw approved reports instead and applies
the same rule in Python; the tests compare both ways, and SQLite (development) uses it.

Definitions (DESIGN §4, made exact here):

target value and year
    those in force on the date judged (``value_in_force``): the latest adjustment (指标调整,
    ``TargetAdjustment``) adopted on or before the date, else the target's own value and year,
    which stay those of the plan as issued. An allocation is judged against its share, with the
    target's year in force (adjustments change the target's value, not the shares).

actual
    reports feed — approved figures of periods that have begun by the date. Increments (新增)
    sum them; levels, ratios and rates take the latest. A region's figure for a period is its
    own figure when it has one, otherwise the sum of its children's figures, each of which is
    again own-else-children (``effective_figure``; a city and its county both reporting count
    once; increments and levels only: ratios are never summed). A target with a baseline also
    reports ``level`` (baseline + increments) or ``increment`` (level − baseline).
    formula feed — ``targets.formulas`` over fire statistics, base figures and the register,
    per completed year; ``avg(...)`` averages the years. A missing input is reported, not guessed.
    station_register feed — new stations built or in service, completed between the plan's
    start and the date, in the target's region and below.
expected (序时进度)
    with valued milestones: the cumulative schedule due by the date (20/30/40/50/50 reads as
    20/50/90/140/190 at each year end), plus the baseline for levels. Otherwise linear by whole
    years from the plan's start to the target year ("时间过半、任务过半"): at the end of year k
    of n, k/n of the way from the baseline (or 0) to the target. Plans report by year, so pace
    steps at year ends rather than accruing daily. No pace for ceilings (≤) and for levels or
    ratios without a baseline.
completion
    ≥ and =: actual ÷ target. ≤: 1 while the bound holds, else target ÷ actual (``margin`` =
    target − actual). reduce_by / increase_by: the change from the baseline, in percent of the
    baseline, ÷ the stated change. Uncapped; ``completion_display`` caps it to 0–1.
status, in this order (first that applies)
    not_due   the date is before the plan starts;
    no_data   no figure although a period is due (not_due while no period is due yet);
    met       the target's condition holds now (≥ reached, ≤ kept, change achieved);
    critical  past the end of the target year and unmet;
    no_data   the latest completed year has no figure (reports feed; a stale figure);
    not_due   no pace to compare with (see expected);
    on_track  progress ÷ expected progress ≥ ``lagging_below`` (default 100 %);
    lagging   ≥ ``critical_below`` (default 80 %);
    critical  below that.
    Progress is measured from the baseline. Tolerances come from ``settings.STATUS_RULES``.
    Binding (约束性) targets that lag or are critical are flagged ``escalate``.
finished plan (终期判断)
    once the plan's end date has passed (``plan_finished``: the date is after 31 December of
    its end year), and the target year in force with it, a target is judged as finished, with
    no pace and no projection: met (已完成) when its condition holds, unmet (未完成) when it
    does not, no_data when nothing was reported. ``verdict`` says it in words:
    「未完成（差 5 个，完成 97.4%）」.
projection (趋势判断)
    the straight line from the plan's start (baseline, or 0 for increments; the first figure for
    levels without a baseline) through the latest figure, extended to the end of the target
    year; ``projection_meets`` says whether that value would meet the target.
"""

from __future__ import annotations

import datetime
from collections import defaultdict, namedtuple
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db.models import (
    BooleanField,
    CharField,
    DateField,
    DecimalField,
    F,
    Field,
    IntegerField,
    Q,
    QuerySet,
    Value,
    Window,
)
from django.db.models.expressions import RawSQL
from django.db.models.functions import RowNumber
from django.utils import timezone
from django.utils.translation import gettext as _

from core.models import Region
from core.periods import period_bounds
from core.regions import RegionTree
from planning.models import Plan
from stations.choices import BuildType, StationStatus
from stations.models import Station
from targets import rollup_store
from targets.choices import Comparator, Feed, Measure, MilestoneState, ProgressStatus, ReportStatus
from targets.formulas import (
    FIRE_STATISTIC_FIELDS,
    STATIONS_IN_SERVICE,
    FormulaError,
    MissingInput,
    is_base_figure_name,
    parse_formula,
)
from targets.models import (
    Allocation,
    BaseFigure,
    FireStatistic,
    Milestone,
    ProgressReport,
    ReportRollup,
    Target,
    TargetAdjustment,
)

ZERO = Decimal(0)
ONE = Decimal(1)
HUNDRED = Decimal(100)
SUMMABLE = {Measure.INCREMENT, Measure.LEVEL}
LIGHTS = {
    ProgressStatus.MET: "green",
    ProgressStatus.ON_TRACK: "green",
    ProgressStatus.LAGGING: "yellow",
    ProgressStatus.CRITICAL: "red",
    ProgressStatus.UNMET: "red",
    ProgressStatus.NO_DATA: "grey",
    ProgressStatus.NOT_DUE: "grey",
}
ESCALATED = {ProgressStatus.LAGGING, ProgressStatus.CRITICAL}


@dataclass(frozen=True)
class StatusRules:
    lagging_below: Decimal = Decimal("1.0")
    critical_below: Decimal = Decimal("0.8")
    base_figure_max_age_years: int = 2

    @classmethod
    def from_settings(cls) -> StatusRules:
        configured = getattr(settings, "STATUS_RULES", {})
        return cls(
            lagging_below=Decimal(str(configured.get("lagging_below", "1.0"))),
            critical_below=Decimal(str(configured.get("critical_below", "0.8"))),
            base_figure_max_age_years=int(configured.get("base_figure_max_age_years", 2)),
        )


@dataclass(frozen=True)
class Figure:
    period: str
    region_id: int
    value: Decimal
    starts_on: datetime.date
    ends_on: datetime.date
    is_demo: bool = False


@dataclass(frozen=True)
class StationRow:
    region_id: int
    status: str
    build_type: str
    completed_year: int | None


@dataclass
class StatusInputs:
    """Everything the engine reads, fetched once for a set of targets."""

    plans: dict[int, Plan]
    figures: dict[int, list[Figure]]  # raw approved figures (source "raw")
    milestones: dict[int, list[Milestone]]
    allocations: dict[int, list[Allocation]]
    regions: RegionTree
    fire_statistics: dict[tuple[int, int], FireStatistic]
    base_figures: dict[tuple[str, int], dict[int, Decimal]]
    stations: list[StationRow]
    # source "rollups": target → region → the region's figures, one per period with a figure
    # (own, else the sum below; ``Figure.value`` is own, ``RegionFigure.below`` the sum)
    rollups: dict[int, dict[int, list[RegionFigure]]] | None = None
    # target → start dates of the periods holding a demo figure (anywhere in the tree)
    demo_starts: dict[int, list[datetime.date]] = field(default_factory=dict)
    # target → its adjustments in the order they took effect (``value_in_force``)
    adjustments: dict[int, list[TargetAdjustment]] = field(default_factory=dict)


@dataclass(frozen=True)
class RegionFigure:
    """A roll-up row as the engine reads it: the region's own figure and the sum below."""

    period: str
    own: Decimal | None
    below: Decimal | None  # None when no approved figure lies below the region
    starts_on: datetime.date
    ends_on: datetime.date


@dataclass(frozen=True)
class MissingValue:
    """A value a formula needs that is not entered: a base figure (``kind`` "base_figure",
    ``name`` its key) or a fire statistic ("fire_statistic", ``name`` its field) of a region
    and year — what the base-figures page (targets.bases) asks for."""

    kind: str
    name: str
    year: int
    region_id: int

    def as_dict(self) -> dict:
        return {"kind": self.kind, "name": self.name, "year": self.year, "region": self.region_id}


@dataclass
class TargetProgress:
    target_id: int
    region_id: int
    on: datetime.date
    feed: str
    target_value: Decimal | None  # in force on ``on`` (or the allocation's share)
    actual: Decimal | None = None
    level: Decimal | None = None
    increment: Decimal | None = None
    expected: Decimal | None = None
    completion: Decimal | None = None
    margin: Decimal | None = None
    status: str = ProgressStatus.NOT_DUE
    escalate: bool = False
    projection: Decimal | None = None
    projection_meets: bool | None = None
    series: list[tuple[str, Decimal]] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    # the base figures and fire statistics behind ``missing`` (formula feed)
    missing_inputs: list[MissingValue] = field(default_factory=list)
    is_demo: bool = False
    source: str = ""
    target_year: int | None = None  # in force on ``on`` (the plan's end year when unstated)
    original_value: Decimal | None = None  # as the plan was issued (or the allocation's share)
    adjustment: TargetAdjustment | None = None  # the adjustment in force, None: the original
    finished: bool = False  # the plan's end date has passed: judged as finished
    measure_unit: str = ""  # the target's unit, for ``verdict``

    @property
    def shortfall(self) -> Decimal | None:
        """How far an unmet target is from its goal, in its own unit (None when met or unknown).
        For a ceiling (≤) it is the excess above the bound."""
        if self.status != ProgressStatus.UNMET or self.margin is None:
            return None
        return abs(self.margin)

    @property
    def verdict(self) -> str:
        """The finished plan's judgement in words (the status label while a plan runs)."""
        if self.status != ProgressStatus.UNMET:
            return str(self.status_label)
        parts = []
        # "差 5 个", "差 2.5%": a space before a word unit, none before a percent sign.
        unit = self.measure_unit if self.measure_unit in ("%", "‰") else f" {self.measure_unit}"
        unit = unit.rstrip()
        amount = plain_number(self.shortfall or ZERO)
        if self.shortfall is not None:
            parts.append(
                _("差 %(amount)s%(unit)s") % {"amount": amount, "unit": unit}
                if self.margin >= 0
                else _("超出 %(amount)s%(unit)s") % {"amount": amount, "unit": unit}
            )
        if self.completion is not None:
            parts.append(
                _("完成 %(percent)s%%") % {"percent": plain_number(self.completion * HUNDRED, 1)}
            )
        if not parts:
            return str(self.status_label)
        return _("未完成（%(detail)s）") % {"detail": "，".join(parts)}

    @property
    def completion_display(self) -> Decimal | None:
        if self.completion is None:
            return None
        return min(max(self.completion, ZERO), ONE)

    @property
    def light(self) -> str:
        return LIGHTS[self.status]

    @property
    def status_label(self) -> str:
        return ProgressStatus(self.status).label

    def as_dict(self) -> dict:
        """Plain data for JSON (API, plan_status --format json); decimals stay decimals."""
        return {
            "on": self.on.isoformat(),
            "feed": self.feed,
            "source": self.source,
            "target_value": self.target_value,
            "original_value": self.original_value,
            "target_year": self.target_year,
            "adjustment": (
                None
                if self.adjustment is None
                else {
                    "id": self.adjustment.pk,
                    "doc_number": self.adjustment.doc_number,
                    "adopted_on": self.adjustment.adopted_on.isoformat(),
                }
            ),
            "actual": self.actual,
            "level": self.level,
            "increment": self.increment,
            "expected": self.expected,
            "completion": self.completion,
            "completion_display": self.completion_display,
            "margin": self.margin,
            "status": self.status,
            "status_label": str(self.status_label),
            "escalate": self.escalate,
            "finished": self.finished,
            "verdict": self.verdict,
            "projection": self.projection,
            "projection_meets": self.projection_meets,
            "series": [{"period": label, "value": value} for label, value in self.series],
            "missing": self.missing,
            "missing_inputs": [item.as_dict() for item in self.missing_inputs],
            "is_demo": self.is_demo,
        }


# ------------------------------------------------------------------------------ loading


class _LazyRegionTree(RegionTree):
    """The region tree, read (one query) the first time something looks at it, unless the
    status query brought it along (station counts need it). The roll-ups judge without it;
    the raw figures and callers' look-ups (``inputs.regions.names``) load it."""

    def __init__(self) -> None:  # no fields yet: ``__getattr__`` fills them on first use
        pass

    def fill(self, rows: Iterable[tuple[int, int | None, str]]) -> None:
        """(pk, parent_id, name) in the regions' order, as ``RegionTree.load`` reads them."""
        tree = RegionTree()
        for pk, parent_id, name in rows:
            tree.parent[pk] = parent_id
            tree.names[pk] = name
            if parent_id is not None:
                tree.children[parent_id].append(pk)
        self.parent, self.children, self.names = tree.parent, tree.children, tree.names

    def __getattr__(self, name: str):
        if name not in ("parent", "children", "names"):
            raise AttributeError(name)
        self.fill(Region.objects.values_list("pk", "parent_id", "name"))
        return getattr(self, name)


def effective_figure(
    region_id: int, reported: dict[int, Any], children: dict[int, list[int]]
) -> Decimal | None:
    """A region's figure for one period: its own (``reported[region].value``), else the sum of
    its children's figures, each again own-else-children; None when nothing below reported.
    Never the sum of every figure below: a city and its county both reporting count once."""
    values: dict[int, Decimal | None] = {}
    stack, seen = [(region_id, False)], {region_id}
    while stack:  # post-order without recursion: deep trees stay within the stack limit
        current, expanded = stack.pop()
        if current in reported:
            values[current] = reported[current].value
        elif not expanded:
            stack.append((current, True))
            kids = [kid for kid in children.get(current, ()) if kid not in seen]
            seen.update(kids)  # a (forbidden) cycle in the tree ends here
            stack.extend((kid, False) for kid in kids)
        else:
            parts = [v for kid in children.get(current, ()) if (v := values.get(kid)) is not None]
            values[current] = sum(parts, ZERO) if parts else None
    return values[region_id]


def load_status_inputs(
    targets: Iterable[Target],
    *,
    source: str = "auto",
    regions: Iterable[int] = (),
    allocation_regions: Iterable[int] | None = None,
) -> StatusInputs:
    """Fetch what the engine needs for these targets in a fixed number of queries, whatever
    their number — at most 4, and only those the targets need (issue 9: for a list page,
    whose targets come with their plans and milestones and judge no allocation, one):

    - plans: none when every target comes with its plan (``select_related("plan")``);
    - milestones: none when every target comes with them (``prefetch_related("milestones")``,
      all of them: a filtered prefetch would hide milestones from the schedule);
    - allocations: none for ``allocation_regions=()`` (below);
    - the status query, always one, a UNION ALL (``_load_status_rows``): the figures (roll-up
      rows, or the raw approved reports), the targets' adjustments, and what formula and
      station-register targets
      read — fire statistics and base figures of the judged regions (the targets', their
      loaded allocations' and ``regions``), the stations in and below them — with the region
      tree when stations are counted or raw figures summed.
    Otherwise the region tree (``inputs.regions``) is read when a caller first looks at it
    (names for a page); ``compute_status`` never needs it, so it never queries.

    ``source``: "rollups" reads the roll-up rows of the targets' regions and allocations (and
    of the tree's roots, for the demo flag), and of ``regions`` when a caller judges other
    regions (``compute_status(region_id=…)``); "raw" reads every approved report; "auto" is
    rollups on PostgreSQL, raw elsewhere (the roll-ups are kept by PostgreSQL triggers).

    ``allocation_regions``: only the allocations to these regions (and their roll-ups) are
    loaded — ``()`` for none, when only the targets themselves are judged (the overview: at
    national scale a target is allocated to thousands of counties); None loads them all."""
    if source == "auto":
        source = "rollups" if rollup_store.supported() else "raw"
    if source not in ("rollups", "raw"):
        raise ValueError(f"unknown source {source!r}")
    targets = list(targets)
    ids = [t.pk for t in targets]
    extra_regions = set(regions)
    plans = {t.plan_id: t.plan for t in targets if Target.plan.is_cached(t)}
    missing_plans = {t.plan_id for t in targets} - set(plans)
    if missing_plans:
        plans |= {p.pk: p for p in Plan.objects.filter(pk__in=missing_plans)}

    milestones: dict[int, list[Milestone]] = defaultdict(list)
    if targets and all("milestones" in _prefetched(t) for t in targets):
        for target in targets:
            rows = sorted(
                (m for m in _prefetched(target)["milestones"] if m.retired_on is None),
                key=lambda m: (m.due_on, m.order),
            )
            if rows:
                milestones[target.pk] = rows
    else:
        live = Milestone.objects.filter(target_id__in=ids, retired_on__isnull=True)
        for milestone in live.order_by("due_on", "order"):
            milestones[milestone.target_id].append(milestone)

    allocations: dict[int, list[Allocation]] = defaultdict(list)
    # Retired (停用) milestones and allocations are not judged (targets.retire).
    allocation_rows = Allocation.objects.filter(target_id__in=ids, retired_on__isnull=True)
    if allocation_regions is not None:
        allocation_rows = allocation_rows.filter(region_id__in=list(allocation_regions))
    for allocation in allocation_rows:  # an empty region list runs no query
        allocations[allocation.target_id].append(allocation)

    # Each target's judged regions: its own, its allocations', the caller's.
    wanted: dict[int, set[int]] = {
        t.pk: {t.region_id, *extra_regions, *(a.region_id for a in allocations.get(t.pk, []))}
        for t in targets
    }
    loaded = _load_status_rows(targets, wanted, source=source)
    return StatusInputs(
        plans=plans,
        figures=loaded.figures,
        milestones=milestones,
        allocations=allocations,
        regions=loaded.tree,
        fire_statistics=loaded.fire_statistics,
        base_figures=loaded.base_figures,
        stations=loaded.stations,
        rollups=loaded.rollups if source == "rollups" else None,
        demo_starts=loaded.demo_starts,
        adjustments=loaded.adjustments,
    )


def _prefetched(instance) -> dict:
    return getattr(instance, "_prefetched_objects_cache", {})


# The status query's rows: one layout for every kind (a UNION ALL needs one); each kind fills
# its own columns, typed NULL elsewhere (PostgreSQL types an untyped NULL column as text).
_TEXT, _INTEGER, _NUMBER, _BOOLEAN, _DATE = (
    (CharField(), "text"),
    (IntegerField(), "integer"),
    (DecimalField(), "numeric"),
    (BooleanField(), "boolean"),
    (DateField(), "date"),
)
_LAYOUT: dict[str, tuple[Field, str]] = {
    "kind": _TEXT,
    "target_id": _INTEGER,
    "region_id": _INTEGER,
    "parent_id": _INTEGER,
    "period": _TEXT,
    "own_value": _NUMBER,
    "below_value": _NUMBER,
    "demo_count": _INTEGER,
    "year": _INTEGER,
    "fires": _INTEGER,
    "deaths": _INTEGER,
    "injuries": _INTEGER,
    "direct_loss_10k_yuan": _NUMBER,
    "key": _TEXT,
    "value": _NUMBER,
    "status": _TEXT,
    "build_type": _TEXT,
    "completed_year": _INTEGER,
    "name": _TEXT,
    "is_demo": _BOOLEAN,
    "adopted_on": _DATE,
    "record_id": _INTEGER,
    "position": _INTEGER,  # the rows' order where it decides (regions, base figures)
}
_StatusRow = namedtuple("_StatusRow", list(_LAYOUT))
_REPORT, _ROLLUP, _FIRE_STATISTIC, _BASE_FIGURE, _STATION, _REGION, _ADJUSTMENT = (
    "report", "rollup", "fire_statistic", "base_figure", "station", "region", "adjustment",
)  # fmt: skip


# The decimal columns read (figures, roll-ups, base figures, fire losses) all have 4 places
# (targets.models); PostgreSQL returns them so, SQLite only in a UNION's first branch.
_SCALE = Decimal(1).scaleb(-ProgressReport._meta.get_field("value").decimal_places)
_DECIMAL_COLUMNS = [i for i, (output, _) in enumerate(_LAYOUT.values()) if output is _NUMBER[0]]


def _status_row(values: tuple) -> _StatusRow:
    values = list(values)
    for i in _DECIMAL_COLUMNS:
        if values[i] is not None:
            values[i] = Decimal(values[i]).quantize(_SCALE)
    return _StatusRow(*values)


def _in_layout(queryset: QuerySet, kind: str, *fields: str, **columns) -> QuerySet:
    """The queryset's rows in the shared layout: ``fields`` fill the columns of their name,
    ``columns`` others (a field path or an expression); the rest are NULL."""
    filled = {name: F(name) for name in fields} | {
        name: F(source) if isinstance(source, str) else source for name, source in columns.items()
    }
    annotations = {
        f"status_{name}": (
            filled[name] if name in filled else RawSQL(f"CAST(NULL AS {sql_type})", (), output)
        )
        for name, (output, sql_type) in _LAYOUT.items()
    }
    annotations["status_kind"] = Value(kind, output_field=CharField())
    return queryset.order_by().annotate(**annotations).values_list(*annotations)


def _position(*ordering: str) -> Window:
    return Window(RowNumber(), order_by=[F(name).asc() for name in ordering])


def _in_and_below(region_ids: set[int]) -> RawSQL:
    """The regions and every region below them, as a sub-select (a recursive CTE)."""
    table = Region._meta.db_table
    pk, parent = Region._meta.pk.column, Region._meta.get_field("parent").column
    marks = ", ".join(["%s"] * len(region_ids))
    return RawSQL(
        f'WITH RECURSIVE below(id) AS (SELECT "{pk}" FROM "{table}" WHERE "{pk}" IN ({marks}) '
        f'UNION SELECT r."{pk}" FROM "{table}" r JOIN below ON r."{parent}" = below.id) '
        "SELECT id FROM below",
        sorted(region_ids),
    )


@dataclass
class _Loaded:
    tree: _LazyRegionTree = field(default_factory=_LazyRegionTree)
    figures: dict[int, list[Figure]] = field(default_factory=lambda: defaultdict(list))
    rollups: dict[int, dict[int, list[RegionFigure]]] = field(
        default_factory=lambda: defaultdict(lambda: defaultdict(list))
    )
    demo_starts: dict[int, list[datetime.date]] = field(default_factory=lambda: defaultdict(list))
    fire_statistics: dict[tuple[int, int], FireStatistic] = field(default_factory=dict)
    base_figures: dict[tuple[str, int], dict[int, Decimal]] = field(
        default_factory=lambda: defaultdict(dict)
    )
    stations: list[StationRow] = field(default_factory=list)
    adjustments: dict[int, list[TargetAdjustment]] = field(
        default_factory=lambda: defaultdict(list)
    )


def _load_status_rows(
    targets: list[Target], wanted: dict[int, set[int]], *, source: str
) -> _Loaded:
    """One query (none without targets): the approved raw figures (source "raw"), or the
    roll-up rows of the regions the engine judges and of the tree's roots (regions without a
    parent, read in the same query: their demo count covers the whole target, so no tree is
    needed); what the formula and station-register targets read (``_external_inputs``); the
    region tree when stations are counted or raw figures summed; the targets' adjustments
    (指标调整: what ``value_in_force`` reads). Each kind of row is a branch of one UNION ALL in
    the shared ``_LAYOUT``."""
    judged = set().union(*wanted.values())
    needs = _external_inputs(targets)
    branches = []
    if source == "raw" and targets:
        approved = ProgressReport.objects.filter(
            target_id__in=list(wanted), status=ReportStatus.APPROVED, value__isnull=False
        )
        branches.append(
            _in_layout(approved, _REPORT, "target_id", "region_id", "period", "value", "is_demo")
        )
    if source == "rollups" and targets:
        rollups = ReportRollup.objects.filter(target_id__in=list(wanted), report_count__gt=0)
        # One IN over a sub-select rather than an OR of two conditions: the OR made PostgreSQL
        # read every roll-up row of the targets (≈ 7× slower at province scale, measured).
        regions = Region.objects.filter(Q(pk__in=judged) | Q(parent__isnull=True))
        rollups = rollups.filter(region_id__in=regions.values("pk"))
        branches.append(
            _in_layout(
                rollups,
                _ROLLUP,
                "target_id",
                "region_id",
                "period",
                "own_value",
                "below_value",
                "demo_count",
                parent_id="region__parent_id",
            )
        )
    if targets:
        adjustments = TargetAdjustment.objects.filter(target_id__in=list(wanted))
        branches.append(
            _in_layout(
                adjustments,
                _ADJUSTMENT,
                "target_id",
                "adopted_on",
                value="new_value",
                year="new_year",
                name="doc_number",
                record_id="pk",
            )
        )
    if needs.fire_statistics:
        statistics = FireStatistic.objects.filter(region_id__in=judged)
        branches.append(
            _in_layout(statistics, _FIRE_STATISTIC, "region_id", "year", *FIRE_STATISTIC_FIELDS)
        )
    if needs.base_figures:
        base_figures = BaseFigure.objects.filter(key__in=needs.base_figures, region_id__in=judged)
        # In BaseFigure's order (its region's, then name and year): the last one counts.
        position = _position("region__level", "region__name", "name", "year")
        branches.append(
            _in_layout(
                base_figures, _BASE_FIGURE, "region_id", "key", "year", "value", position=position
            )
        )
    if needs.stations:
        stations = Station.objects.filter(region_id__in=_in_and_below(judged))
        branches.append(
            _in_layout(stations, _STATION, "region_id", "status", "build_type", "completed_year")
        )
    if needs.stations or (source == "raw" and targets):
        # The tree, to count the stations below each judged region and to sum raw figures
        # below it: the engine then never queries.
        branches.append(
            _in_layout(
                Region.objects.all(),
                _REGION,
                "parent_id",
                "name",
                region_id="pk",
                position=_position("level", "name"),
            )
        )
    loaded = _Loaded()
    if not branches:
        return loaded
    query = branches[0]
    if len(branches) > 1:  # no order: the union would take the first model's Meta.ordering
        query = query.union(*branches[1:], all=True).order_by()
    rows = [_status_row(values) for values in query]
    bounds: dict[str, tuple[datetime.date, datetime.date]] = {}
    tree_rows, base_rows = [], []
    for row in rows:
        if row.kind in (_REPORT, _ROLLUP) and row.period not in bounds:
            bounds[row.period] = period_bounds(row.period)
        if row.kind == _REPORT:
            starts_on, ends_on = bounds[row.period]
            loaded.figures[row.target_id].append(
                Figure(row.period, row.region_id, row.value, starts_on, ends_on, row.is_demo)
            )
        elif row.kind == _ROLLUP:
            starts_on, ends_on = bounds[row.period]
            if row.parent_id is None and row.demo_count:
                loaded.demo_starts[row.target_id].append(starts_on)
            if row.region_id in wanted[row.target_id]:
                loaded.rollups[row.target_id][row.region_id].append(
                    RegionFigure(row.period, row.own_value, row.below_value, starts_on, ends_on)
                )
        elif row.kind == _FIRE_STATISTIC:
            loaded.fire_statistics[(row.region_id, row.year)] = FireStatistic(
                region_id=row.region_id,
                year=row.year,
                **{name: getattr(row, name) for name in FIRE_STATISTIC_FIELDS},
            )
        elif row.kind == _BASE_FIGURE:
            base_rows.append(row)
        elif row.kind == _STATION:
            loaded.stations.append(
                StationRow(row.region_id, row.status, row.build_type, row.completed_year)
            )
        elif row.kind == _ADJUSTMENT:
            adopted_on = row.adopted_on
            if isinstance(adopted_on, str):  # SQLite, outside a union's first branch
                adopted_on = datetime.date.fromisoformat(adopted_on)
            loaded.adjustments[row.target_id].append(
                TargetAdjustment(
                    pk=row.record_id,
                    target_id=row.target_id,
                    new_value=row.value,
                    new_year=row.year,
                    doc_number=row.name,
                    adopted_on=adopted_on,
                )
            )
        else:
            tree_rows.append(row)
    for figures in loaded.figures.values():
        figures.sort(key=lambda f: (f.ends_on, f.starts_on))
    for adjustments in loaded.adjustments.values():
        adjustments.sort(key=_taking_effect)
    for row in sorted(base_rows, key=lambda r: r.position):
        loaded.base_figures[(row.key, row.region_id)][row.year] = row.value
    if tree_rows:
        tree_rows.sort(key=lambda r: r.position)
        loaded.tree.fill((r.region_id, r.parent_id, r.name) for r in tree_rows)
    return loaded


@dataclass(frozen=True)
class _ExternalInputs:
    """What the targets' feeds read besides reports: fire statistics, the base figures'
    keys, the station register."""

    fire_statistics: bool = False
    base_figures: frozenset[str] = frozenset()
    stations: bool = False


def _external_inputs(targets: list[Target]) -> _ExternalInputs:
    fire_statistics, base_figures, stations = False, set(), False
    for target in targets:
        if target.feed == Feed.STATION_REGISTER:
            stations = True
        if target.feed != Feed.FORMULA:
            continue
        try:
            names = parse_formula(target.formula).variables
        except FormulaError:
            continue  # the engine reports it and reads nothing
        fire_statistics |= bool(names & set(FIRE_STATISTIC_FIELDS))
        stations |= STATIONS_IN_SERVICE in names
        base_figures |= {name for name in names if is_base_figure_name(name)}
    return _ExternalInputs(fire_statistics, frozenset(base_figures), stations)


# ------------------------------------------------------------------------------ helpers


def plan_finished(plan: Plan, on: datetime.date) -> bool:
    """The plan's end date (31 December of its end year) has passed on ``on``."""
    return on > year_end(plan.end_year)


def plain_number(value: Decimal, places: int = 4) -> str:
    """A decimal as people write it: 185, 97.4 (no trailing zeros, no exponent)."""
    text = f"{value.quantize(Decimal(1).scaleb(-places)):f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def year_end(year: int) -> datetime.date:
    return datetime.date(year, 12, 31)


def completed_years(start_year: int, on: datetime.date) -> list[int]:
    """Years from start_year whose last day is on or before the date."""
    last = on.year if on >= year_end(on.year) else on.year - 1
    return list(range(start_year, last + 1))


def holds(comparator: str, value: Decimal | None, goal: Decimal | None) -> bool:
    if value is None or goal is None:
        return False
    if comparator == Comparator.LTE:
        return value <= goal
    return value >= goal


def change_percent(comparator: str, baseline: Decimal, value: Decimal) -> Decimal:
    """How far the value moved from the baseline, in percent of it, in the wanted direction."""
    moved = baseline - value if comparator == Comparator.REDUCE_BY else value - baseline
    return moved / baseline * HUNDRED


# ------------------------------------------------------------------------ value in force


@dataclass(frozen=True)
class InForce:
    """A target's value and year in force on a date, and where they come from."""

    value: Decimal | None
    year: int | None  # None: the target states no year (the plan's end year applies)
    original_value: Decimal | None  # as the plan was issued (``Target.target_value``)
    original_year: int | None
    adjustment: TargetAdjustment | None = None  # None: the original is in force

    @property
    def adjusted(self) -> bool:
        return self.adjustment is not None


def _taking_effect(adjustment: TargetAdjustment) -> tuple:
    """The order adjustments take effect in: by adoption date, then as recorded."""
    return (adjustment.adopted_on, adjustment.pk or 0)


def value_in_force(
    target: Target, on: datetime.date, *, inputs: StatusInputs | None = None
) -> InForce:
    """The one rule for "the value in force" (生效的目标值): the latest adjustment adopted on or
    before ``on`` (by adoption date, then as recorded), else the target's own value and year —
    those of the plan as issued, which an adjustment never overwrites.

    With ``inputs`` it reads the adjustments ``load_status_inputs`` loaded and never queries;
    without, it reads the target's adjustments (one query)."""
    if inputs is not None:
        adjustments = inputs.adjustments.get(target.pk, [])
    else:
        adjustments = sorted(target.adjustments.all(), key=_taking_effect)
    current = None
    for adjustment in adjustments:
        if adjustment.adopted_on > on:
            break
        current = adjustment
    if current is None:
        return InForce(target.target_value, target.target_year, *_original(target))
    return InForce(current.new_value, current.new_year, *_original(target), current)


def _original(target: Target) -> tuple[Decimal | None, int | None]:
    return target.target_value, target.target_year


class _Judge:
    """Computes one TargetProgress; split out so each step reads on its own."""

    def __init__(self, target, inputs, on, rules, region_id, target_value):
        self.target = target
        self.inputs = inputs
        self.on = on
        self.rules = rules
        self.plan = inputs.plans[target.plan_id]
        self.region_id = region_id or target.region_id
        self.is_allocation = region_id is not None and region_id != target.region_id
        in_force = value_in_force(target, on, inputs=inputs)
        self.target_year = in_force.year or self.plan.end_year
        self.due_on = year_end(self.target_year)
        self.start_on = datetime.date(self.plan.start_year, 1, 1)
        self.schedule = self._schedule()
        share = target_value is not None  # an allocation's share: not adjusted
        goal = target_value if share else in_force.value
        if goal is None and self.schedule:
            goal = self.schedule[-1][1]  # a schedule without a stated total: its final value
        self.goal = goal
        self.result = TargetProgress(
            target_id=target.pk,
            region_id=self.region_id,
            on=on,
            feed=target.feed,
            target_value=goal,
            target_year=self.target_year,
            measure_unit=target.measure_unit,
            # the goal the plan as issued sets (its schedule's total when it states none)
            original_value=in_force.original_value if in_force.adjusted and not share else goal,
            adjustment=None if share else in_force.adjustment,
        )

    @property
    def baseline(self) -> Decimal | None:
        return None if self.is_allocation else self.target.baseline_value

    # data points: (ends_on, value) in time order ----------------------------------------

    def _report_points(self) -> list[tuple[Figure | RegionFigure, Decimal]]:
        if self.inputs.rollups is not None:
            return self._rollup_points()
        figures = [f for f in self.inputs.figures.get(self.target.pk, []) if f.starts_on <= self.on]
        own = {f.period: f for f in figures if f.region_id == self.region_id}
        points = [(f, f.value) for f in own.values()]
        if self.target.measure in SUMMABLE:
            below = self.inputs.regions.subtree(self.region_id) - {self.region_id}
            by_period: dict[str, dict[int, Figure]] = defaultdict(dict)
            for f in figures:
                if f.region_id in below and f.period not in own:
                    by_period[f.period][f.region_id] = f
            for reported in by_period.values():
                value = effective_figure(self.region_id, reported, self.inputs.regions.children)
                points.append((next(iter(reported.values())), value))
        self.result.is_demo = any(f.is_demo for f in figures)
        points.sort(key=lambda p: (p[0].ends_on, p[0].starts_on))
        return points

    def _rollup_points(self) -> list[tuple[RegionFigure, Decimal]]:
        """The same rule as ``_report_points``, on the roll-ups: own figure, else (increments
        and levels) the sum of the children's figures, each own-else-children again."""
        rows = self.inputs.rollups.get(self.target.pk, {}).get(self.region_id, [])
        summable = self.target.measure in SUMMABLE
        points = []
        for row in rows:
            if row.starts_on > self.on:
                continue
            if row.own is not None:
                points.append((row, row.own))
            elif summable and row.below is not None:
                points.append((row, row.below))
        starts = self.inputs.demo_starts.get(self.target.pk, ())
        self.result.is_demo = any(starts_on <= self.on for starts_on in starts)
        points.sort(key=lambda p: (p[0].ends_on, p[0].starts_on))
        return points

    def _formula_points(self) -> list[tuple[datetime.date, str, Decimal]]:
        try:
            formula = parse_formula(self.target.formula)
        except FormulaError as error:
            self.result.missing.append(str(error))
            return []
        last_year = min(self.target_year, self.on.year)
        years = [y for y in completed_years(self.plan.start_year, self.on) if y <= last_year]
        points = []
        for year in years:
            try:
                value = formula.evaluate(lambda name, year=year: self._variable(name, year))
            except MissingInput as error:
                self.result.missing.append(str(error))
                if error.kind:
                    self._note_missing(formula, year)
                continue
            points.append((year_end(year), str(year), value))
        if formula.average:
            if self.result.missing or not points:
                return []
            average = sum((v for _day, _label, v in points), ZERO) / len(points)
            self.result.source = f"{years[0]}—{years[-1]}年平均"
            return [(*points[-1][:2], average)]
        if points and self.result.missing:
            # The latest year with every input counts; earlier gaps do not hide it.
            self.result.missing = []
            self.result.missing_inputs = []
        return points

    def _note_missing(self, formula, year: int) -> None:
        """Every input of the formula missing in this year (evaluation stops at the first),
        for the pages that say what to enter and where."""
        for name in formula.names_in_order:
            try:
                self._variable(name, year)
            except MissingInput as error:
                value = MissingValue(error.kind, error.name, error.year, self.region_id)
                if value not in self.result.missing_inputs:
                    self.result.missing_inputs.append(value)

    def _variable(self, name: str, year: int) -> Decimal:
        if name in FIRE_STATISTIC_FIELDS:
            statistic = self.inputs.fire_statistics.get((self.region_id, year))
            value = getattr(statistic, name, None) if statistic else None
            if value is None:
                raise MissingInput.fire_statistic(name, year)
            return Decimal(value)
        if name == STATIONS_IN_SERVICE:
            return Decimal(self._count_stations(year, new_only=False))
        by_year = self.inputs.base_figures.get((name, self.region_id), {})
        for back in range(self.rules.base_figure_max_age_years + 1):
            if year - back in by_year:
                return by_year[year - back]
        raise MissingInput.base_figure(name, year)

    def _count_stations(self, year: int, *, new_only: bool) -> int:
        region_ids = self.inputs.regions.subtree(self.region_id)
        serving = {StationStatus.BUILT, StationStatus.IN_SERVICE}
        count = 0
        for station in self.inputs.stations:
            if station.region_id not in region_ids or station.status not in serving:
                continue
            if new_only:
                if station.build_type != BuildType.NEW or station.completed_year is None:
                    continue
                if not self.plan.start_year <= station.completed_year <= year:
                    continue
            elif station.completed_year is not None and station.completed_year > year:
                continue
            count += 1
        return count

    def _register_points(self) -> list[tuple[datetime.date, str, Decimal]]:
        last_year = min(self.on.year, self.target_year)
        points = []
        for year in range(self.plan.start_year, last_year + 1):
            count = Decimal(self._count_stations(year, new_only=True))
            points.append((min(year_end(year), self.on), str(year), count))
        self.result.source = "按消防站台账计数（新建、已建成或执勤中）"
        return points

    def points(self) -> list[tuple[datetime.date, str, Decimal]]:
        """(date, label, value) in time order; cumulative for increments."""
        if self.target.feed == Feed.FORMULA:
            return self._formula_points()
        if self.target.feed == Feed.STATION_REGISTER:
            return self._register_points()
        raw = self._report_points()
        self.result.source = "审核通过的填报数据"
        if self.target.measure != Measure.INCREMENT:
            return [(f.ends_on, f.period, value) for f, value in raw]
        running, points = ZERO, []
        for figure, value in raw:
            running += value
            points.append((figure.ends_on, figure.period, running))
        return points

    # schedule and pace -------------------------------------------------------------------

    def _schedule(self) -> list[tuple[datetime.date, Decimal]]:
        """(due date, cumulative planned value) from the target's valued milestones."""
        milestones = [
            m for m in self.inputs.milestones.get(self.target.pk, []) if m.planned_value is not None
        ]
        if self.is_allocation:
            milestones = [m for m in milestones if m.region_id == self.region_id]
        schedule, running = [], ZERO
        for milestone in milestones:
            running = (
                milestone.planned_value
                if milestone.is_cumulative
                else running + milestone.planned_value
            )
            schedule.append((milestone.due_on, running))
        if self.target.measure != Measure.INCREMENT and self.baseline is not None:
            schedule = [
                (d, v if _is_cumulative_level(milestones) else self.baseline + v)
                for d, v in schedule
            ]
        return schedule

    def expected(self) -> Decimal | None:
        if self.target.comparator == Comparator.LTE:
            return None
        if self.schedule:
            due = [value for due_on, value in self.schedule if due_on <= self.on]
            return due[-1] if due else (self.baseline or ZERO)
        if self.goal is None:
            return None
        years = list(range(self.plan.start_year, self.target_year + 1))
        done = len([y for y in years if year_end(y) <= self.on])
        fraction = Decimal(done) / Decimal(len(years)) if years else ONE
        if self.target.comparator in (Comparator.REDUCE_BY, Comparator.INCREASE_BY):
            return None if self.baseline is None else self.goal * fraction
        if self.target.measure == Measure.INCREMENT:
            return self.goal * fraction
        if self.baseline is None:
            return None
        return self.baseline + (self.goal - self.baseline) * fraction

    # the verdict ---------------------------------------------------------------------------

    def compute(self) -> TargetProgress:
        result, target = self.result, self.target
        points = self.points()
        result.series = [(label, value) for _, label, value in points]
        result.actual = points[-1][2] if points else None
        result.expected = self.expected()
        baseline = self.baseline
        if result.actual is not None and baseline is not None:
            if target.measure == Measure.INCREMENT:
                result.increment, result.level = result.actual, baseline + result.actual
            else:
                result.level, result.increment = result.actual, result.actual - baseline
        self._completion()
        # Finished: the plan is over, and so is the target's year in force (an adjustment may
        # have moved it beyond the plan's end: it is judged by its pace until then).
        result.finished = plan_finished(self.plan, self.on) and self.on > self.due_on
        if result.finished:
            result.status = self._final_status()
            self._margin()
            return result  # no pace, no projection, nothing to escalate: the plan is over
        result.status = self._status(points)
        result.escalate = target.attribute == "binding" and result.status in ESCALATED
        self._projection(points)
        return result

    def _final_status(self) -> str:
        """A finished plan's verdict: met, unmet, or no figure at all."""
        result = self.result
        if result.actual is None:
            return ProgressStatus.NO_DATA
        relative = self.target.comparator in (Comparator.REDUCE_BY, Comparator.INCREASE_BY)
        if relative and not self.baseline:
            result.missing.append("缺少基期值，无法计算变化幅度")
            return ProgressStatus.NO_DATA
        if holds(self.target.comparator, self._measured(result.actual), self.goal):
            return ProgressStatus.MET
        return ProgressStatus.UNMET

    def _margin(self) -> None:
        """What an unmet target lacks (goal − actual, in the target's own terms)."""
        result = self.result
        if result.status != ProgressStatus.UNMET or result.margin is not None:
            return  # ceilings (≤) have their margin from ``_completion``
        measured = self._measured(result.actual)
        if measured is not None and self.goal is not None:
            result.margin = self.goal - measured

    def _measured(self, value: Decimal | None) -> Decimal | None:
        """The value in the target's own terms (percent change for reduce/increase-by)."""
        if value is None:
            return None
        if self.target.comparator in (Comparator.REDUCE_BY, Comparator.INCREASE_BY):
            if not self.baseline:
                return None
            return change_percent(self.target.comparator, self.baseline, value)
        return value

    def _completion(self) -> None:
        result, goal = self.result, self.goal
        measured = self._measured(result.actual)
        if measured is None or goal is None:
            return
        if self.target.comparator == Comparator.LTE:
            result.margin = goal - measured
            result.completion = ONE if measured <= goal else (goal / measured if measured else ONE)
        elif goal:
            result.completion = measured / goal
        else:
            result.completion = ONE

    def _status(self, points) -> str:
        on, result = self.on, self.result
        if on < self.start_on:
            return ProgressStatus.NOT_DUE
        first_due = year_end(self.plan.start_year)
        if result.actual is None:
            return ProgressStatus.NOT_DUE if on < first_due else ProgressStatus.NO_DATA
        comparator = self.target.comparator
        goal = self.goal
        relative = comparator in (Comparator.REDUCE_BY, Comparator.INCREASE_BY)
        if relative and not self.baseline:
            result.missing.append("缺少基期值，无法计算变化幅度")
            return ProgressStatus.NO_DATA
        if holds(comparator, self._measured(result.actual), goal):
            return ProgressStatus.MET
        if on > self.due_on:
            return ProgressStatus.CRITICAL
        if self.target.feed == Feed.REPORTS and on >= first_due:
            last_complete = max(y for y in completed_years(self.plan.start_year, on))
            if points[-1][0] < year_end(min(last_complete, self.target_year)):
                return ProgressStatus.NO_DATA
        if comparator == Comparator.LTE:
            return self._grade(_ceiling_ratio(goal, result.actual))
        pace = _pace(self.target, result.actual, result.expected, self.baseline)
        if pace is None:
            return ProgressStatus.NOT_DUE
        made, wanted = pace
        if wanted <= 0:
            return ProgressStatus.ON_TRACK
        return self._grade(made / wanted)

    def _grade(self, ratio: Decimal) -> str:
        if ratio >= self.rules.lagging_below:
            return ProgressStatus.ON_TRACK
        if ratio >= self.rules.critical_below:
            return ProgressStatus.LAGGING
        return ProgressStatus.CRITICAL

    def _projection(self, points) -> None:
        result = self.result
        if not points:
            return
        last_on, _label, last_value = points[-1]
        if self.target.measure == Measure.INCREMENT:
            first_on, first_value = self.start_on, ZERO
        elif self.baseline is not None:
            first_on, first_value = self.start_on - datetime.timedelta(days=1), self.baseline
        else:
            first_on, first_value = points[0][0], points[0][2]
        days = (last_on - first_on).days
        if last_on >= self.due_on or days <= 0:
            projection = last_value
        else:
            slope = (last_value - first_value) / Decimal(days)
            projection = last_value + slope * Decimal((self.due_on - last_on).days)
        if self.target.measure in SUMMABLE or self.target.comparator != Comparator.LTE:
            projection = max(projection, ZERO)
        result.projection = projection.quantize(Decimal("0.0001"))
        result.projection_meets = holds(
            self.target.comparator, self._measured(result.projection), self.goal
        )


def _is_cumulative_level(milestones: list[Milestone]) -> bool:
    return bool(milestones) and all(m.is_cumulative for m in milestones)


def compute_status(
    target: Target,
    inputs: StatusInputs,
    *,
    on: datetime.date | None = None,
    rules: StatusRules | None = None,
    region_id: int | None = None,
    target_value: Decimal | None = None,
) -> TargetProgress:
    """Where ``target`` stands at ``on`` (today by default). Never queries.

    With ``region_id`` and ``target_value`` it judges a region's allocation of the target.
    """
    on = on or timezone.localdate()
    rules = rules or StatusRules.from_settings()
    return _Judge(target, inputs, on, rules, region_id, target_value).compute()


def year_plan(
    target: Target,
    inputs: StatusInputs,
    year: int,
    *,
    region_id: int | None = None,
    target_value: Decimal | None = None,
) -> Decimal | None:
    """The value planned for ``year`` (本年度计划值), from the 序时进度 (``expected``): for
    increments the year's step (planned by its end less planned by the end of the year
    before), otherwise the level planned by its end. ``region_id`` and ``target_value``: a
    region's allocation, as for ``compute_status``. Never queries."""

    def planned_by(end_of: int) -> Decimal | None:
        judge = _Judge(target, inputs, year_end(end_of), StatusRules(), region_id, target_value)
        return judge.expected()

    end = planned_by(year)
    if end is None or target.measure != Measure.INCREMENT:
        return end
    return end - (planned_by(year - 1) or ZERO)


def pace_ratio(
    target: Target, progress: TargetProgress, *, is_allocation: bool = False
) -> Decimal | None:
    """Progress made ÷ progress expected by the date (序时进度), both measured from the start
    value (0 for increments, else the baseline) — the ratio ``compute_status`` grades with.

    Ceilings (≤): 1 while the bound holds, else target ÷ actual. Relative targets (reduce or
    increase by a percent): the change achieved ÷ the change expected by now. 1 when no
    progress is expected yet. None when there is no figure or no pace to compare with (no
    milestones, no baseline for a level); an allocation (``is_allocation``) has no baseline."""
    actual = progress.actual
    if actual is None:
        return None
    if target.comparator == Comparator.LTE:
        goal = progress.target_value
        return None if goal is None else _ceiling_ratio(goal, actual)
    baseline = None if is_allocation else target.baseline_value
    pace = _pace(target, actual, progress.expected, baseline)
    if pace is None:
        return None
    made, wanted = pace
    return ONE if wanted <= 0 else made / wanted


def _ceiling_ratio(goal: Decimal, actual: Decimal) -> Decimal:
    """A ceiling's (≤) pace: 1 while the bound holds, else target ÷ actual."""
    if not actual:
        return ONE
    return ONE if actual <= goal else goal / actual


def _pace(
    target: Target, actual: Decimal, expected: Decimal | None, baseline: Decimal | None
) -> tuple[Decimal, Decimal] | None:
    """(progress made, progress expected) by the date, measured from the start value (0 for
    increments, else the baseline or 0); for relative targets the change achieved and the
    change expected, in percent of the baseline. None without an expected value, or for a
    relative target without a baseline."""
    if expected is None:
        return None
    if target.comparator in (Comparator.REDUCE_BY, Comparator.INCREASE_BY):
        if not baseline:
            return None
        return change_percent(target.comparator, baseline, actual), expected
    start = ZERO if target.measure == Measure.INCREMENT else (baseline or ZERO)
    return actual - start, expected - start


def compute_allocations(
    target: Target, inputs: StatusInputs, *, on: datetime.date | None = None, rules=None
) -> list[tuple[Allocation, TargetProgress]]:
    return [
        (
            a,
            compute_status(
                target, inputs, on=on, rules=rules, region_id=a.region_id, target_value=a.value
            ),
        )
        for a in inputs.allocations.get(target.pk, [])
    ]


def milestone_state(milestone: Milestone, on: datetime.date | None = None) -> str:
    """Qualitative milestones: done, pending or overdue at the date."""
    on = on or timezone.localdate()
    if milestone.completed_on and milestone.completed_on <= on:
        return MilestoneState.DONE
    if milestone.due_on < on:
        return MilestoneState.OVERDUE
    return MilestoneState.PENDING
