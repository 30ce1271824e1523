"""The extraction rules one by one, on sentences written for the genre (not the seeds)."""

import datetime

import pytest

from plan_import.extract import (
    clause_dates,
    extract,
    milestones_of,
    plan_info,
    targets_of,
    units_of,
)
from plan_import.readers import text_lines

D = datetime.date


def test_dates():
    assert clause_dates("2022年6月底前，完成改造") == [D(2022, 6, 30)]
    assert clause_dates("2023年底前建成") == [D(2023, 12, 31)]
    assert clause_dates("2022—2023年，全面实施") == [D(2023, 12, 31)]
    assert clause_dates("年底前完成", year_hint=2024) == [D(2024, 12, 31)]


def test_a_deadline_and_a_second_milestone():
    found = milestones_of("2010年底前完成主体建设，并在2011年投入使用。", 2006, 2011)
    assert [m.due_on for m in found] == [D(2010, 12, 31), D(2011, 12, 31)]


def test_yearly_milestones_cover_the_period():
    found = milestones_of("每年开展一次消防安全检查评估。", 2021, 2023)
    assert [m.due_on for m in found if m.yearly] == [
        D(2021, 12, 31),
        D(2022, 12, 31),
        D(2023, 12, 31),
    ]


def test_plan_info_reads_chinese_dates_and_five_year_names():
    info = plan_info(
        [
            "某市人民政府办公室关于印发某市“十四五”消防救援事业发展规划的通知",
            "某政办发〔2022〕7号",
            "《某市“十四五”消防救援事业发展规划》已经市政府同意，现印发给你们。",
            "某市人民政府办公室",
            "二〇二二年三月九日",
        ]
    )
    assert info.title == "某市“十四五”消防救援事业发展规划"
    assert info.doc_number == "某政办发〔2022〕7号"
    assert info.issued_on == D(2022, 3, 9)
    assert (info.start_year, info.end_year) == (2021, 2025)
    assert info.issuer == "某市人民政府办公室"


def test_plan_period_from_the_title():
    info = plan_info(["某区消防安全三年行动计划（2024—2026年）"])
    assert (info.start_year, info.end_year) == (2024, 2026)


def test_units_lead_first_and_leaders_dropped():
    lead, support, _rest = units_of("（责任单位：市应急局、市消防救援支队、市财政局）", "")
    assert (lead, support) == (["市应急局"], ["市消防救援支队", "市财政局"])
    lead, support, _rest = units_of(
        "（牵头单位：市住建局；配合单位：市水务局、市消防救援支队）", ""
    )
    assert (lead, support) == (["市住建局"], ["市水务局", "市消防救援支队"])
    lead, support, _rest = units_of(
        "（责任单位及责任人：市公安局（主要领导）、市交通局（分管负责人））", ""
    )
    assert (lead, support) == (["市公安局"], ["市交通局"])


def test_unit_from_the_sentence_subject():
    lead, _support, _rest = units_of("加强消防水源建设", "水务部门负责市政消火栓建设。")
    assert lead == ["水务部门"]


def values(text, end_year=2025):
    return [(t[1], t[2], t[3], t[4]) for t in targets_of(text, None, end_year)]


def test_comparators():
    assert values("到2025年，消防站总数达到20个。") == [(20, "个", "gte", 2025)]
    assert values("火灾十万人口死亡率控制在0.2以内，建成率不低于95%。")[-1] == (
        95,
        "%",
        "gte",
        None,
    )
    assert values("响应时间不超过5分钟。") == [(5, "分钟", "lte", None)]
    assert values("较大火灾起数下降10%。") == [(10, "%", "reduce_by", None)]


def test_baselines_dates_doc_numbers_and_ordinals_are_not_targets():
    found = targets_of(
        "消防站由12个增至20个，按照某政办发〔2022〕15号要求，第3个站点2023年建成。", None, 2025
    )
    assert [(t[1], t[5]) for t in found] == [(20, 12)]
    assert values("“十三五”末现有消防员300人，“十四五”期间新增200人。") == [
        (200, "人", "gte", 2025)
    ]
    assert values("依据《乡镇消防队》（GB/T 35547—2017）标准建设。") == []


