"""Seed plan 南京市消防救援能力提升三年行动计划（2021—2023年）: counts and spot checks against
000_bff119f9be73ccb9.txt (line numbers below refer to that file)."""

import datetime
from decimal import Decimal

import pytest

from core.models import Region, Unit
from planning.models import Plan, Section, Stage, Task, TaskAssignment
from stations.models import Station
from targets.models import Allocation, BaseFigure, FireStatistic, Milestone, Target

pytestmark = pytest.mark.django_db

CODE = "nanjing-2021-2023"


@pytest.fixture
def plan(seeded):
    return Plan.objects.get(code=CODE)


def leads_and_supports(task):
    rows = TaskAssignment.objects.filter(task=task).order_by("order").select_related("unit")
    return [(a.unit.name, a.role) for a in rows]


# ------------------------------------------------------------------------------ counts


def test_plan_has_every_section(plan):
    # Chapters 一…六 (6); 二 has （一）…（四） (4), 三 has （一）…（五） (5),
    # 四, 五 and 六 have （一）…（三） each (3+3+3); 一 has none: 6 + 18 = 24.
    # Annex 附件 重点工作任务清单 (1) with its 3 category rows 提升基层消防治理能力 /
    # 提升综合应急救援能力 / 提升智慧消防实战能力 (3): 24 + 4 = 28.
    assert Section.objects.filter(plan=plan).count() == 28
    assert Section.objects.filter(plan=plan, kind="chapter").count() == 6
    assert Section.objects.filter(plan=plan, kind="annex").count() == 1
    assert Section.objects.filter(plan=plan, kind="box").count() == 0


def test_plan_has_every_numbered_task_and_annex_row(plan):
    # 四、重点任务 has tasks 1．…10． (t1-t10); the annex table has 13 rows (lines 104-200):
    # 5 under 提升基层消防治理能力 (强化议事协调机构工作运行 spans two rows), 5 under
    # 提升综合应急救援能力, 3 under 提升智慧消防实战能力: 10 + 13 = 23.
    assert Task.objects.filter(plan=plan).count() == 23
    assert Task.objects.filter(plan=plan, section__code__startswith="ch4").count() == 10
    assert Task.objects.filter(plan=plan, section__parent__code="annex1").count() == 13


def test_task_assignments(plan):
    # 责任单位 of tasks 1-10: 6+5+4+5+4+1+3+3+4+4 = 39;
    # annex 责任单位 cells: 2+2+4+3+1 + 4+4+4+1+4 + 3+1+3 = 36; total 75.
    assignments = TaskAssignment.objects.filter(task__plan=plan)
    assert assignments.count() == 75
    assert assignments.filter(task__code__startswith="t").count() == 39
    # one lead per task (the first unit printed)
    assert assignments.filter(role="lead").count() == 23


def test_units(plan):
    # Distinct names in all 责任单位 lists: 各区政府、管委会, 市委政法委, 市委编办,
    # 市公安局, 市应急局, 市消防救援支队, 市司法局, 市发改委, 市财政局, 市规资局,
    # 市大数据管理局, 市卫健委 = 12.
    used = Unit.objects.filter(assignments__task__plan=plan).distinct()
    assert used.count() == 12
    assert set(used.values_list("region__name", flat=True)) == {"南京市"}


def test_targets(plan):
    # 主要目标 “5分钟”消防救援圈 (1); task 4: 51 stations (1); task 6: 9 named specialist teams (1);
    # task 10: 16 “轻骑兵” teams and 5—6 firefighters per team (2); annex row 建立健全防消联勤常态化
    # 运行机制: ≥2 law-enforcement-qualified staff per station (1) = 6. The annex restatements of
    # 51 stations and 16 teams are not counted twice.
    assert Target.objects.filter(plan=plan).count() == 6


def test_milestones(plan):
    # No yearly target values are stated: 0 target milestones.
    # Task milestones: task 6 (2023年底 nine teams), task 8 and task 10
    # (利用3年时间 → 2023-12-31) = 3.
    milestones = Milestone.objects.filter(plan=plan)
    assert milestones.filter(target__isnull=False).count() == 0
    assert milestones.filter(task__isnull=False).count() == 3
    assert milestones.count() == 3


def test_no_register_rows(plan):
    # The plan has no station table, no allocations by district, no fire statistics and no
    # 十三五 counts/levels: all zero.
    assert Allocation.objects.filter(target__plan=plan).count() == 0
    assert Station.objects.filter(plan=plan).count() == 0
    assert FireStatistic.objects.filter(plan=plan).count() == 0
    assert BaseFigure.objects.filter(plan=plan).count() == 0


def test_stages(plan):
    # 五、实施步骤 （一）…（三）
    stages = list(Stage.objects.filter(plan=plan).order_by("order"))
    assert [(s.name, s.starts_on, s.ends_on) for s in stages] == [
        ("工作启动阶段", None, datetime.date(2021, 12, 31)),
        ("全面实施阶段", datetime.date(2022, 1, 1), datetime.date(2023, 12, 31)),
        ("总结评估阶段", datetime.date(2024, 1, 1), datetime.date(2024, 3, 31)),
    ]


