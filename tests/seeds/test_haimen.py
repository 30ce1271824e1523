"""Seed plan 南通市海门区“十四五”社会消防救援事业发展规划: counts and spot checks against
001_51ba01e843617add.txt (line numbers below refer to that file)."""

import datetime
from decimal import Decimal

import pytest

from core.models import Region, Unit
from planning.models import Plan, Section, Stage, Task, TaskAssignment
from stations.models import Station
from targets.models import Allocation, BaseFigure, FireStatistic, Milestone, Target

pytestmark = pytest.mark.django_db

CODE = "haimen-2021-2025"


@pytest.fixture
def plan(seeded):
    return Plan.objects.get(code=CODE)


def haimen():
    return Region.objects.get(name="海门区", parent__name="南通市")


def leads_and_supports(task):
    rows = TaskAssignment.objects.filter(task=task).order_by("order").select_related("unit")
    return [(a.unit.name, a.role) for a in rows]


# ------------------------------------------------------------------------------ counts


def test_plan_has_every_section(plan):
    # 前言 (1) + chapters 一…四 (4) = 5 chapters.
    # 一: （一）（二）（三） (3), （一） has 1.…6. (6), （二） has 1.…5. (5)            = 14
    # 二: （一）（二）（三） (3), （三） has 1.…4. (4)                                 =  7
    # 三: （一）（二） (2), （一）主要目标 1.…9. (9), （二）主要任务 1.…5. (5)         = 16
    # 四: （一）…（四） (4)                                                           =  4
    # annexes 表1, 表2 (2). 5 + 14 + 7 + 16 + 4 + 2 = 48. No 专栏.
    sections = Section.objects.filter(plan=plan)
    assert sections.count() == 48
    assert sections.filter(kind="chapter").count() == 5
    assert sections.filter(kind="annex").count() == 2
    assert sections.filter(kind="box").count() == 0
    assert sections.get(code="ch3.2.3").parent.code == "ch3.2"


def test_plan_has_every_numbered_task(plan):
    # 三、（二）主要任务: 1. has (1)-(4), 2. has (1)-(4), 3. has (1)-(4), 4. has (1)-(4),
    # 5. has (1)-(3) = 19 items, plus the lead paragraph of 1. (line 187, task t1.0) = 20.
    # 四、保障措施 （一）…（四） are sections, not tasks.
    tasks = Task.objects.filter(plan=plan)
    assert tasks.count() == 20
    assert tasks.filter(section__code="ch3.2.1").count() == 5
    assert tasks.filter(section__code="ch3.2.5").count() == 3
    assert not tasks.exclude(due_on=None).exists()  # no task carries a deadline


def test_task_assignments(plan):
    # No 责任单位 lists: units are the bodies the task text charges, in printed order.
    # t1.0 1 (所有镇（街道）), t1.1 1 (区镇人民政府), t1.2 12 departments, t2.2 1 (各级人民政府),
    # t3.2 11 coordination partners (all support), t3.3 1, t4.1 1 (support), t5.2 1 (教育部门) = 29.
    assignments = TaskAssignment.objects.filter(task__plan=plan)
    assert assignments.count() == 29
    assert assignments.filter(role="lead").count() == 6
    assert assignments.filter(task__code="t3.2", role="support").count() == 11


def test_units(plan):
    # Notice addressees (line 3): 4 collectives; 区政府 (四); 区镇人民政府 (1(1));
    # 各级人民政府 (2(2)); 消防安全委员会; task 1(2): 11 departments + 消防救援机构;
    # task 3(2): 9 more partners
    # (供水 → 供水管理部门, 民政 → 民政部门); 区域治理现代化指挥中心 (4(1)). 4+1+1+1+1+12+9+1 = 30.
    units = Unit.objects.filter(region=haimen())
    assert units.count() == 30
    assert units.filter(kind="collective").count() == 6
    assert units.filter(kind="fire_rescue").get().name == "消防救援机构"
    assert units.filter(kind="government").get().name == "区政府"


def test_targets(plan):
    # 1. lead paragraph: 所有镇（街道） (1); 1(3): yearly full test (1); 2(2): 2 relocations, 2 new
    # stations (2); 2(4): pipe diameter, hydrant spacing, hydrant radius (3); 3(1): 30 people per
    # brigade, 乡镇消防队 per standard, pay +30% (3); 5(1) 60% villages (1); 5(2) 1 lesson per
    # semester, 2 open days per month (2); 5(3) 90% towns (1); 四（一） committee meeting every
    # half year (1). Total 15; 8 of them within the period (2025), 7 standing norms without year.
    targets = Target.objects.filter(plan=plan)
    assert targets.count() == 15
    assert targets.filter(target_year=2025).count() == 8
    assert targets.filter(target_year=None).count() == 7
    assert targets.filter(attribute="").count() == 15  # no 约束性/预期性 in this plan
    assert targets.filter(task=None).get().code == "t-committee-meetings"


