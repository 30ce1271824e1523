"""The draft: plain dataclasses, what the extractor produces and the reviewer edits.

Every item keeps ``source_text`` (the sentence or table row it came from) and ``where``
(paragraph, line, page or table row), so the reviewer sees why it was extracted.
"""

from __future__ import annotations

import datetime
from dataclasses import asdict, dataclass, field


@dataclass
class PlanInfo:
    title: str = ""
    issuer: str = ""
    doc_number: str = ""
    issued_on: datetime.date | None = None
    start_year: int | None = None
    end_year: int | None = None
    source_text: str = ""
    region_id: int | None = None  # chosen on review (the reviewer's scope)


@dataclass
class DraftSection:
    ref: str
    parent_ref: str | None
    number: str
    title: str
    kind: str  # chapter | section | box | annex
    source_text: str = ""
    where: str = ""


@dataclass
class DraftMilestone:
    due_on: datetime.date
    text: str
    yearly: bool = False
    section_ref: str | None = None  # for a milestone not (yet) attached to a task or target
    value: float | None = None  # a target's planned value at this date (else the target's)
    # A milestone the extractor could not attach (``Draft.milestones``): its ref, and what
    # the reviewer attached it to ("task:t3", "target:g2"; "" while undecided).
    ref: str = ""
    attach_to: str = ""


@dataclass
class DraftTask:
    ref: str
    section_ref: str | None
    number: str
    title: str
    lead_units: list[str] = field(default_factory=list)
    support_units: list[str] = field(default_factory=list)
    due_on: datetime.date | None = None
    milestones: list[DraftMilestone] = field(default_factory=list)
    source_text: str = ""
    where: str = ""


@dataclass
class DraftTarget:
    ref: str
    task_ref: str | None
    section_ref: str | None
    name: str
    value: float | None
    unit: str
    comparator: str  # gte | lte | eq | reduce_by | increase_by
    year: int | None
    baseline_value: float | None = None
    baseline_year: int | None = None
    attribute: str | None = None  # binding | expected
    source_text: str = ""
    where: str = ""
    milestones: list[DraftMilestone] = field(default_factory=list)  # planned value = value


@dataclass
class DraftStation:
    name: str
    region: str
    address: str
    station_class: str | None
    in_service: str | None  # YYYY-MM
    status: str  # in_service | planned (any StationStatus once reviewed)
    source_text: str = ""
    ref: str = ""
    region_id: int | None = None  # the region of the tree the reviewer confirmed


@dataclass
class UnitChoice:
    """What the reviewer decided for a unit name of the draft: an existing unit, or
    「新建单位」 (``new``: created at publish, in the plan's region)."""

    name: str
    unit_id: int | None = None
    new: bool = False


@dataclass
class Finding:
    code: str
    message: str


@dataclass
class Draft:
    plan: PlanInfo = field(default_factory=PlanInfo)
    sections: list[DraftSection] = field(default_factory=list)
    tasks: list[DraftTask] = field(default_factory=list)
    targets: list[DraftTarget] = field(default_factory=list)
    stations: list[DraftStation] = field(default_factory=list)
    milestones: list[DraftMilestone] = field(default_factory=list)  # attached on review
    findings: list[Finding] = field(default_factory=list)
    units: list[UnitChoice] = field(default_factory=list)  # decided on review

    def as_json(self) -> dict:
        """The shape of issue 18 (extra keys allowed)."""

        def clean(value):
            if isinstance(value, datetime.date):
                return value.isoformat()
            if isinstance(value, float) and value.is_integer():
                return int(value)
            if isinstance(value, dict):
                return {key: clean(item) for key, item in value.items()}
            if isinstance(value, list):
                return [clean(item) for item in value]
            return value

        return clean(
            {
                "plan": asdict(self.plan),
                "sections": [asdict(item) for item in self.sections],
                "tasks": [asdict(item) for item in self.tasks],
                "targets": [asdict(item) for item in self.targets],
                "stations": [asdict(item) for item in self.stations],
                "milestones": [asdict(item) for item in self.milestones],
                "findings": [asdict(item) for item in self.findings],
                "units": [asdict(item) for item in self.units],
            }
        )


