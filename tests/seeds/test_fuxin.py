"""Seed plan 阜新市“十四五”消防救援事业发展规划 (阜政办发〔2022〕15号): counts and spot checks
against 003_6e45ebfb511cd7e4.txt."""

import datetime as dt
from decimal import Decimal

import pytest

from core.models import Region, Unit
from planning.models import Plan, Section, Stage, Task, TaskAssignment
from stations.models import Station
from targets.models import Allocation, BaseFigure, FireStatistic, Milestone, Target

pytestmark = pytest.mark.django_db

CITY = "阜新市"


@pytest.fixture
def plan(seeded):
    return Plan.objects.get(code="fuxin-2021-2025")


def city_units():
    return Unit.objects.filter(region__name=CITY) | Unit.objects.filter(region__parent__name=CITY)


# --------------------------------------------------------------------------- counts


def test_plan_metadata(plan):
    assert plan.title == "阜新市“十四五”消防救援事业发展规划"
    assert plan.kind == "five_year"
    assert plan.status == "in_force"
    assert plan.issuer == "阜新市人民政府办公室"
    assert plan.doc_number == "阜政办发〔2022〕15号"
    assert plan.issued_on == dt.date(2022, 10, 11)
    assert (plan.start_year, plan.end_year) == (2021, 2025)
    assert plan.region.path == "辽宁省/阜新市"
    assert plan.parent is None  # the text names no parent plan
    assert plan.source_file == "003_6e45ebfb511cd7e4.txt"


def test_section_count(plan):
    # chapters 一–六 (6); numbered （一）… sections: 一 4, 二 3, 三 3, 四 6, 五 5, 六 3 (24);
    # 专栏1–专栏11 (11); no annex                                                      → 41
    assert Section.objects.filter(plan=plan).count() == 41
    assert Section.objects.filter(plan=plan, kind="chapter").count() == 6
    assert Section.objects.filter(plan=plan, kind="section").count() == 24
    assert Section.objects.filter(plan=plan, kind="annex").count() == 0
    boxes = Section.objects.filter(plan=plan, kind="box").order_by("order")
    assert [b.number for b in boxes] == [f"专栏{n}" for n in range(1, 12)]
    # boxes sit in the numbered section they are printed in
    parents = {b.number: b.parent.code for b in boxes}
    assert parents == {
        "专栏1": "ch4.1", "专栏2": "ch4.3", "专栏3": "ch4.3", "专栏4": "ch4.3", "专栏5": "ch4.6",
        "专栏6": "ch5.1", "专栏7": "ch5.1", "专栏8": "ch5.2", "专栏9": "ch5.3", "专栏10": "ch5.3",
        "专栏11": "ch5.5",
    }  # fmt: skip


def test_plan_has_every_numbered_task(plan):
    # 四、主要任务 （一）–（六） (6) + 五、重点工程 （一）–（五） (5) = 11 numbered tasks;
    # plus every 专栏 item (a bold line with its text): 专栏1 3, 专栏2 3, 专栏3 1, 专栏4 3,
    # 专栏5 2, 专栏6 1, 专栏7 2, 专栏8 2, 专栏10 5, 专栏11 4 = 26 (专栏9 is a table of
    # quantities → targets only)                                                      → 37
    assert Task.objects.filter(plan=plan).count() == 37
    assert Task.objects.filter(plan=plan, section__kind="section").count() == 11
    per_box = {"box1": 3, "box2": 3, "box3": 1, "box4": 3, "box5": 2, "box6": 1, "box7": 2,
               "box8": 2, "box9": 0, "box10": 5, "box11": 4}  # fmt: skip
    for code, n in per_box.items():
        assert Task.objects.filter(plan=plan, section__code=code).count() == n, code
    # tasks with a stated deadline (专栏 items whose every clause is dated)
    assert Task.objects.filter(plan=plan).exclude(due_on=None).count() == 10


def test_task_assignment_count(plan):
    # No 责任单位 lists; only public bodies a task's text charges with something:
    # t4.1 各级党委政府, 各级政府, 各行业部门 (3); t4.5 各县区, 相关部门 (2);
    # t4.6 市消防安全委员会 (1); t5.5 县区 (1); 专栏5 科普教育基地 各区（县） (1)           → 8
    assert TaskAssignment.objects.filter(task__plan=plan).count() == 8
    assert TaskAssignment.objects.filter(task__plan=plan, role="lead").count() == 5