def test_milestones_allocations_stages_and_statistics(plan):
    # No dated or yearly steps anywhere (only 十四五期间): 0 milestones. No 实施步骤: 0 stages.
    # Allocations: 表2 rows per region — 迁址重建 开发区 1 + 四甲镇 1, 新建 开发区 2 = 3.
    # No fire-statistics table.
    assert Milestone.objects.filter(plan=plan).count() == 0
    assert Stage.objects.filter(plan=plan).count() == 0
    assert Allocation.objects.filter(target__plan=plan).count() == 3
    assert FireStatistic.objects.filter(plan=plan).count() == 0


def test_stations(plan):
    # 表1: 7 rows (lines 262-309); 表2: 4 rows (lines 318-333) = 11.
    stations = Station.objects.filter(plan=plan)
    assert stations.count() == 11
    assert stations.filter(status="planned").count() == 4
    assert stations.filter(status="in_service").count() == 6
    assert stations.filter(station_class="class1").count() == 3
    assert stations.filter(station_class="class2").count() == 4
    assert stations.filter(build_type="rebuild_relocate").count() == 2
    assert stations.filter(build_type="new").count() == 2


def test_base_figures(plan):
    # 一、（一）: stations built 2016/2017/2018/2019/2020 (5 rows, line 30); 17 teams on duty (1);
    # 4 区域联防组织 (1); micro stations: 566 units, 30 communities (2); 103/93 residential
    # communities (2); 327 楼长, 49 经理人 (2); 751/500/324 control-room staff (3); line 38:
    # 1044 monitoring systems, 235 sprinklers, 846 detectors, 20 chemical firms, 171 communities,
    # 634 charging areas, 908 charging systems (7). 5+1+1+2+2+2+3+7 = 23.
    figures = BaseFigure.objects.filter(plan=plan)
    assert figures.count() == 23
    assert figures.exclude(year=2020).count() == 4  # 2016-2019 station rows


# ------------------------------------------------------------------------------ spot checks


def test_plan_metadata(plan):
    assert plan.title == "南通市海门区“十四五”社会消防救援事业发展规划"
    assert plan.kind == "five_year"
    assert plan.status == "in_force"
    assert plan.issuer == "南通市海门区人民政府办公室"
    assert plan.issued_on == datetime.date(2023, 8, 5)
    assert plan.doc_number == ""
    assert (plan.start_year, plan.end_year) == (2021, 2025)
    assert plan.region.path == "江苏省/南通市/海门区"
    assert plan.parent.code == "nantong-2021-2025"
    assert plan.parent.status == "reference"


def test_ratio_targets(plan):
    villages = Target.objects.get(plan=plan, code="t-village-experience")
    assert (villages.measure, villages.measure_unit, villages.comparator) == ("ratio", "%", "gte")
    assert villages.target_value == Decimal("60")
    assert "60%以上的行政村（社区）都有消防体验内容" in villages.source_text
    towns = Target.objects.get(plan=plan, code="t-town-science-base")
    assert towns.target_value == Decimal("90")
    assert towns.task.code == "t5.3"
    pay = Target.objects.get(plan=plan, code="t-fulltime-pay-premium")
    assert (pay.measure, pay.measure_unit, pay.comparator) == ("ratio", "%", "gte")
    assert pay.target_value == Decimal("30")
    assert "平均工资30%以上" in pay.source_text


def test_brigade_size_targets(plan):
    brigade = Target.objects.get(plan=plan, code="t-brigade-size")
    assert (brigade.measure_unit, brigade.comparator, brigade.target_value) == (
        "人",
        "gte",
        Decimal("30"),
    )
    township = Target.objects.get(plan=plan, code="t-township-brigade-size")
    assert township.target_value is None  # 《乡镇消防队标准》规定人数: no number printed


def test_station_targets_and_allocations(plan):
    new = Target.objects.get(plan=plan, code="t-new-stations")
    assert (new.measure, new.comparator, new.target_value, new.target_year) == (
        "increment",
        "eq",
        Decimal("2"),
        2025,
    )
    assert [(a.region.name, a.value) for a in new.allocations.all()] == [("开发区", Decimal("2"))]
    relocate = Target.objects.get(plan=plan, code="t-relocate-stations")
    assert sorted((a.region.name, a.value) for a in relocate.allocations.all()) == [
        ("四甲镇", Decimal("1")),
        ("开发区", Decimal("1")),
    ]
    # allocations add up to the targets
    for target in (new, relocate):
        assert sum(a.value for a in target.allocations.all()) == target.target_value


