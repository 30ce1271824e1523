"""Seed plan 南阳市“十四五”消防救援事业发展规划: counts and spot checks against
002_9e26c680a75df4b2.txt (line numbers below refer to that file)."""

import datetime
from decimal import Decimal

import pytest

from core.models import Region, Unit
from planning.models import Plan, Section, Stage, Task, TaskAssignment
from stations.models import Station
from targets.models import Allocation, BaseFigure, FireStatistic, Milestone, Target

pytestmark = pytest.mark.django_db

CODE = "nanyang-2021-2025"
CITY = "南阳市"


@pytest.fixture
def plan(seeded):
    return Plan.objects.get(code=CODE)


def target(plan, code):
    return Target.objects.get(plan=plan, code=code)


def assignments(task):
    rows = TaskAssignment.objects.filter(task=task).order_by("order").select_related("unit")
    return [(a.unit.name, a.role) for a in rows]


def county(name):
    return Region.objects.get(name=name, parent__name=CITY)


# ------------------------------------------------------------------------------ counts


def test_plan_metadata(plan):
    # No cover page: issuer, 文号 and date are not stated. Period from line 3 "（2021—2025年）".
    assert plan.title == "南阳市“十四五”消防救援事业发展规划"
    assert plan.kind == "five_year"
    assert plan.status == "in_force"
    assert (plan.issuer, plan.doc_number, plan.issued_on) == ("", "", None)
    assert (plan.start_year, plan.end_year) == (2021, 2025)
    assert plan.region.path == "河南省/南阳市"
    assert plan.source_file == "002_9e26c680a75df4b2.txt"
    # line 3 names 《河南省“十四五”消防事业发展规划》 among the plan's bases
    assert plan.parent.code == "henan-2021-2025"
    assert plan.parent.status == "reference"
    assert plan.parent.region.path == "河南省"


def test_no_stages(plan):
    # the plan states no 实施步骤
    assert Stage.objects.filter(plan=plan).count() == 0


def test_plan_has_every_section(plan):
    # 第一章…第八章: 8 chapters (the 4th, "夯实消防基础保障" line 142, is printed without number).
    # 节: 第一章 3 (the 3rd, line 22, without "第三节"), 第二章 3, 第三章 5, 第四章 3, 第五章 7,
    # 第六章 4, 第七章 3, 第八章 3 = 31. 专栏1…专栏8 = 8. 附件1…附件3 = 3. 8 + 31 + 8 + 3 = 50.
    sections = Section.objects.filter(plan=plan)
    assert sections.count() == 50
    assert sections.filter(kind="chapter").count() == 8
    assert sections.filter(kind="section").count() == 31
    assert sections.filter(kind="box").count() == 8
    assert sections.filter(kind="annex").count() == 3
    assert sections.get(code="ch4").number == ""
    assert sections.get(code="box3").parent.code == "ch4.s2"


def test_plan_has_every_task(plan):
    # No numbered tasks in this plan. Tasks = headed paragraphs of 第三章–第四章
    # ("强化属地管理责任。…") + one task per single-paragraph 节 of 第五章–第七章 + every 专栏 item.
    # 第三章: 节一 4, 节二 5, 节三 3, 节四 4, 节五 4 = 20 paragraphs; 专栏1 4 + 专栏2 5 → 29.
    # 第四章: 节一 2, 节二 4, 节三 3 = 9; 专栏3 3 → 12.
    # 第五章: 7 节 paragraphs; 专栏4 4 + 专栏5 2 + 专栏6 5 + 专栏7 3 → 21.
    # 第六章: 4 节 paragraphs; 专栏8 7 → 11.   第七章: 3 节 paragraphs → 3.   Total 76.
    tasks = Task.objects.filter(plan=plan)
    assert tasks.count() == 76
    assert tasks.filter(section__kind="box").count() == 4 + 5 + 3 + 4 + 2 + 5 + 3 + 7
    for chapter, count in {"ch3": 29, "ch4": 12, "ch5": 21, "ch6": 11, "ch7": 3}.items():
        in_sections = tasks.filter(section__parent__code=chapter).count()
        in_boxes = tasks.filter(section__parent__parent__code=chapter).count()
        assert in_sections + in_boxes == count, chapter


def test_task_assignments(plan):
    # The plan prints no 责任单位; units are the bodies each task text names as its actor:
    # t3.1.1 1, t3.1.2 1, t3.1.3 3, t3.2.5 2, b2.2 1, b2.3 2, b2.5 5, t3.4.2 3, t3.4.3 1,
    # t4.2.3 6, b3.2 2, t4.3.1 4, t5.1.1 1, t5.2.1 1, b6.1 1, b7.2 1, t6.1.1 4 (cooperation
    # partners, all support), t7.3.1 4 = 43; a lead (first named) in 17 tasks.
    rows = TaskAssignment.objects.filter(task__plan=plan)
    assert rows.count() == 43
    assert rows.filter(role="lead").count() == 17
    assert Task.objects.filter(plan=plan, assignments__isnull=False).distinct().count() == 18


