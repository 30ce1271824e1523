"""Seed plan 连州市消防工作“十四五”规划（征求意见稿）: counts and spot checks against
004_9607910c6e7977de.txt."""

import datetime as dt
from decimal import Decimal

import pytest

from core.models import Region, Unit
from planning.models import Plan, Section, Stage, Task, TaskAssignment
from stations.models import Station
from targets.models import Allocation, BaseFigure, FireStatistic, Milestone, Target

pytestmark = pytest.mark.django_db

CITY = "连州市"


@pytest.fixture
def plan(seeded):
    return Plan.objects.get(code="lianzhou-2021-2025")


# --------------------------------------------------------------------------- counts


def test_plan_metadata(plan):
    assert plan.title == "连州市消防工作“十四五”规划（征求意见稿）"
    assert plan.kind == "five_year"
    assert plan.status == "draft"  # 征求意见稿
    assert plan.issuer == "连州市消防救援大队"
    assert plan.doc_number == ""  # no 文号 in a 征求意见稿
    assert plan.issued_on is None  # cover says only 2021年9月
    assert (plan.start_year, plan.end_year) == (2021, 2025)
    assert plan.region.name == CITY
    # 《清远市消防工作“十四五”规划》 is named as the basis → parent reference row
    assert plan.parent.title == "清远市消防工作“十四五”规划"


def test_section_count(plan):
    # 第一章 (1) + 3 节 + 第一节 items 1、–6、 (6) + 第二节 items 1、–7、 (7) = 17
    # 第二章 (1) + 3 节 = 4; 第三章 (1) + 7 节 = 8; 第四章 (1) + 4 节 = 5
    # 附表：…重大建设项目表 (1) + 附表 1–4 (4) = 5                          → 39
    assert Section.objects.filter(plan=plan).count() == 39
    ch3 = Section.objects.get(plan=plan, code="ch3")
    assert Section.objects.filter(plan=plan, parent=ch3).count() == 7
    assert Section.objects.filter(plan=plan, kind="annex").count() == 5
    assert Section.objects.filter(plan=plan, kind="chapter").count() == 4


def test_plan_has_every_numbered_task(plan):
    # 第三章 主要任务, 第一节–第七节: tasks numbered 1.–29. (same list as the 目录);
    # annex table rows are milestones, not tasks.
    assert Task.objects.filter(plan=plan).count() == 29
    per_section = {
        "ch3.s1": 4,
        "ch3.s2": 5,
        "ch3.s3": 5,
        "ch3.s4": 5,
        "ch3.s5": 3,
        "ch3.s6": 4,
        "ch3.s7": 3,
    }
    for code, n in per_section.items():
        assert Task.objects.filter(plan=plan, section__code=code).count() == n, code


def test_task_assignment_count(plan):
    # No 责任单位 lines in this plan; only actors a task's text charges with something:
    # t3 各行业部门 (1); t7 镇（乡）综合行政执法办公室…, 市消防救援大队 (2); t8 各级执法单位 (1);
    # t12 发展改革/规划/水务/消防部门, 供水单位, 市人民政府 (6); t23 各级政府, 行业主管部门 (2);
    # t24 镇（乡）教育主管部门 (1); t26 各级政府, 卫健部门 (2)                      → 15
    assert TaskAssignment.objects.filter(task__plan=plan).count() == 15
    assert TaskAssignment.objects.filter(task__plan=plan, role="lead").count() == 8


def test_target_count(plan):
    # 主要指标表: 5; 分项目标: 四个能力100%, 培训率100%, 教育率90%, 一县一场所, 知晓率95% (5);
    # t6 执法装备7套, t7 消防文员6人 (2); t12 消火栓约190, 保护半径150米, 间距120米, 完好率100% (4);
    # t16 新建6个镇专职队, 一镇一队, 48名队员, 微型消防站100% (4);
    # t20 战勤达标率100%, 8类模块, 每季度至少一次演练 (3); t24 志愿者2万人次 (1); t25 认证60% (1);
    # 附表1 车辆数, 车辆金额 (2); 附表4 一套语音自组网设备 (1)                      → 28
    assert Target.objects.filter(plan=plan).count() == 28
    assert Target.objects.filter(plan=plan, attribute="binding").count() == 1
    assert Target.objects.filter(plan=plan, attribute="expected").count() == 4


def test_milestone_counts(plan):
    # target milestones: 附表3 hydrants 5; 附表2 town brigades 6 (one per town: 1+2+1+2);
    # t25 2023年前 30% (1); 附表1 vehicles 2021–2025 (5) and amounts 2021–2023 (3)   → 20
    assert Milestone.objects.filter(plan=plan, target__isnull=False).count() == 20
    # task milestones: t8 2025年前 配齐配强火灾事故调查装备 (1);
    # 附表4 rows 1,5 → t17 (2), rows 2–4 → t29 (3)                                   → 6
    assert Milestone.objects.filter(plan=plan, task__isnull=False).count() == 6
    assert Milestone.objects.filter(plan=plan).count() == 26