def test_hydrant_norms(plan):
    spacing = Target.objects.get(plan=plan, code="t-hydrant-spacing")
    assert (spacing.comparator, spacing.target_value, spacing.measure_unit) == (
        "lte",
        Decimal("120"),
        "米",
    )
    diameter = Target.objects.get(plan=plan, code="t-main-diameter")
    assert (diameter.comparator, diameter.target_value, diameter.measure_unit) == (
        "gte",
        Decimal("150"),
        "毫米",
    )
    assert spacing.target_year is None


def test_table1_station_rows(plan):
    haiyong = Station.objects.get(plan=plan, code="st-hy")
    assert haiyong.name == "海永站"
    assert haiyong.region.path == "江苏省/南通市/海门区/海永镇"
    assert haiyong.station_class == "class1"
    assert (haiyong.status, haiyong.completed_year) == ("built", 2020)
    assert haiyong.floor_area_m2 == Decimal("6615")
    kfq = Station.objects.get(plan=plan, code="st-kfq")
    assert (kfq.name, kfq.completed_year) == ("经济技术开发区站", 2016)
    assert kfq.address == "海门区新安江路33号"
    assert kfq.floor_area_m2 == Decimal("4500")
    assert kfq.source_text == (
        "开发区 | 经济技术开发区站 | 一级普通站 | 4500 | 海门区新安江路33号 | 2016年建成"
    )
    # the per-year counts of line 30 match 表1's completion years
    built = BaseFigure.objects.filter(plan=plan, name="新建消防站")
    assert sum(b.value for b in built) == Decimal("7")
    for figure in built:
        assert Station.objects.filter(plan=plan, completed_year=figure.year).count() == figure.value


def test_table2_station_rows(plan):
    water = Station.objects.get(plan=plan, code="st-cyl")
    assert water.name == "长阳路西，福州路北消防站"
    assert (water.station_class, water.build_type, water.status) == ("water", "new", "planned")
    assert water.planned_year is None
    sijia = Station.objects.get(plan=plan, code="st-sj")
    assert (sijia.region.name, sijia.build_type) == ("四甲镇", "rebuild_relocate")


def test_task_units_in_printed_order(plan):
    t12 = Task.objects.get(plan=plan, code="t1.2")
    assert t12.title == "发挥部门消防工作职能作用"
    rows = leads_and_supports(t12)
    assert rows[0] == ("住建部门", "lead")
    assert [name for name, _ in rows][-2:] == ["人力资源和社会保障部门", "供水管理部门"]
    assert len(rows) == 12
    assert leads_and_supports(Task.objects.get(plan=plan, code="t5.2")) == [("教育部门", "lead")]
    t32 = Task.objects.get(plan=plan, code="t3.2")
    assert leads_and_supports(t32)[0] == ("公安机关", "support")


def test_task_texts(plan):
    t22 = Task.objects.get(plan=plan, code="t2.2")
    assert t22.number == "（2）"
    assert t22.title == "加强消防站建设"
    assert "十四五期间，北海路、四甲消防站迁址重建" in t22.description
    assert t22.source_text.startswith("（2）加强消防站建设。")
    t10 = Task.objects.get(plan=plan, code="t1.0")
    assert t10.number == "1."
    assert "所有镇（街道）明确消防监督管理工作机构及人员" in t10.description


def test_base_figure_values(plan):
    region = haimen()
    assert BaseFigure.objects.get(region=region, year=2020, name="投入执勤的消防队伍").value == 17
    assert BaseFigure.objects.get(region=region, year=2019, name="新建消防站").value == 3
    name = "完成微型消防站建设的消防重点单位"
    micro = BaseFigure.objects.get(region=region, year=2020, name=name)
    assert (micro.value, micro.measure_unit) == (Decimal("566"), "家")
    assert BaseFigure.objects.get(region=region, year=2020, name="电气火灾监控系统").value == 1044


def test_regions(plan):
    towns = Region.objects.filter(parent=haimen())
    assert sorted(towns.values_list("name", flat=True)) == sorted(
        ["开发区", "工业园区", "三星镇", "常乐镇", "正余镇", "悦来镇", "海永镇", "四甲镇"]
    )
    assert set(towns.values_list("level", flat=True)) == {"town"}
