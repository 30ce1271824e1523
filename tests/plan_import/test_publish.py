"""Publishing a draft writes the plan through the services, in one transaction: the plan is
then like a seeded one for plan_status and the plan page; a failure half-way writes
nothing."""

from __future__ import annotations

import io
import json
from unittest import mock

import pytest
from django.core.management import call_command
from django.urls import reverse

from core.models import Region, Unit
from plan_import import publish
from plan_import.extract import extract
from plan_import.publish import NEW_UNIT, publish_draft, unit_names
from plan_import.readers import read_document
from plan_import.scoring import fixture_dir
from plan_import.unit_matching import region_matcher, unit_matcher
from planning.models import Plan, Section, Task
from stations.models import Station
from targets.models import Milestone, Target

NANJING_TEXT = "000_bff119f9be73ccb9.txt"
NANYANG_TEXT = "002_9e26c680a75df4b2.txt"


def draft_of(name: str):
    path = fixture_dir() / "sources" / name
    return extract(read_document(path.name, path.read_bytes()))


def decided(draft, region: Region) -> dict:
    """What a reviewer decides on the review page, made here: each unit name matched to a
    unit of the region or above it (exact or normalised), else 「新建单位」; each station's
    region matched among the region's children. Returns ``publish_draft``'s ``units``."""
    chain = [region, *region.ancestors()]
    units = Unit.objects.filter(region__in=chain).select_related("region")
    matcher = unit_matcher(
        sorted(units, key=lambda unit: chain.index(unit.region)), [r.name for r in chain]
    )
    places = region_matcher([region, *region.children.all()])
    for station in draft.stations:
        found = places.best(station.region) if station.region else None
        station.region_id = found.item.pk if found and found.preselected else region.pk
    resolved = {}
    for name in unit_names(draft):
        found = matcher.best(name)
        resolved[name] = found.item if found and found.preselected else NEW_UNIT
    return resolved


def publish_decided(draft, *, actor, region, **kwargs):
    return publish_draft(draft, actor=actor, region=region, units=decided(draft, region), **kwargs)


def counts():
    return {
        model.__name__: model.objects.count()
        for model in (Plan, Section, Task, Target, Milestone, Unit, Station)
    }


def test_publish_creates_a_plan_that_plan_status_handles(staff_nanjing, client):
    draft = draft_of(NANJING_TEXT)
    region = Region.objects.get(name="南京市")
    plan = publish_decided(
        draft, actor=staff_nanjing, region=region, code="nanjing-imported", source_file="x.txt"
    )
    assert plan.title == "南京市消防救援能力提升三年行动计划（2021—2023年）"
    assert (plan.start_year, plan.end_year) == (2021, 2023)
    assert plan.tasks.count() == len(draft.tasks)
    assert Target.objects.filter(plan=plan).count() == len(draft.targets)
    task = plan.tasks.get(title="健全完善基层消防治理体系")
    # units matched to the seeded units of 南京市, first = lead
    assert [a.unit.name for a in task.assignments.order_by("order")][:2] == [
        "各区政府、管委会",
        "市委政法委",
    ]
    assert task.history.first().history_change_reason == "创建"
    out = io.StringIO()
    call_command(
        "plan_status", "nanjing-imported", "--date", "2023-06-30", "--format", "json", stdout=out
    )
    status = json.loads(out.getvalue())
    assert len(status["targets"]) == len(draft.targets)
    client.force_login(staff_nanjing)
    assert client.get(reverse("reports:plan_detail", args=[plan.pk])).status_code == 200


def test_publish_creates_units_it_does_not_know(staff_nanyang):
    draft = draft_of(NANYANG_TEXT)
    draft.tasks[0].lead_units = ["市新成立的消防协调办"]
    assert not Unit.objects.filter(name="市新成立的消防协调办").exists()
    plan = publish_decided(draft, actor=staff_nanyang, region=Region.objects.get(name="南阳市"))
    created = Unit.objects.get(name="市新成立的消防协调办")
    assert created.region.name == "南阳市"
    assert created.history.first().history_change_reason == "导入规划"
    assert plan.stations.count() == len(draft.stations)
    # each station in the county the document names (南召县 …), matched in the region tree
    nanzhao = plan.stations.get(name="南阳市南召县育才路消防站")
    assert nanzhao.region.name == "南召县"