# ------------------------------------------------------------------------------ spot checks


def test_plan_metadata_and_parent(plan):
    assert plan.title == "南京市消防救援能力提升三年行动计划（2021—2023年）"
    assert plan.kind == "action_plan"
    assert plan.status == "in_force"
    assert plan.issuer == "南京市人民政府办公厅"
    assert plan.doc_number == ""
    assert plan.issued_on == datetime.date(2021, 12, 14)
    assert (plan.start_year, plan.end_year) == (2021, 2023)
    assert plan.region.path == "江苏省/南京市"
    parent = plan.parent
    assert parent.code == "nanjing-2021-2025"
    assert parent.title == "南京市“十四五”社会消防救援事业发展规划"
    assert (parent.kind, parent.start_year, parent.end_year) == ("five_year", 2021, 2025)
    assert parent.source_text.startswith(
        "为有效支撑《南京市“十四五”社会消防救援事业发展规划》落地落实"
    )


def test_new_stations_target(plan):
    target = Target.objects.get(plan=plan, code="t-new-stations")
    assert target.target_value == Decimal("51")
    assert target.target_year == 2025
    assert (target.measure, target.measure_unit, target.comparator) == ("increment", "座", "gte")
    assert target.task.code == "t4"
    assert target.baseline_value is None
    assert target.attribute == ""
    assert target.source_text == "“十四五”期间，全市新建51座消防站点。"


def test_light_cavalry_teams(plan):
    teams = Target.objects.get(plan=plan, code="t-lqb-teams")
    assert (teams.target_value, teams.target_year, teams.measure_unit) == (
        Decimal("16"),
        2023,
        "支",
    )
    assert teams.task.number == "10"
    size = Target.objects.get(plan=plan, code="t-lqb-team-size")
    assert (size.target_value, size.comparator, size.measure) == (Decimal("5"), "gte", "level")
    assert "每小队配备5—6名消防员" in size.source_text


def test_specialist_teams_by_end_2023(plan):
    target = Target.objects.get(plan=plan, code="t-specialist-teams")
    assert (target.target_value, target.target_year) == (Decimal("9"), 2023)
    assert target.task.code == "t6"
    milestone = Milestone.objects.get(plan=plan, code="t6-m1")
    assert milestone.due_on == datetime.date(2023, 12, 31)
    assert milestone.text.endswith("排烟专业队和供水专业队")
    assert milestone.planned_value is None


def test_annex_only_target_has_no_year(plan):
    target = Target.objects.get(plan=plan, code="t-station-law-qualified")
    assert target.target_value == Decimal("2")
    assert target.target_year is None
    assert target.task.code == "a1.5"
    assert target.section.code == "annex1.c1"


def test_five_minute_circle(plan):
    target = Target.objects.get(plan=plan, code="t-5min-circle")
    assert (target.target_value, target.measure_unit, target.comparator) == (
        Decimal("5"),
        "分钟",
        "lte",
    )
    assert target.section.code == "ch3"
    assert target.task is None


def test_task_units_in_printed_order(plan):
    t1 = Task.objects.get(plan=plan, code="t1")
    assert leads_and_supports(t1) == [
        ("各区政府、管委会", "lead"),
        ("市委政法委", "support"),
        ("市委编办", "support"),
        ("市公安局", "support"),
        ("市应急局", "support"),
        ("市消防救援支队", "support"),
    ]
    assert leads_and_supports(Task.objects.get(plan=plan, code="t6")) == [
        ("市消防救援支队", "lead")
    ]
    assert leads_and_supports(Task.objects.get(plan=plan, code="t9"))[0] == ("市公安局", "lead")
    # annex rows name their units in a different order from the main text
    assert leads_and_supports(Task.objects.get(plan=plan, code="a1.3")) == [
        ("市委编办", "lead"),
        ("市消防救援支队", "support"),
        ("市司法局", "support"),
        ("各区政府、管委会", "support"),
    ]
    assert leads_and_supports(Task.objects.get(plan=plan, code="a3.3"))[0] == ("市财政局", "lead")


def test_task_text_and_section(plan):
    t4 = Task.objects.get(plan=plan, code="t4")
    assert t4.title == "继续优化全市消防站点布局"
    assert t4.section.number == "（二）"
    assert t4.description.endswith("“十四五”期间，全市新建51座消防站点。")
    assert t4.source_text.endswith(
        "（责任单位：各区政府、管委会，市发改委、市财政局、市规资局、市消防救援支队）"
    )
    a31 = Task.objects.get(plan=plan, code="a3.1")
    assert a31.due_on == datetime.date(2023, 12, 31)
    assert a31.section.title == "提升智慧消防实战能力"


def test_regions_and_collective_unit(plan):
    qinhuai = Region.objects.get(name="秦淮区", parent__name="南京市")
    assert qinhuai.level == "district"
    assert qinhuai.parent.parent.name == "江苏省"
    unit = Unit.objects.get(name="各区政府、管委会", region__name="南京市")
    assert unit.kind == "collective"
    assert Unit.objects.get(name="市消防救援支队", region__name="南京市").kind == "fire_rescue"