def test_target_count(plan):
    # 三（三）发展目标 (2025): 四个能力标杆, 示范单位, 装备/战勤/储备达标率, 海州区/细河区
    # 远程供水+排涝 (4), 通信设施完好率, 开放率, 科普基地建成率, 重点人群培训率 (11);
    # 四（一） 消文员标准 1—2人, 派驻比例 (2); 专栏1: 3万㎡综合体, 其他综合体, 车道标识, 老旧小区,
    # 清查率, 入户率, 演练覆盖率, 培训覆盖率 (8); 四（二） 预案制定率, 完整度, 轻型地震救援队 (3);
    # 专栏2 运输保障车辆 (1); 专栏3 100人/3小时, 72小时, 4000㎡ (3); 四（四） 新建站1, 改建2,
    # 总数15, 消火栓500, 水鹤25, 总数832, 完好率98% (7); 四（五） 先进典型 (1); 四（六） 操作员
    # 500人, 30%, 4学时, 1次/年, 1次/月, 1次/学年, 递增20% (7); 专栏5 区县/市级/省级基地数量与
    # 面积 (6), 志愿服务队1支, 志愿者3000人 (2); 五（一） 7大类 (1); 专栏6 化工编队 (1);
    # 五（三） 灭火剂90余吨 (1); 专栏9 消防车14, 器材14607 (2); 专栏10 完好率, 适体率, 在用装备
    # 完好率 (3); 五（四） 仓储4000㎡ (1); 五（五） 宣传车配备 (1)                          → 61
    assert Target.objects.filter(plan=plan).count() == 61
    assert Target.objects.filter(plan=plan, target_year=None).count() == 21
    assert Target.objects.filter(plan=plan, attribute="expected").count() == 1  # 每年预期…500人
    assert Target.objects.filter(plan=plan, attribute="binding").count() == 0


def test_milestone_counts(plan):
    # target milestones: 消文员 2022 2/3, 2023 全部 (2); 专栏1 2022-06-30 ×2, 2022-12-31,
    # 2024-12-31 (4); 预案 2023 ×2 (2); 专栏6 轻型地震救援队 2023 (1); 专栏2 运输车 2023 (1);
    # 专栏5 基地 2022-06-30, 2022-12-31, 2023-12-31, 志愿服务队 2022-06-30 (4);
    # 专栏6 化工编队 2024 (1); 宣传车 2022 60%, 2023 100% (2)                             → 17
    assert Milestone.objects.filter(plan=plan, target__isnull=False).count() == 17
    # task milestones: t4.4 专项规划编修 2022 (1); t4.6 五进细则 2022 (1); 专栏2 健康中心,
    # 保障管理系统 (2); 专栏4 2022/2025, 2025, 2022/2023 (5); t5.1 2022, 2025 (2);
    # 专栏7 智能接处警 2022 (1)                                                          → 12
    assert Milestone.objects.filter(plan=plan, task__isnull=False).count() == 12
    assert Milestone.objects.filter(plan=plan).count() == 29
    # four deadlines fall on 2022-06-30, before the plan was issued (2022-10-11)
    early = Milestone.objects.filter(plan=plan, due_on__lt=plan.issued_on)
    assert sorted(early.values_list("code", flat=True)) == [
        "b1-complex-30k-m1",
        "b1-lane-marking-m1",
        "b5-county-edu-base-m1",
        "b5-volunteer-team-m1",
    ]


def test_register_counts(plan):
    # no region-by-region breakdown that sums to a stated total
    assert Allocation.objects.filter(target__plan=plan).count() == 0
    # 一（四）: the two stations built in the 十三五 period
    assert Station.objects.filter(plan=plan).count() == 2
    # no fire statistics table; no 实施步骤
    assert FireStatistic.objects.filter(plan=plan).count() == 0
    assert Stage.objects.filter(plan=plan).count() == 0


def test_unit_and_region_counts(plan):
    # 10 collective (各级党委政府, 各级政府, 各行业部门, 各县区, 相关部门, 各区（县）, 县区,
    # 县（区）政府, 各相关部门, 有关部门) + 市消防安全委员会 + 市政府 + 消防救援机构 (六、保障措施)
    # + 海州区/细河区/彰武县消防救援大队                                                  → 16
    assert city_units().count() == 16
    assert city_units().filter(kind="collective").count() == 10
    assert city_units().filter(kind="fire_rescue").count() == 4
    # 辽宁省 / 阜新市 / the four 县区 the text names
    districts = set(Region.objects.filter(parent__name=CITY).values_list("name", flat=True))
    assert districts == {"彰武县", "太平区", "海州区", "细河区"}
    assert Region.objects.get(name=CITY).parent.name == "辽宁省"