def test_units(plan):
    # 37 bodies named as actors in the tasks + 6 named only in 第八章 保障措施
    # (市政府, 各地, 发展改革部门, 自然资源与规划部门, 住房城乡建设, 财政部门) = 43.
    units = Unit.objects.filter(region=plan.region)
    assert units.count() == 43
    # collective 15: 各级政府, 各行业部门, 地方党委政府, 乡镇政府, 县级政府, 村委会,
    # 乡镇政府综合执法队伍, 当地人民政府, 各县市区, 各级党校, 各有关部门, 各县（市、区）,
    # 各县（区、市）, 各职能部门, 各地. fire_rescue 6: 消防救援机构, 专职消防队, 消防部门,
    # 消防机构, 消防救援部门, 各市级消防救援支队.
    assert units.filter(kind="collective").count() == 15
    assert units.filter(kind="fire_rescue").count() == 6
    assert units.filter(kind="department").count() == 13
    assert units.get(name="市政府").kind == "government"


def test_regions(plan):
    # 13 county-level regions of annex 1 (卧龙区 … 邓州市) + 信阳市/固始县 (line 10).
    assert Region.objects.filter(parent=plan.region).count() == 13
    assert county("邓州市").level == "district"
    assert Region.objects.get(name="固始县", parent__name="信阳市").path == "河南省/信阳市/固始县"


def test_targets(plan):
    # 专栏1 4, 专栏2 2, 第四章第二节 4 (1+1+N ×2, 24 new, 62 total), 专栏3 5, 第四章第三节 8
    # (4 课时, 1 演练, 1+17 科普基地, 17 公园, 60 示范街, 志愿者 1万 and 20万), 专栏4 2,
    # 第五章第二节 3 (300, 930, 1200), 专栏5 1, 专栏6 15, 第五章第六节 5, 专栏7 3,
    # 第七章第二节 5 (100, 30, 70, 700, 500) = 57.
    targets = Target.objects.filter(plan=plan)
    assert targets.count() == 57
    # 36 targets sit in sentences without a year (mostly 专栏 items): target_year stays null
    assert targets.filter(target_year__isnull=True).count() == 36
    assert targets.filter(target_year=2025).count() == 21


def test_milestones(plan):
    # No target has yearly values; 14 dated qualitative steps on tasks:
    # t4.1.1 2021, t4.2.1 2025, t4.2.2 2025 (训练基地), b3.3 2022+2025, b5.1 2022+2023,
    # b8.2 2021, b8.3 2021/2022/2023/2025, t7.1.1 2025, t7.2.1 2021.
    milestones = Milestone.objects.filter(plan=plan)
    assert milestones.filter(target__isnull=False).count() == 0
    assert milestones.filter(task__isnull=False).count() == 14
    assert not milestones.filter(due_on__year__gt=2025).exists()


def test_allocations(plan):
    # annex 1 合计 column 13 + 全国重点镇 column 13 + 二级站 column 2; annex 2 5; annex 3 3 = 36.
    assert Allocation.objects.filter(target__plan=plan).count() == 36


def test_register_and_figures(plan):
    # annex 2: 5 old stations; annex 3: 3 indoor training halls
    assert Station.objects.filter(plan=plan).count() == 8
    assert Station.objects.filter(plan=plan, station_class="training").count() == 3
    # no fire statistics table in this plan
    assert FireStatistic.objects.filter(plan=plan).count() == 0
    # line 11: 消防站总数38, 新建改建21, 新招队员609, 消防车51, 装备器材3.7万, 消火栓水鹤2445
    assert BaseFigure.objects.filter(plan=plan).count() == 6


# ------------------------------------------------------------------------------ spot checks


def test_station_totals_baseline_to_target(plan):
    total = target(plan, "tg-stations-total")
    assert (total.measure, total.comparator, total.measure_unit) == ("level", "gte", "个")
    assert total.target_value == Decimal("62")
    assert (total.baseline_value, total.baseline_year, total.target_year) == (
        Decimal("38"),
        2020,
        2025,
    )
    new = target(plan, "tg-new-stations")
    assert (new.measure, new.target_value, new.target_year) == ("increment", Decimal("24"), 2025)
    assert new.task.code == "t4.2.2"
    assert "总数达到62个" in new.source_text


def test_annex1_allocations_fall_short_of_the_stated_totals(plan):
    # annex 1 has no totals row; its columns sum to 20 (合计) and 18 (全国重点镇), not 24 and 22
    new = target(plan, "tg-new-stations")
    assert sum(a.value for a in new.allocations.all()) == Decimal("20")
    assert new.allocations.get(region=county("镇平县")).value == Decimal("2")
    assert new.allocations.get(region=county("邓州市")).source_text == (
        "13 | 邓州市 |  |  |  |  |  | 3 |  | 3"
    )
    key_town = target(plan, "tg-b3-key-town")
    assert key_town.target_value == Decimal("22")
    assert sum(a.value for a in key_town.allocations.all()) == Decimal("18")
    class2 = target(plan, "tg-b3-class2")
    assert {a.region.name: a.value for a in class2.allocations.all()} == {
        "镇平县": Decimal("1"),
        "唐河县": Decimal("1"),
    }