def test_a_failure_half_way_writes_nothing(staff_nanjing):
    draft = draft_of(NANJING_TEXT)
    draft.tasks[0].lead_units = ["一个新的单位"]
    before = counts()
    real = publish.create_target
    calls = []

    def failing(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise RuntimeError("database went away")
        return real(*args, **kwargs)

    with mock.patch("plan_import.publish.create_target", failing), pytest.raises(RuntimeError):
        publish_decided(draft, actor=staff_nanjing, region=Region.objects.get(name="南京市"))
    assert len(calls) == 3
    assert counts() == before


def test_an_actor_outside_the_region_is_refused_and_nothing_written(staff_nanyang):
    from core.services import NotAllowed

    before = counts()
    with pytest.raises(NotAllowed):
        publish_decided(
            draft_of(NANJING_TEXT), actor=staff_nanyang, region=Region.objects.get(name="南京市")
        )
    assert counts() == before


def test_import_plan_command_json_shape(tmp_path):
    path = fixture_dir() / "sources" / NANJING_TEXT
    out = io.StringIO()
    call_command("import_plan", str(path), "--dry-run", "--format", "json", stdout=out)
    data = json.loads(out.getvalue())
    assert set(data) >= {"plan", "sections", "tasks", "targets", "stations", "findings"}
    assert set(data["plan"]) >= {
        "title", "issuer", "doc_number", "issued_on", "start_year", "end_year",
    }  # fmt: skip
    assert set(data["sections"][0]) >= {"ref", "parent_ref", "number", "title"}
    assert set(data["tasks"][0]) >= {
        "ref", "section_ref", "number", "title", "lead_units", "support_units", "due_on",
        "milestones", "source_text",
    }  # fmt: skip
    assert set(data["targets"][0]) >= {
        "ref", "task_ref", "name", "value", "unit", "comparator", "year", "baseline_value",
        "baseline_year", "attribute", "source_text",
    }  # fmt: skip
    assert data["plan"]["issued_on"] == "2021-12-14"
    milestone = next(m for t in data["tasks"] for m in t["milestones"])
    assert set(milestone) >= {"due_on", "text"}


def test_import_plan_command_refuses_hostile_files(tmp_path):
    from django.core.management.base import CommandError

    from tests.plan_import.documents import zip_bomb_docx

    path = tmp_path / "bomb.docx"
    path.write_bytes(zip_bomb_docx())
    with pytest.raises(CommandError, match="zip_bomb"):
        call_command("import_plan", str(path))


def test_stations_from_an_annex_table():
    draft = draft_of(NANYANG_TEXT)
    assert draft.stations
    assert all(s.region for s in draft.stations), [s.source_text for s in draft.stations]


def test_year_rows_of_an_annex_become_target_milestones(staff_lianzhou):
    """连州's 附表3 (2021年 | 全市新建市政消火栓20个 …) is the yearly plan of the target the
    text states (到2025年，全市共增加约190个市政消火栓): its milestones, not targets."""
    draft = draft_of("004_9607910c6e7977de.txt")
    owned = [(t, m) for t in draft.targets for m in t.milestones]
    steps = sorted((m.due_on.isoformat(), m.value, t.value) for t, m in owned if "消火栓" in m.text)
    assert steps == [
        ("2021-12-31", 20, 190),
        ("2022-12-31", 30, 190),
        ("2023-12-31", 40, 190),
        ("2024-12-31", 50, 190),
        ("2025-12-31", 50, 190),
    ]
    assert not any(t.source_text.endswith("全市新建市政消火栓20个") for t in draft.targets)
    draft.milestones = []  # the rows it could not attach: the reviewer's to attach or drop
    plan = publish_decided(
        draft, actor=staff_lianzhou, region=Region.objects.get(name="连州市"), code="lz-imported"
    )
    milestones = Milestone.objects.filter(plan=plan, target__isnull=False)
    assert milestones.count() == len(owned)
    hydrants = milestones.get(text="全市新建市政消火栓20个")
    assert (hydrants.planned_value, hydrants.due_on.year) == (20, 2021)


def test_publish_refuses_what_the_reviewer_has_not_decided(staff_nanjing):
    """Unit names without a decision, loose milestones and unplaced stations are refused
    with a clear message; nothing is written, no unit created unasked."""
    from core.services import ServiceError

    region = Region.objects.get(name="南京市")
    draft = draft_of(NANJING_TEXT)
    units = decided(draft, region)
    before = counts()
    pending = dict(units)
    pending.pop("市委编办")
    with pytest.raises(ServiceError) as refused:
        publish_draft(draft, actor=staff_nanjing, region=region, units=pending)
    assert refused.value.code == "unresolved_units" and "市委编办" in refused.value.message
    draft.milestones = draft_of("004_9607910c6e7977de.txt").milestones[:1]
    with pytest.raises(ServiceError) as refused:
        publish_draft(draft, actor=staff_nanjing, region=region, units=units)
    assert refused.value.code == "unattached_milestones"
    draft.milestones = []
    draft.stations = draft_of(NANYANG_TEXT).stations[:1]  # region named, not confirmed
    with pytest.raises(ServiceError) as refused:
        publish_draft(draft, actor=staff_nanjing, region=region, units=units)
    assert refused.value.code == "unresolved_station_regions"
    assert counts() == before