def test_indicator_tables_give_the_attribute():
    text = "\n".join(
        ["主要指标", "序号", "指标", "2025年", "属性", "1", "消防站覆盖率", "100%", "约束性"]
    )
    draft = extract(text_lines("某县消防规划（2021—2025年）\n" + text))
    table = [t for t in draft.targets if t.attribute]
    assert [(t.name, t.value, t.unit, t.attribute) for t in table] == [
        ("消防站覆盖率", 100, "%", "binding")
    ]


def test_a_small_plan_end_to_end():
    text = """某县消防救援能力提升行动计划（2024—2026年）
一、总体目标
到2026年，全县消防站达到6个。
二、重点任务
（一）加强消防站建设
1．新建城东消防站。2025年6月底前完成主体工程，2026年投入使用。（责任单位：县住建局、县消防救援大队）
2．配齐消防装备。每个消防站配备不少于2辆消防车。（牵头单位：县消防救援大队；配合单位：县财政局）
三、保障措施
（一）加强组织领导。各部门要高度重视。
"""
    draft = extract(text_lines(text))
    assert draft.plan.title == "某县消防救援能力提升行动计划（2024—2026年）"
    assert [(t.number, t.title, t.lead_units, t.support_units) for t in draft.tasks] == [
        ("1", "新建城东消防站", ["县住建局"], ["县消防救援大队"]),
        ("2", "配齐消防装备", ["县消防救援大队"], ["县财政局"]),
    ]
    assert [m.due_on for m in draft.tasks[0].milestones] == [D(2025, 6, 30), D(2026, 12, 31)]
    assert draft.tasks[0].due_on == D(2026, 12, 31)
    assert [(t.value, t.unit, t.year) for t in draft.targets] == [(6, "个", 2026), (2, "辆", None)]


def test_a_task_breakdown_workbook():
    import io

    from openpyxl import Workbook

    from plan_import.readers import read_document

    book = Workbook()
    sheet = book.active
    sheet.title = "任务分解"
    sheet.append(["某县消防安全三年行动计划（2024—2026年）重点任务分解表"])
    sheet.append(["序号", "重点任务", "具体内容", "牵头单位", "配合单位", "完成时限"])
    sheet.append(["一、基础设施"])
    sheet.append([1, "新建消防站", "新建二级消防站2个", "县住建局", "县消防救援大队", "2025年底前"])
    sheet.append(
        [2, None, "2026年6月底前建成小型站1个", None, "县财政局、县自然资源局", "2026年6月"]
    )
    buffer = io.BytesIO()
    book.save(buffer)
    draft = extract(read_document("分解表.xlsx", buffer.getvalue()))
    assert (draft.plan.start_year, draft.plan.end_year) == (2024, 2026)
    assert [s.title for s in draft.sections] == ["一、基础设施"]
    assert [(t.title, t.lead_units, t.support_units, t.due_on) for t in draft.tasks] == [
        ("新建消防站", ["县住建局"], ["县消防救援大队"], D(2025, 12, 31)),
        ("新建消防站", ["县住建局"], ["县财政局", "县自然资源局"], D(2026, 6, 30)),
    ]
    assert [(t.value, t.unit, t.year, t.task_ref) for t in draft.targets] == [
        (2, "个", 2025, "t1"),
        (1, "个", 2026, "t2"),
    ]


@pytest.mark.parametrize(
    "text",
    [
        "",
        "\n\n\n",
        "一、\n（一）\n1.\n专栏1\n附件",
        "2025年\n2025年\n约束性\n100%\n约束性",
        "第一章 总则\n第一章 总则\n" + "消防站达到9999999999999999999个。" * 3,
        "（责任单位：）（牵头单位：；配合单位：）",
        "每年" * 500,
    ],
)
def test_odd_documents_give_a_draft_not_an_error(text):
    draft = extract(text_lines(text))
    assert draft.as_json()["plan"]["title"] is not None


def test_ten_thousands_and_bare_counts():
    assert values("注册消防志愿者人数不少于2万人。") == [(20000, "人", "gte", None)]
    assert values("共1辆") == []
    assert values("中小学每学期开展1个课时的消防安全教育。") == [(1, "课时", "gte", None)]
    assert values("重点加强50米以上救援型举高消防车配备。") == []
    assert values("年均10万人口火灾死亡率") == []