def test_volunteer_contradiction_kept_as_two_targets(plan):
    low = target(plan, "tg-volunteers-10k")
    high = target(plan, "tg-volunteers-200k")
    assert low.name == high.name == "注册消防志愿者人数"
    assert (low.target_value, high.target_value) == (Decimal("10000"), Decimal("200000"))
    assert low.target_year == high.target_year == 2025
    assert low.source_text.endswith("全市注册消防志愿者人数不少于1万人。")
    assert high.source_text.endswith("全市注册消防志愿者人数不少于20万人。")


def test_fulltime_firefighters(plan):
    new = target(plan, "tg-fulltime-new")
    total = target(plan, "tg-fulltime-total")
    assert (new.target_value, new.measure) == (Decimal("300"), "increment")
    assert (total.target_value, total.measure, total.measure_unit) == (
        Decimal("930"),
        "level",
        "人",
    )
    assert total.baseline_value is None  # 630 is only implied (930 − 300), never printed
    micro = target(plan, "tg-micro-volunteer-new")
    assert (micro.target_value, micro.measure_unit) == (Decimal("1200"), "支")


def test_ratio_and_expected_targets(plan):
    village = target(plan, "tg-b2-village-volunteer")
    assert (village.measure, village.measure_unit, village.target_value) == (
        "ratio",
        "%",
        Decimal("50"),
    )
    assert village.section.code == "box2"
    cert = target(plan, "tg-skill-cert")
    assert (cert.target_value, cert.attribute, cert.target_year) == (
        Decimal("700"),
        "expected",
        2025,
    )
    reserve = target(plan, "tg-b7-ppe-reserve")
    assert (reserve.comparator, reserve.measure_unit, reserve.target_value) == (
        "eq",
        "人/年",
        Decimal("150"),
    )


def test_old_stations_with_in_service_dates(plan):
    old = Station.objects.get(plan=plan, code="st-old-1")
    assert old.name == "南阳市卧龙区建设路消防站"
    assert old.region == county("卧龙区")
    assert old.in_service_on == datetime.date(1958, 5, 1)
    assert (old.status, old.build_type) == ("in_service", "upgrade")
    assert Station.objects.get(plan=plan, code="st-old-5").in_service_on == datetime.date(
        1995, 10, 1
    )
    assert sum(a.value for a in target(plan, "tg-b3-old-stations").allocations.all()) == 5


def test_training_halls(plan):
    halls = Station.objects.filter(plan=plan, station_class="training").order_by("code")
    assert [h.region.name for h in halls] == ["邓州市", "内乡县", "西峡县"]
    assert halls[0].name == "南阳市邓州市南一环路消防站"
    assert target(plan, "tg-b5-indoor-halls").target_value == Decimal("3")


def test_smart_fire_milestones(plan):
    task = Task.objects.get(plan=plan, code="b8.3")
    assert task.title == "“智慧消防”建设"
    assert task.due_on == datetime.date(2025, 12, 31)
    steps = list(task.milestones.order_by("due_on"))
    assert [m.due_on for m in steps] == [
        datetime.date(2021, 12, 31),
        datetime.date(2022, 12, 31),
        datetime.date(2023, 12, 31),
        datetime.date(2025, 12, 31),
    ]
    assert steps[0].text == "制定新型“智慧消防”建设方案"
    assert steps[-1].source_text == "2025年新型“智慧消防”整体运行。"
    assert all(m.planned_value is None for m in steps)


def test_hydrants_and_training_base_steps(plan):
    hydrants = target(plan, "tg-b3-hydrants")
    assert (hydrants.target_value, hydrants.comparator, hydrants.target_year) == (
        Decimal("2500"),
        "gte",
        2025,
    )
    task = Task.objects.get(plan=plan, code="b3.3")
    assert [(m.due_on, m.text) for m in task.milestones.order_by("due_on")] == [
        (datetime.date(2022, 12, 31), "完成补建任务"),
        (datetime.date(2025, 12, 31), "完成新建任务"),
    ]
    base = Task.objects.get(plan=plan, code="b5.1")
    assert [m.due_on.year for m in base.milestones.order_by("due_on")] == [2022, 2023]


def test_lead_units(plan):
    assert assignments(Task.objects.get(plan=plan, code="b2.3")) == [
        ("乡镇政府", "lead"),
        ("县级政府", "support"),
    ]
    assert assignments(Task.objects.get(plan=plan, code="t3.2.5")) == [
        ("消防救援机构", "lead"),
        ("公安机关", "support"),
    ]
    assert Unit.objects.get(region=plan.region, name="各县（市、区）").kind == "collective"


def test_base_figures(plan):
    city = plan.region
    assert BaseFigure.objects.get(region=city, year=2020, name="消防站总数").value == Decimal("38")
    kit = BaseFigure.objects.get(region=city, year=2020, name="“十三五”期间购置各类装备器材")
    assert (kit.value, kit.measure_unit) == (Decimal("37000"), "件（套）")
    assert "3.7万件（套）" in kit.source_text
