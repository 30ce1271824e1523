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
from plan_import.publish import publish_draft
from plan_import.readers import read_document
from plan_import.scoring import fixture_dir
from planning.models import Plan, Section, Task
from stations.models import Station
from targets.models import Milestone, Target

NANJING_TEXT = "000_bff119f9be73ccb9.txt"
NANYANG_TEXT = "002_9e26c680a75df4b2.txt"


def draft_of(name: str):
    path = fixture_dir() / "sources" / name
    return extract(read_document(path.name, path.read_bytes()))


def counts():
    return {
        model.__name__: model.objects.count()
        for model in (Plan, Section, Task, Target, Milestone, Unit, Station)
    }


def test_publish_creates_a_plan_that_plan_status_handles(staff_nanjing, client):
    draft = draft_of(NANJING_TEXT)
    region = Region.objects.get(name="南京市")
    plan = publish_draft(
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
    plan = publish_draft(draft, actor=staff_nanyang, region=Region.objects.get(name="南阳市"))
    created = Unit.objects.get(name="市新成立的消防协调办")
    assert created.region.name == "南阳市"
    assert created.history.first().history_change_reason == "导入规划"
    assert plan.stations.count() == len(draft.stations)


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
        publish_draft(draft, actor=staff_nanjing, region=Region.objects.get(name="南京市"))
    assert len(calls) == 3
    assert counts() == before


def test_an_actor_outside_the_region_is_refused_and_nothing_written(staff_nanyang):
    from core.services import NotAllowed

    before = counts()
    with pytest.raises(NotAllowed):
        publish_draft(
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
    draft = draft_of("004_9607910c6e7977de.txt")
    owned = [(t, m) for t in draft.targets for m in t.milestones]
    assert ("全市新建市政消火栓20个", "2021-12-31") in {
        (m.text, m.due_on.isoformat()) for _t, m in owned
    }
    plan = publish_draft(
        draft, actor=staff_lianzhou, region=Region.objects.get(name="连州市"), code="lz-imported"
    )
    milestones = Milestone.objects.filter(plan=plan, target__isnull=False)
    assert milestones.count() == len(owned)
    hydrants = milestones.get(text="全市新建市政消火栓20个")
    assert (hydrants.planned_value, hydrants.due_on.year) == (20, 2021)