def test_allocation_station_unit_counts(plan):
    # 附表2: one new brigade for each of the 6 towns named
    assert Allocation.objects.filter(target__plan=plan).count() == 6
    assert Station.objects.filter(plan=plan).count() == 6
    # units: 14 named in 第三章 tasks + 市政府, 市政府相关部门, 各级规划行政主管部门 (第四章) → 17
    assert Unit.objects.filter(region__name=CITY).count() == 17
    assert Unit.objects.filter(region__name=CITY, kind="collective").count() == 8
    # 2 stages: 2023年 中期评估, “十四五”期末 检查验收
    assert Stage.objects.filter(plan=plan).count() == 2


def test_region_count(plan):
    # 广东省, 清远市, 连州市 + 6 towns of 附表2
    towns = {"九陂镇", "保安镇", "丰阳镇", "三水乡", "龙坪镇", "大路边镇"}
    assert set(Region.objects.filter(parent__name=CITY).values_list("name", flat=True)) == towns


def test_fire_statistics_and_base_figure_counts(plan):
    # “十三五”期间全市火灾基本情况 table: 2016–2020 (合计 row not stored)
    assert FireStatistic.objects.filter(region__name=CITY).count() == 5
    # 第一章第一节: 18 counts/levels (grids, 网格员, micro stations 48 and 80, hydrants 400/400/533,
    # stations 80 and 5, brigades 4/4, 专职队员 32/15, 干部 7, 消防员 13, 讲师团 6,
    # 示范单位 6, 知晓率 100%)
    assert BaseFigure.objects.filter(region__name=CITY).count() == 18
    assert BaseFigure.objects.filter(region__name=CITY).exclude(year=2020).count() == 0


# --------------------------------------------------------------------------- spot checks


def test_fire_death_rate_indicator(plan):
    t = Target.objects.get(plan=plan, code="k-fire-death-rate")
    assert t.name == "年均10万人口火灾死亡率"
    assert t.target_value == Decimal("0.15")
    assert t.comparator == "lte"
    assert t.measure == "rate"
    assert t.attribute == "binding"
    assert t.target_year == 2025
    assert t.formula == "avg(deaths / population * 100000)"
    assert "≤0.15" in t.source_text and "约束性" in t.source_text


def test_other_key_indicators(plan):
    share = Target.objects.get(plan=plan, code="k-major-fire-share")
    assert (share.comparator, share.target_value, share.attribute) == (
        "reduce_by",
        Decimal("10"),
        "expected",
    )
    staff = Target.objects.get(plan=plan, code="k-fulltime-ratio")
    assert (staff.comparator, staff.target_value, staff.measure_unit) == (
        "gte",
        Decimal("0.45"),
        "‰",
    )
    st = Target.objects.get(plan=plan, code="k-stations-per-100k")
    assert (st.comparator, st.target_value) == ("gte", Decimal("1.7"))
    eq = Target.objects.get(plan=plan, code="k-equip-compliance")
    assert (eq.target_value, eq.measure_unit, eq.attribute) == (Decimal("100"), "%", "expected")


def test_hydrants_target_and_yearly_milestones(plan):
    t = Target.objects.get(plan=plan, code="t-hydrants")
    assert t.task.code == "t12"
    assert (t.measure, t.target_value, t.target_year, t.measure_unit) == (
        "increment",
        Decimal("190"),
        2025,
        "个",
    )
    ms = list(Milestone.objects.filter(target=t).order_by("due_on"))
    assert [m.planned_value for m in ms] == [Decimal(v) for v in (20, 30, 40, 50, 50)]
    assert [m.due_on for m in ms] == [dt.date(y, 12, 31) for y in range(2021, 2026)]
    assert not any(m.is_cumulative for m in ms)
    assert sum(m.planned_value for m in ms) == t.target_value
    assert ms[2].source_text == "3 | 2023 年 | 全市新建市政消火栓 40 个"


def test_town_brigades_by_year_and_town(plan):
    t = Target.objects.get(plan=plan, code="t-town-brigades")
    assert t.target_value == Decimal("6") and t.target_year is None  # sentence states no year
    by_town = {m.region.name: m.due_on for m in Milestone.objects.filter(target=t)}
    assert by_town == {
        "九陂镇": dt.date(2022, 12, 31),
        "保安镇": dt.date(2023, 12, 31),
        "丰阳镇": dt.date(2023, 12, 31),
        "三水乡": dt.date(2024, 12, 31),
        "龙坪镇": dt.date(2025, 12, 31),
        "大路边镇": dt.date(2025, 12, 31),
    }
    assert sum(a.value for a in Allocation.objects.filter(target=t)) == Decimal("6")
    s = Station.objects.get(plan=plan, name="三水乡政府专职消防队")
    assert (s.planned_year, s.status, s.force_type, s.station_class) == (
        2024,
        "planned",
        "government_fulltime",
        "township",
    )