def _date(value) -> datetime.date | None:
    if not value:
        return None
    if isinstance(value, datetime.date):
        return value
    return datetime.date.fromisoformat(str(value))


def _milestones(items) -> list[DraftMilestone]:
    return [
        DraftMilestone(
            due_on=_date(item["due_on"]),
            text=item.get("text", ""),
            yearly=bool(item.get("yearly")),
            section_ref=item.get("section_ref"),
            value=item.get("value"),
            ref=item.get("ref") or "",
            attach_to=item.get("attach_to") or "",
        )
        for item in items or []
    ]


def draft_from_json(data: dict) -> Draft:
    """The inverse of ``Draft.as_json`` (a draft kept server-side between upload and
    publishing); unknown keys are ignored."""

    def pick(cls, item: dict, **extra):
        names = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in item.items() if k in names and k not in extra}, **extra)

    plan = data.get("plan") or {}
    draft = Draft(
        plan=pick(PlanInfo, plan, issued_on=_date(plan.get("issued_on"))),
        sections=[pick(DraftSection, item) for item in data.get("sections") or []],
        tasks=[
            pick(
                DraftTask,
                item,
                due_on=_date(item.get("due_on")),
                milestones=_milestones(item.get("milestones")),
            )
            for item in data.get("tasks") or []
        ],
        targets=[
            pick(DraftTarget, item, milestones=_milestones(item.get("milestones")))
            for item in data.get("targets") or []
        ],
        stations=[pick(DraftStation, item) for item in data.get("stations") or []],
        milestones=_milestones(data.get("milestones")),
        findings=[pick(Finding, item) for item in data.get("findings") or []],
        units=[pick(UnitChoice, item) for item in data.get("units") or []],
    )
    _give_refs(draft.milestones, "m")
    _give_refs(draft.stations, "st")
    return draft


def _give_refs(items, prefix: str) -> None:
    """Refs for the items the extractor left without one (loose milestones, stations), so
    the review form can name them; unique within the list."""
    taken = {item.ref for item in items if item.ref}
    number = 0
    for item in items:
        if item.ref:
            continue
        number += 1
        while f"{prefix}{number}" in taken:
            number += 1
        item.ref = f"{prefix}{number}"
        taken.add(item.ref)


def section_depths(draft: Draft) -> dict[str, int]:
    """How deep each section sits in the tree (0 = a chapter of the plan)."""
    parents = {section.ref: section.parent_ref for section in draft.sections}
    depths: dict[str, int] = {}
    for ref in parents:
        depth, node, seen = 0, parents.get(ref), {ref}
        while node in parents and node not in seen:
            seen.add(node)
            depth += 1
            node = parents[node]
        depths[ref] = depth
    return depths


def drop_sections(draft: Draft, dropped: set[str]) -> None:
    """Remove the dropped sections, re-homing what was under each — sub-sections, tasks,
    targets and loose milestones — to its nearest kept ancestor (the plan when none).
    A dropped heading is most often one the extractor misread; the items under it are kept
    unless the reviewer drops them one by one."""
    if not dropped:
        return
    parents = {section.ref: section.parent_ref for section in draft.sections}

    def home(ref: str | None) -> str | None:
        seen = set()
        while ref in dropped and ref not in seen:
            seen.add(ref)
            ref = parents.get(ref)
        return ref

    draft.sections = [section for section in draft.sections if section.ref not in dropped]
    for section in draft.sections:
        section.parent_ref = home(section.parent_ref)
    for item in [*draft.tasks, *draft.targets, *draft.milestones]:
        item.section_ref = home(item.section_ref)


def attach_milestones(draft: Draft) -> list[DraftMilestone]:
    """Move each loose milestone the reviewer attached into its task's or target's
    milestones; returns those still unattached (publishing refuses them)."""
    tasks = {task.ref: task for task in draft.tasks}
    targets = {target.ref: target for target in draft.targets}
    left = []
    for milestone in draft.milestones:
        kind, _, ref = milestone.attach_to.partition(":")
        owner = (tasks if kind == "task" else targets if kind == "target" else {}).get(ref)
        if owner is None:
            left.append(milestone)
            continue
        if kind == "task":
            milestone.value = None  # a task's milestone is qualitative
        milestone.section_ref = None
        owner.milestones.append(milestone)
    draft.milestones = left
    return left