def test_base_figure_count(plan):
    # 一（二） 83 乡镇街道消委会; 一（三） 371 微型消防站; 一（四） 新建站 2, 车辆 17, 器材 20439,
    # 灭火剂 192 (2020) and the fleet 截至2021年: 88 total + 5 types (2021);
    # 二（二） 缺建率 43%, 60%; 二（三） 10 辆, 16 年, 21% (2020)                          → 17
    assert BaseFigure.objects.filter(plan=plan).count() == 17
    assert BaseFigure.objects.filter(plan=plan, year=2021).count() == 6
    assert BaseFigure.objects.filter(plan=plan, year=2020).count() == 11


# --------------------------------------------------------------------------- spot checks


def test_complex_compliance_by_june_2022(plan):
    t = Target.objects.get(plan=plan, code="b1-complex-30k")
    assert (t.measure, t.comparator, t.target_value, t.measure_unit, t.target_year) == (
        "ratio",
        "gte",
        Decimal("100"),
        "%",
        2022,
    )
    assert t.task.code == "b1.1" and t.section.code == "box1"
    m = Milestone.objects.get(target=t)
    assert (m.due_on, m.planned_value) == (dt.date(2022, 6, 30), Decimal("100"))
    assert m.source_text == "2022年6月底前，建筑面积在3万㎡以上的综合体达标率应为100%。"
    old = Target.objects.get(plan=plan, code="b1-lane-old-estates")
    assert Milestone.objects.get(target=old).due_on == dt.date(2024, 12, 31)


def test_fire_clerks_two_thirds_then_all(plan):
    t = Target.objects.get(plan=plan, code="t-clerk-deploy")
    assert (t.target_value, t.target_year, t.task.code) == (Decimal("100"), 2023, "t4.1")
    ms = list(Milestone.objects.filter(target=t).order_by("due_on"))
    assert [m.due_on for m in ms] == [dt.date(2022, 12, 31), dt.date(2023, 12, 31)]
    assert [m.planned_value for m in ms] == [Decimal("66.6667"), Decimal("100")]
    assert ms[0].source_text == "2022年，至少三分之二的乡镇街道完成消防文员派驻。"
    assert all(m.is_cumulative for m in ms)


def test_publicity_vehicles_60_then_100(plan):
    t = Target.objects.get(plan=plan, code="t-publicity-vehicles")
    ms = list(Milestone.objects.filter(target=t).order_by("due_on"))
    assert [(m.due_on.year, m.planned_value) for m in ms] == [
        (2022, Decimal("60")),
        (2023, Decimal("100")),
    ]
    assert TaskAssignment.objects.get(task=t.task).unit.name == "县区"


def test_stations_hydrants_14th_fyp(plan):
    got = {
        t.code: (t.measure, t.comparator, t.target_value, t.measure_unit, t.target_year)
        for t in Target.objects.filter(plan=plan, task__code="t4.4")
    }
    assert got == {
        "t-station-new": ("increment", "gte", Decimal("1"), "个", 2025),
        "t-station-rebuild": ("increment", "gte", Decimal("2"), "个", 2025),
        "t-station-total": ("level", "gte", Decimal("15"), "个", 2025),
        "t-hydrant-new": ("increment", "gte", Decimal("500"), "个", 2025),
        "t-water-crane-new": ("increment", "gte", Decimal("25"), "个", 2025),
        "t-hydrant-total": ("level", "gte", Decimal("832"), "个", 2025),
        "t-hydrant-intact": ("ratio", "gte", Decimal("98"), "%", 2025),
    }
    total = Target.objects.get(plan=plan, code="t-hydrant-total")
    assert "总数达到832个" in total.source_text
    assert total.baseline_value is None  # the plan states no current total


def test_equipment_box9_and_extinguishing_agent(plan):
    vehicles = Target.objects.get(plan=plan, code="b9-vehicles")
    items = Target.objects.get(plan=plan, code="b9-equipment")
    assert (vehicles.target_value, vehicles.measure_unit) == (Decimal("14"), "辆")
    assert (items.target_value, items.measure_unit) == (Decimal("14607"), "件套")
    assert vehicles.section.code == "box9" and vehicles.target_year is None
    agent = Target.objects.get(plan=plan, code="t-agent-new")
    assert (agent.target_value, agent.measure_unit, agent.target_year) == (
        Decimal("90"),
        "吨",
        2025,
    )