def test_certified_share_and_volunteers(plan):
    t = Target.objects.get(plan=plan, code="t-certified-share")
    assert (t.target_value, t.target_year, t.comparator) == (Decimal("60"), 2025, "gte")
    m = Milestone.objects.get(target=t)
    assert (m.due_on, m.planned_value) == (dt.date(2023, 12, 31), Decimal("30"))
    v = Target.objects.get(plan=plan, code="t-volunteers")
    assert (v.target_value, v.measure_unit, v.target_year) == (Decimal("2"), "万人次", 2025)
    clerks = Target.objects.get(plan=plan, code="t-fire-clerks")
    assert (clerks.target_value, clerks.measure_unit, clerks.task.code) == (
        Decimal("6"),
        "人",
        "t7",
    )


def test_vehicle_purchases_by_year(plan):
    t = Target.objects.get(plan=plan, code="t-vehicles")
    assert t.target_value is None  # 附表1 states no total
    ms = list(Milestone.objects.filter(target=t).order_by("due_on"))
    assert [m.planned_value for m in ms[:3]] == [Decimal("1")] * 3
    assert [m.text for m in ms[:3]] == [
        "远程供水系统",
        "多功能主战消防车",
        "32 米登高平台消防车（1 辆）",
    ]
    assert ms[3].planned_value is None and "清远市消防救援支队灭火救援装备建设规划" in ms[3].text
    amounts = Milestone.objects.filter(target__code="t-vehicle-amount", plan=plan).order_by(
        "due_on"
    )
    assert [m.planned_value for m in amounts] == [Decimal("450"), Decimal("240"), Decimal("300")]


def test_smart_platform_milestones(plan):
    t29 = Milestone.objects.filter(plan=plan, task__code="t29").order_by("due_on")
    assert [m.due_on.year for m in t29] == [2022, 2023, 2024]
    assert t29[0].text == "配备一套语音自组网设备。"
    t17 = Milestone.objects.filter(plan=plan, task__code="t17").order_by("due_on")
    assert [m.due_on.year for m in t17] == [2021, 2025]
    assert "多种形式消防救援指挥调度平台" in t17[1].text


def test_fire_statistics_rows(plan):
    rows = {f.year: f for f in FireStatistic.objects.filter(region__name=CITY)}
    assert sorted(rows) == [2016, 2017, 2018, 2019, 2020]
    assert (rows[2018].fires, rows[2018].deaths, rows[2018].injuries) == (88, 3, 0)
    assert rows[2020].direct_loss_10k_yuan == Decimal("863")
    # 合计 705 起 / 3 人 / 1271 万元 as printed in the table and in 第二节
    assert sum(r.fires for r in rows.values()) == 705
    assert sum(r.direct_loss_10k_yuan for r in rows.values()) == Decimal("1271")


def test_base_figures_keep_both_station_statements(plan):
    bf = {b.name: b for b in BaseFigure.objects.filter(region__name=CITY, year=2020)}
    assert bf["市政消火栓"].value == Decimal("533")
    # the text contradicts itself: 新建消防站80个 vs 消防站总数达到5个 — both kept
    assert bf["“十三五”期间新建消防站（含小型消防站）"].value == Decimal("80")
    assert bf["消防站（含政府专职消防队）"].value == Decimal("5")
    assert bf["政府专职消防队员"].value == Decimal("15")
    assert bf["“十三五”期间新增政府专职消防队员"].value == Decimal("32")


def test_responsible_units(plan):
    t12 = Task.objects.get(plan=plan, code="t12")
    lead = TaskAssignment.objects.get(task=t12, role="lead")
    assert lead.unit.name == "水务部门"  # 由水务部门牵头制订天然水源取水点的管理办法
    assert Unit.objects.get(name="各级政府", region__name=CITY).kind == "collective"
    t16 = Task.objects.get(plan=plan, code="t16")
    assert t16.title == "壮大多种形式队伍"
    assert "新建 6 个镇（乡）专职消防队，配齐 48名镇（乡）政府专职消防队员" in t16.description


def test_stage_dates(plan):
    assert Stage.objects.get(plan=plan, name="中期评估").ends_on == dt.date(2023, 12, 31)
    assert Stage.objects.get(plan=plan, name="检查验收").ends_on == dt.date(2025, 12, 31)
