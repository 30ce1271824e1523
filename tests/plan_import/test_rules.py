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


def test_an_item_heading_is_the_task_unless_each_paragraph_names_its_units():
    text = """某市消防救援事业发展规划（2021—2025年）
第三章 主要任务
（一）强化消防安全治理
健全责任体系。落实消防安全责任制，建立考评机制。
提升监管能力。推进智慧监管建设。
（二）提升救援能力
建强专业队伍。组建水域救援专业队。（责任单位：市消防救援支队）
完善装备体系。配备抢险救援装备。（责任单位：市财政局、市消防救援支队）
"""
    draft = extract(text_lines(text))
    assert [(t.title, t.lead_units) for t in draft.tasks] == [
        ("强化消防安全治理", []),  # its paragraphs name no units: they are its text
        ("建强专业队伍", ["市消防救援支队"]),
        ("完善装备体系", ["市财政局"]),
    ]


def test_a_heading_over_numbered_items_is_not_a_task():
    text = """某区消防工作三年行动计划（2024—2026年）
三、重点任务
（一）聚焦基层，提升治理能力。围绕基层短板开展工作。
1．健全网格管理。完善网格员队伍。（责任单位：各街道）
2．整治火灾隐患。开展专项整治。（责任单位：区消防救援大队）
"""
    draft = extract(text_lines(text))
    assert [t.title for t in draft.tasks] == ["健全网格管理", "整治火灾隐患"]


def test_an_annex_task_list_read_cell_by_cell():
    text = """某区消防工作三年行动计划（2024—2026年）
一、提升基层治理能力
（一）强化网格管理。落实网格员。
附件
重点工作任务清单
\t工作任务
\t责任单位
\t提升基层治理能力
\t建立健全网格
管理机制
\t各街道配齐网格员，每月开展一次巡查。
\t区消防救援大队
各街道
\t
\t完善奖惩制度，将网格巡查纳入考核。
\t区委编办
\t新建小型消防站
\t2025年底前新建小型消防站3个。
\t区应急管理局
区财政局
"""
    draft = extract(text_lines(text))
    annex = [t for t in draft.tasks if "|" in t.source_text]
    assert [(t.title, t.lead_units, t.support_units) for t in annex] == [
        ("建立健全网格管理机制", ["区消防救援大队"], ["各街道"]),
        ("建立健全网格管理机制", ["区委编办"], []),  # an empty title cell: merged above
        ("新建小型消防站", ["区应急管理局"], ["区财政局"]),
    ]
    assert "提升基层治理能力" in [s.title for s in draft.sections if s.parent_ref]
    assert (3, "个", 2025) in [(t.value, t.unit, t.year) for t in draft.targets]


def test_counts_implied_by_listed_names():
    assert values("2023年底，建设专常兼备的地震救援专业队、水域救援专业队和供水专业队。") == [
        (3, "支", "eq", 2023)
    ]
    assert values("“十四五”期间，东街、西街消防站迁址重建。") == [(2, "个", "eq", 2025)]
    # strengthening teams that exist, or teams the text only names, is not a count
    assert values("进一步建强高层建筑专业队、地下建筑专业队。") == []
    assert values("将专职消防队、志愿消防队等纳入调度。") == []
    assert values("按照“一镇一队”目标推进建设。") == [(1, "队/镇", "gte", None)]


def test_visions_and_properties_are_not_counts():
    assert values("建设1支对党忠诚、纪律严明的消防救援队伍。") == []
    assert values("配备1套不少于1公里的远程供水系统。") == [(1, "套", "gte", None)]
    assert values("5年计划新增灭火剂90余吨。") == [(90, "吨", "gte", None)]


def test_quantity_cells_of_a_box_and_year_rows_of_an_annex():
    text = """某市消防救援事业发展规划（2021—2025年）
第三章 主要任务
（一）提升装备水平
更新老旧装备。到2025年，全市共新增市政消火栓90个。
\t专栏1 装备配备任务
\t消防车（辆）
\t器材装备（件套）

\t12
\t3000
附表1 市政消火栓建设计划
\t2024年
\t全市新建市政消火栓40个
\t2025年
\t全市新建市政消火栓50个
"""
    draft = extract(text_lines(text))
    assert {(t.name, t.value, t.unit) for t in draft.targets} >= {
        ("消防车", 12, "辆"),
        ("器材装备", 3000, "件套"),
    }
    hydrants = next(t for t in draft.targets if t.value == 90)
    assert [(m.due_on, m.value) for m in hydrants.milestones] == [
        (D(2024, 12, 31), 40),
        (D(2025, 12, 31), 50),
    ]
    assert not [t for t in draft.targets if t.value in (40, 50)]
    assert not [t for t in draft.tasks if "消防车" in t.title]


def test_an_indicator_row_number_is_not_its_value():
    text = "\n".join(
        ["主要指标", "序号", "指标", "目标", "属性", "2", "较大火灾起数", "下降10%", "预期性"]
    )
    draft = extract(text_lines("某县消防规划（2021—2025年）\n" + text))
    assert [(t.name, t.value, t.unit, t.comparator) for t in draft.targets if t.attribute] == [
        ("较大火灾起数", 10, "%", "reduce_by")
    ]
