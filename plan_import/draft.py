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
    status: str  # in_service | planned
    source_text: str = ""


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
            }
        )