def test_stations_built_in_13th_fyp(plan):
    s = Station.objects.get(plan=plan, code="st-zw-danhuo")
    assert s.name == "彰武县消防救援大队丹霍路消防救援站"
    assert s.region.name == "彰武县"
    assert (s.floor_area_m2, s.land_area_m2, s.investment_10k_yuan) == (
        Decimal("5831"),
        Decimal("10052"),
        Decimal("2000"),
    )
    assert (s.status, s.build_type, s.completed_year) == ("built", "new", None)
    t = Station.objects.get(plan=plan, code="st-tp-gaoyuan")
    assert t.region.name == "太平区"
    assert (t.floor_area_m2, t.land_area_m2, t.investment_10k_yuan) == (
        Decimal("4442"),
        Decimal("11827"),
        Decimal("1400"),
    )


def test_fleet_base_figures(plan):
    fleet = {b.name: b.value for b in BaseFigure.objects.filter(plan=plan, year=2021)}
    assert fleet.pop("消防车") == Decimal("88")
    assert fleet == {
        "灭火类消防车": Decimal("59"),
        "抢险救援消防车": Decimal("6"),
        "举高消防车": Decimal("14"),
        "专勤消防车": Decimal("4"),
        "战勤保障消防车": Decimal("5"),
    }
    assert sum(fleet.values()) == Decimal("88")  # the types add up to the stated total
    old = BaseFigure.objects.get(plan=plan, year=2020, name="超期使用战斗车占比")
    assert (old.value, old.measure_unit) == (Decimal("21"), "%")
    eq = BaseFigure.objects.get(
        plan=plan, year=2020, name="“十三五”期间更新配备个人防护装备、灭火及抢险救援器材"
    )
    assert (eq.value, eq.measure_unit) == (Decimal("20439"), "件套")


def test_district_targets_and_units(plan):
    t = Target.objects.get(plan=plan, code="g-hz-long-supply")
    assert (t.region.name, t.target_value, t.measure_unit, t.target_year) == (
        "海州区",
        Decimal("1"),
        "套",
        2025,
    )
    assert Target.objects.get(plan=plan, code="g-xh-drainage").region.name == "细河区"
    assert Unit.objects.get(name="海州区消防救援大队").region.name == "海州区"


def test_publicity_rules_task(plan):
    task = Task.objects.get(plan=plan, code="t4.6")
    lead = TaskAssignment.objects.get(task=task, role="lead")
    assert lead.unit.name == "市消防安全委员会"
    m = Milestone.objects.get(task=task)
    assert m.due_on == dt.date(2022, 12, 31)
    assert m.text == "市消防安全委员会制定消防宣传“五进”工作实施细则"
    growth = Target.objects.get(plan=plan, code="t-training-rate-growth")
    assert (growth.comparator, growth.target_value, growth.measure_unit) == (
        "increase_by",
        Decimal("20"),
        "%",
    )
    ops = Target.objects.get(plan=plan, code="t-operators-yearly")
    assert (ops.target_value, ops.attribute, ops.target_year) == (Decimal("500"), "expected", None)


def test_quake_team_stated_twice(plan):
    # 四（二） “建强1支轻型地震救援专业队” and 专栏6 “2023年底前，建成1支轻型地震救援队”
    t = Target.objects.get(plan=plan, code="t-quake-team")
    assert (t.task.code, t.target_value, t.target_year) == ("t4.2", Decimal("1"), 2023)
    m = Milestone.objects.get(target=t)
    assert m.source_text == "2023年底前，建成1支轻型地震救援队。"
    assert m.due_on == dt.date(2023, 12, 31)


def test_box_task_text_and_milestones(plan):
    task = Task.objects.get(plan=plan, code="b4.3")
    assert task.title == "应急通信“全域”保障能力建设"
    assert task.description.startswith("2022年，优化应急通信装备配备结构和布局")
    assert task.due_on == dt.date(2023, 12, 31)
    assert [m.due_on for m in Milestone.objects.filter(task=task).order_by("due_on")] == [
        dt.date(2022, 12, 31),
        dt.date(2023, 12, 31),
    ]
    t41 = Task.objects.get(plan=plan, code="t4.1")
    assert t41.description.count("\n") == 3  # four 小标题 paragraphs
    assert "2023年，全部乡镇街道完成消防文员派驻。" in t41.description
