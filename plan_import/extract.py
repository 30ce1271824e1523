"""Rule-based extraction of a plan draft from the lines of a document.

The rules are written for the genre (Chinese 规划 / 行动计划 / 实施方案 texts), not for any
one document; each is a small function that can be read on its own:

- ``plan_info``: title from the first 《…规划/计划/方案》 or a title-like line, issuer,
  文号 (X〔2022〕15号), issue date (2021年12月14日 or 二〇二一年十二月十四日), period
  (（2021—2023年）, “十四五”).
- ``Outline``: heading numbering 第一章 / 第一节 / 一、 / （一） / 1. / （1） / 专栏N / 附件N;
  the level of each style is learnt from the order it appears in (a style seen for the first
  time under another is its child).
- tasks: in chapters that carry work (not 指导思想/原则/目标/现状/保障措施…), every numbered
  item with its own text or without numbered children, every paragraph that opens with a
  short title sentence (强化属地管理责任。…), and every row of a 专栏 (a short name line, then
  its content lines); units from （责任单位：…） / 牵头单位：…；配合单位：… clauses, else from
  the sentence subject (各级政府要… / 水务部门负责…).
- targets: every number with a unit of count or ratio in a forward-looking chapter, with its
  comparator, year and baseline; numbers that are dates, 文号, ordinals, standard codes,
  baselines (由 X 增至 Y, 现有 X, “十三五”末 X) are not targets; indicator-table rows
  (value followed by 约束性/预期性) give the attribute.
- milestones: dated clauses inside a task (2022年6月底前 → 2022-06-30, 2023年底 →
  2023-12-31, 2022—2023年 → 2023-12-31); 每年 → a yearly milestone at each year's end.
"""

from __future__ import annotations

import calendar
import datetime
import difflib
import functools
import re
from collections.abc import Iterable

from django.utils.translation import gettext as _

from plan_import.draft import (
    Draft,
    DraftMilestone,
    DraftSection,
    DraftStation,
    DraftTarget,
    DraftTask,
    Finding,
    PlanInfo,
)
from plan_import.readers import Line

CN_DIGITS = "〇零一二三四五六七八九十百"
_FULLWIDTH = str.maketrans("０１２３４５６７８９．％：，；（）", "0123456789.%:,;()")
_BOOKMARK = re.compile(r"^\[bookmark:[^\]]*\]")
_SPACE = re.compile(r"[\s\u3000\xa0\ufeff]+")


def clean(text: str) -> str:
    """One line as the rules read it: no bookmarks, no spaces (Chinese has none; stray
    spaces inside numbers come from PDF/Word extraction), full-width digits made ASCII."""
    text = _BOOKMARK.sub("", text.strip())
    text = text.translate(str.maketrans("０１２３４５６７８９％", "0123456789%"))
    # keep one space between two latin letters/digits only
    return _SPACE.sub(lambda m: "", text)


# ------------------------------------------------------------------------------ numbers


def cn_number(text: str) -> int | None:
    """二〇二一 → 2021 (digit by digit), 十二 → 12 (cn2an), 14 → 14."""
    if text.isdigit():
        return int(text)
    if all(ch in "〇零一二三四五六七八九" for ch in text) and len(text) >= 3:
        return int(
            "".join(str("〇一二三四五六七八九".index("〇" if c == "零" else c)) for c in text)
        )
    try:
        import cn2an

        return int(cn2an.cn2an(text, "smart"))
    except (ValueError, KeyError, ImportError):
        return None


def five_year_period(ordinal: int) -> tuple[int, int]:
    """“十四五” → (2021, 2025): the third five-year plan began in 1966, every one since
    lasts five years."""
    start = 1966 + 5 * (ordinal - 3)
    return start, start + 4


def end_of_month(year: int, month: int) -> datetime.date:
    return datetime.date(year, month, calendar.monthrange(year, month)[1])


# ------------------------------------------------------------------------------ plan info

_TITLE_QUOTED = re.compile(r"《([^《》]{4,80}?(?:规划|计划|方案|纲要)(?:（[^）]*）)?)》")
_TITLE_LINE = re.compile(r"^[^《》，。；]{4,80}?(?:规划|计划|方案|纲要)(?:（[^）]*）)?$")
_DOC_NUMBER = re.compile(r"[\u4e00-\u9fa5]{1,10}〔\d{4}〕\d{1,4}号")
_DATE = re.compile(
    r"^(\d{4}|[〇零一二三四五六七八九]{4})年(\d{1,2}|[一二三四五六七八九十]{1,3})月"
    r"(?:(\d{1,2}|[一二三四五六七八九十]{1,3})日)?$"
)
_ISSUER = re.compile(
    r"^[\u4e00-\u9fa5]{2,30}(?:人民政府办公厅|人民政府办公室|人民政府|委员会|消防救援支队|"
    r"消防救援大队|办公室|管理局|应急管理局)$"
)
_ISSUER_IN_NOTICE = re.compile(r"^([\u4e00-\u9fa5]{2,30}?)关于印发")
_PERIOD = re.compile(r"(\d{4})[—–\-~～至到](\d{4})年")
_FIVE_YEAR = re.compile(r"“?十([一二三四五六七八九])五”?")


def plan_info(lines: list[str]) -> PlanInfo:
    info = PlanInfo()
    head = [line for line in lines[:80] if line]
    for line in head[:40]:
        found = _TITLE_QUOTED.search(line)
        if found:
            info.title, info.source_text = found.group(1), line
            break
    if not info.title:
        for line in head[:20]:
            if _TITLE_LINE.match(line) and not line.startswith("关于"):
                info.title, info.source_text = line, line
                break
    for line in head[:15]:
        found = _DOC_NUMBER.search(line)
        if found:
            info.doc_number = found.group(0)
            break
    for line in head[:40]:
        notice = _ISSUER_IN_NOTICE.match(line)
        if notice and not info.issuer:
            info.issuer = notice.group(1)
        if _ISSUER.match(line) and not info.issuer:
            info.issuer = line
        found = _DATE.match(line)
        if found and found.group(3) and not info.issued_on:
            year, month, day = (cn_number(part) for part in found.groups())
            try:
                info.issued_on = datetime.date(year, month, day)
            except (TypeError, ValueError):
                pass
    title = info.title or " ".join(head[:5])
    period = _PERIOD.search(title)
    five = _FIVE_YEAR.search(title)
    if period:
        info.start_year, info.end_year = int(period.group(1)), int(period.group(2))
    elif five:
        info.start_year, info.end_year = five_year_period(cn_number(five.group(1)) + 10)
    return info


# ------------------------------------------------------------------------------ outline

CN = "一二三四五六七八九十"
HEADINGS = [
    ("chapter", re.compile(rf"^(第[{CN}百]+[章部篇])(.*)$")),
    ("jie", re.compile(rf"^(第[{CN}]+节)(.*)$")),
    ("cn", re.compile(rf"^([{CN}]+)、(.*)$")),
    ("pcn", re.compile(rf"^[（(]([{CN}]+)[）)](.*)$")),
    ("ar", re.compile(r"^(\d{1,2})[．.、](?!\d)(.*)$")),
    ("par", re.compile(r"^[（(](\d{1,2})[）)](.*)$")),
]
_BOX = re.compile(r"^专栏(\d+)(.*)$")
_ANNEX = re.compile(r"^(附件|附表)(\d*)[：:]?(.{0,40})$")
# chapters that describe the past or the frame of the plan, not work to do
NO_WORK = re.compile(
    r"指导思想|基本原则|原则|发展目标|主要目标|总体目标|目标|现状|成就|回顾|形势|背景|基础|面临|挑战|机遇|保障措施|组织实施|实施步骤|总体要求|编制依据|远景"
)
PAST = re.compile(r"现状|成就|回顾|形势|背景|基础|面临|挑战|机遇|十三五")
ACTION = re.compile(r"提升|加强|强化|完善|推进|建设|健全|聚焦|着力|深化|构建")
FUTURE = re.compile(r"目标|任务|工程|专栏|重点工作|举措")
TASKY = re.compile(r"任务|工程|重点工作|举措|行动")
WORK_VERB = re.compile(
    r"建设|建成|新建|组建|配备|完成|实现|开展|推进|推动|落实|健全|完善|加强|强化|提升|打造|制定|出台|建立|达到|改造|投入使用|培训|创建"
)
_TITLE_SENTENCE = re.compile(r"^([\u4e00-\u9fa5“][^，。；：:,（）]{2,25})[。．.](.+)$")
_TITLE_CUT = re.compile(r"^(.{2,40}?)[。．;；:：](.*)$")


def split_title(rest: str) -> tuple[str, str]:
    """“健全…体系。强化…” → (title, body); a line without a stop is all title."""
    found = _TITLE_CUT.match(rest)
    if found and len(found.group(1)) <= 40:
        return found.group(1), found.group(2)
    if len(rest) <= 40:
        return rest, ""
    return rest[:30], rest


class _Block:
    """A numbered heading or item with the lines that follow it."""

    def __init__(self, style, number, title, body, line, where, parent):
        self.style, self.number, self.title = style, number, title
        self.body: list[str] = [body] if body else []
        self.lines: list[str] = list(self.body)  # body and titled paragraphs, in order
        self.inline = bool(body)  # the first body line is on the heading's own line
        self.line, self.where, self.parent = line, where, parent
        self.children: list[_Block] = []
        self.ref = ""
        self.paragraph_tasks: list[tuple[str, str, str, str]] = []  # title, body, line, where
        self.box_rows: list[tuple[str, list[str], str, str]] = []
        self.kind = "section"

    def decides(self, pattern, default: bool, stop=None) -> bool:
        """The nearest heading (this one or above) whose title says 任务/工程 (work) or
        matches ``pattern`` decides; “主要目标和任务” → （二）主要任务 is nearer and wins."""
        node = self
        while node is not None:
            if node.kind in ("box", "annex"):
                return False if node.kind == "box" else default
            if (stop or TASKY).search(node.title):
                return False
            if pattern.search(node.title) and not ACTION.search(node.title):
                return True
            node = node.parent
        return default

    def chapter(self) -> _Block:
        node = self
        while node.parent is not None:
            node = node.parent
        return node


def skip_contents(lines: list[Line]) -> list[Line]:
    """A table of contents repeats the headings: when the first heading line comes again
    later, everything from its first appearance up to the second is the 目录."""
    # a contents line may end in leaders and a page number: “第一章 现状与形势……1”
    texts = [re.sub(r"[.…·．\d]+$", "", clean(line.text)) for line in lines]
    for index, text in enumerate(texts):
        if any(pattern.match(text) for _style, pattern in HEADINGS[:3]):
            try:
                again = texts.index(text, index + 1)
            except ValueError:
                return lines
            return lines[:index] + lines[again:]
    return lines


_YEAR_CELL = re.compile(r"^(\d{4})年(?:度)?$")


def merge_year_cells(lines: list[Line]) -> list[Line]:
    """A table read one cell per line (序号 | 2021年 | 全市新建市政消火栓20个): a cell that is
    only a year is joined to the next cell, so the content keeps its year."""
    merged: list[Line] = []
    pending: Line | None = None
    for line in lines:
        text = clean(line.text)
        if _YEAR_CELL.match(text):
            pending = line
            continue
        if pending is not None and text:
            merged.append(Line(clean(pending.text) + "，" + text, pending.where))
            pending = None
            continue
        merged.append(line)
    return merged


def outline(lines: list[Line]) -> list[_Block]:
    lines = merge_year_cells(skip_contents(lines))
    roots: list[_Block] = []
    stack: list[_Block] = []
    styles: list[str] = []  # the order styles nest in, learnt from the document
    box: _Block | None = None
    box_row: list | None = None
    for raw in lines:
        text = clean(raw.text)
        if not text:
            if box is not None and box_row is not None and box_row[1]:
                box_row = None  # a row ends at an empty line once it has content
            continue
        boxed = _BOX.match(text)
        annex = _ANNEX.match(text) if len(text) <= 45 else None
        if boxed:
            box = _Block(
                "box",
                f"专栏{boxed.group(1)}",
                boxed.group(2).strip() or text,
                "",
                raw.text.strip(),
                raw.where,
                stack[-1] if stack else None,
            )
            box.kind = "box"
            (stack[-1].children if stack else roots).append(box)
            box_row = None
            continue
        if annex and (annex.group(2) or annex.group(3) or text in ("附件", "附表")):
            box = None
            node = _Block(
                "annex",
                (annex.group(1) + annex.group(2)),
                annex.group(3) or text,
                "",
                raw.text.strip(),
                raw.where,
                None,
            )
            node.kind = "annex"
            roots.append(node)
            stack, styles = [node], ["annex"]
            continue
        heading = None
        for style, pattern in HEADINGS:
            found = pattern.match(text)
            if found and found.group(2):
                heading = (style, found.group(1), found.group(2))
                break
        if heading and box is not None and heading[0] in ("ar", "par"):
            heading = None  # numbered lines inside a box are its content
        if heading:
            box = None
            style, number, rest = heading
            title, body = split_title(rest.lstrip("、.．"))
            if style in styles:
                depth = styles.index(style)
                styles = styles[: depth + 1]
                stack = stack[:depth]
            else:
                styles.append(style)
            parent = stack[-1] if stack else None
            node = _Block(style, number, title, body, raw.text.strip(), raw.where, parent)
            (parent.children if parent else roots).append(node)
            stack.append(node)
            continue
        if box is not None:
            if (
                box_row is None
                and len(text) <= 30
                and re.search(r"[\u4e00-\u9fa5]{2}", text)
                and not re.search(r"[。；，]", text)
                and not re.match(r"^\d{4}年", text)
            ):
                box_row = [text, [], raw.text.strip(), raw.where]
                box.box_rows.append(box_row)
            elif box_row is not None:
                box_row[1].append(text)
            else:
                box.body.append(text)
            continue
        if stack:
            found = _TITLE_SENTENCE.match(text)
            if found and WORK_VERB.search(found.group(2)):
                stack[-1].paragraph_tasks.append(
                    (found.group(1), found.group(2), raw.text.strip(), raw.where)
                )
            else:
                stack[-1].body.append(text)
            stack[-1].lines.append(text)
    return roots


def is_group(block: _Block) -> bool:
    """Whether an item heading groups its paragraphs as tasks of their own: only when every
    titled paragraph under it names its own 责任单位 (or 牵头单位); else the paragraphs are
    the heading's text and the heading is the task. A 第X节 heading is a part of its
    chapter, not an item: its titled paragraphs are always tasks."""
    if block.parent is None or block.kind != "section" or block.style in ("chapter", "jie"):
        return True
    return all(
        _UNIT_CLAUSE.search(source) or _LEAD_SUPPORT.search(source)
        for _title, _body, source, _where in block.paragraph_tasks
    )


def walk(blocks: Iterable[_Block]):
    for block in blocks:
        yield block
        yield from walk(block.children)


# ------------------------------------------------------------------------------ units

_UNIT_CLAUSE = re.compile(
    r"[（(](?:责任单位|牵头单位|负责单位|责任部门|牵头部门|责任单位及责任人)[：:]([^（）()]*(?:[（(][^）)]*[）)][^（）()]*)*)[）)]"
)
_LEAD_SUPPORT = re.compile(
    r"牵头(?:单位|部门)[：:]([^；;。）)]+)[；;，,]?\s*(?:配合(?:单位|部门)[：:]([^。）)]+))?"
)
_UNIT_WORDS = (
    r"(?:人民政府|党委政府|政府|部门|局|委|办|支队|大队|单位|机构|企业|委员会|县市区|县区"
    r"|县（市、区）|县（区、市）|各区（县）|各县（区）)"
)
_SUBJECT = re.compile(
    rf"^((?:各级|各|市|县|区|镇|乡)?[\u4e00-\u9fa5（）、]{{0,14}}?{_UNIT_WORDS})(?:要|应|应当|按|将|负责|牵头|严格|对|统一|通过|分类别|加大|落实|配齐|结合|组织|"
    rf"开展|建立|制定|推动|加强|督促|依法|定期|每年)"
)
_LEADING_VERB = re.compile(r"^(?:推动|督促|支持|鼓励|指导|要求|由)")
# a clause opening with a verb has no unit as its subject (强化市、镇两级政府…)
_NOT_SUBJECT = re.compile(
    r"^(?:强化|加强|全面|推广|推进|建立|完善|落实|提升|实施|开展|深化|组织|明确|发挥|引导|健全|"
    r"构建|打造|积极|加快|确保|坚持|按照|依托|结合|围绕|统筹|等)"
)
_PERSON = re.compile(r"主要领导|主要负责人|分管领导|负责同志|责任人|局长|主任|书记|市长|区长|县长")


def split_units(text: str) -> list[str]:
    text = re.sub(
        r"[（(][^）)]*(?:领导|负责人|同志|局长|主任|书记|市长|区长|县长)[^）)]*[）)]", "", text
    )
    parts = [
        part.strip(" 。") for part in re.split(r"[，,；;]|(?<![各市县区])、(?=[市县区各])", text)
    ]
    return [part for part in parts if part and not _PERSON.search(part) and len(part) <= 40]


def units_of(text: str, body: str) -> tuple[list[str], list[str], str]:
    """(lead, support, text without the clause)."""
    found = _UNIT_CLAUSE.search(text)
    if found:
        inner = found.group(1)
        pair = _LEAD_SUPPORT.search("牵头单位：" + inner) if "配合" in inner else None
        if pair:
            return (
                split_units(pair.group(1)),
                split_units(pair.group(2) or ""),
                text.replace(found.group(0), ""),
            )
        units = split_units(inner)
        return units[:1], units[1:], text.replace(found.group(0), "")
    pair = _LEAD_SUPPORT.search(text)
    if pair:
        return split_units(pair.group(1)), split_units(pair.group(2) or ""), text
    for sentence in re.split(r"[。；，,\n]", body):
        subject = _SUBJECT.match(_LEADING_VERB.sub("", sentence))
        if subject and len(subject.group(1)) >= 3 and not _NOT_SUBJECT.match(subject.group(1)):
            return [subject.group(1)], [], text
    return [], [], text


# ------------------------------------------------------------------------------ dates

_MONTH_DUE = re.compile(r"(\d{4})年(\d{1,2})月(?:底|末)?(?:前|以前)?")
_YEAR_RANGE = re.compile(r"(\d{4})[—–\-~～至到](\d{4})年")
_YEAR_DUE = re.compile(r"(?:到|至|在)?(\d{4})年(底前|底|年底前|年底|末|前|内|以前)?")
_YEARLY = re.compile(r"每年")


def clause_dates(clause: str, year_hint: int | None = None) -> list[datetime.date]:
    dates = []
    taken = ""
    for found in _MONTH_DUE.finditer(clause):
        year, month = int(found.group(1)), int(found.group(2))
        if 1990 <= year <= 2100 and 1 <= month <= 12:
            dates.append(end_of_month(year, month))
    taken = _MONTH_DUE.sub("", clause)
    for found in _YEAR_RANGE.finditer(taken):
        dates.append(datetime.date(int(found.group(2)), 12, 31))
    taken = _YEAR_RANGE.sub("", taken)
    for found in _YEAR_DUE.finditer(taken):
        year = int(found.group(1))
        if 1990 <= year <= 2100:
            dates.append(datetime.date(year, 12, 31))
    if not dates and year_hint and re.search(r"年底前|年内", clause):
        dates.append(datetime.date(year_hint, 12, 31))
    return dates


_CLAUSE_SPLIT = re.compile(r"(?<=[。；;\n])")


def sentences(text: str) -> list[str]:
    return [part.strip() for part in _CLAUSE_SPLIT.split(text) if part.strip("。；; \n")]


def milestones_of(body: str, start_year: int | None, end_year: int | None) -> list[DraftMilestone]:
    found: list[DraftMilestone] = []
    for sentence in sentences(body):
        for clause in re.split(r"(?<=[，,])(?=(?:并|并在|并于|在|于|到|至)?\d{4}年)", sentence):
            if re.search(r"由\d|从\d|比\d{4}年|较\d{4}年|《", clause[:12]):
                continue
            dates = clause_dates(clause)
            if not dates or not WORK_VERB.search(clause):
                continue
            due = max(dates)
            if start_year and due.year < start_year:
                continue
            text = re.sub(r"^[^，,]*\d{4}年[^，,]{0,6}[，,]", "", clause).strip("。；;，, ")
            found.append(DraftMilestone(due_on=due, text=text or clause.strip("。；; ")))
        if _YEARLY.search(sentence) and start_year and end_year and not clause_dates(sentence):
            for year in range(start_year, end_year + 1):
                found.append(
                    DraftMilestone(
                        datetime.date(year, 12, 31), sentence.strip("。；; "), yearly=True
                    )
                )
    return found


# ------------------------------------------------------------------------------ targets

UNITS = sorted(
    [
        "人/10万人口", "个/10万人", "万人次", "平方米", "平方公里", "公里", "千米", "毫米", "课时",
        "学时", "件套", "大类", "%", "‰", "个", "座", "支", "辆", "名", "人", "套", "家", "处",
        "所", "台", "艘", "件", "次", "小时", "分钟", "吨", "米", "条", "类", "项", "万元", "亿元",
        "万人", "架", "部", "间", "批", "㎡", "公顷", "倍",
    ],
    key=len,
    reverse=True,
)  # fmt: skip
_NUMBER = re.compile(
    r"(?<![\d.〔/A-Za-z第])(\d+(?:\.\d+)?)(?:[—\-~～至](\d+(?:\.\d+)?))?(?:余|多)?("
    + "|".join(re.escape(u) for u in UNITS)
    + r")"
)
GTE = re.compile(
    r"不少于|不低于|不小于|至少|达到|达|以上|超过|大于等于|≥|力争|提高到|提升至|提高至|增至|增加到|总数|确保"
)
LTE = re.compile(r"控制在|不超过|不高于|不大于|以内|以下|低于|≤|小于|缩短至|缩短到")
REDUCE = re.compile(r"下降|减少|降低|压减")
INCREASE = re.compile(r"提高|增长|增加|提升")
BASELINE_BEFORE = re.compile(
    r"(现有|已有|已建成|目前|现状|原有|累计|共有|“?十[一二三四五六七八九]五”?末|由|从)[^，。；]{0,12}$"
)
MEASURE_AFTER_GE = re.compile(r"(课时|学时|小时|分钟|人次|批次|架次)")
BARE_COUNT = re.compile(r"^[（(]?(?:共|合计|小计)?\d+(?:\.\d+)?[^\d\s]{1,3}[）)]?[。；]?$")
SPEC_UNITS = ("米", "毫米", "吨", "千米")
COMPARED = re.compile(
    r"不少于|不低于|不小于|不大于|不超过|不高于|至少|达到|控制在|大于|小于|储备|增加|新增|新建|建设"
)
NOT_AFTER = re.compile(r"^(?:年|月|日|号|周岁|岁|届|级|层|楼|时|分)")
ATTRIBUTE = {"约束性": "binding", "预期性": "expected"}


_DEADLINE_YEAR = re.compile(
    r"(?:(?<=到)|(?<=至)|(?<=在)|(?<=于)|(?<=^))(\d{4})年|(\d{4})年(?=底|前|末|内|，|,|期间|起|完成|实现|建成|全面)"
)


def _year_of(text: str, default: int | None, end_year: int | None) -> int | None:
    years = [int(a or b) for a, b in _DEADLINE_YEAR.findall(text) if 2000 <= int(a or b) <= 2100]
    ranges = [int(b) for a, b in _YEAR_RANGE.findall(text)]
    if ranges:
        return max(ranges)
    if years:
        return max(years)
    fives = re.findall(r"十([一二三四五六七八九])五”?(?:期间|时期|末|内)", text)
    if fives:
        return max(five_year_period(cn_number(five) + 10)[1] for five in fives)
    if re.search(r"规划期|到规划期末", text):
        return end_year
    return default


def _comparator(before: str, after: str, unit: str) -> str:
    near = before[-8:]
    if re.search(r"(不少于|不低于|不小于|至少|大于等于)$", near):
        return "gte"
    if REDUCE.search(near) and unit in ("%", "‰"):
        return "reduce_by"
    if LTE.search(near) or re.match(r"^(以内|以下)", after):
        return "lte"
    if GTE.search(near) or re.match(r"^(以上)", after):
        return "gte"
    if INCREASE.search(near[-3:]) and unit in ("%", "‰") and "率" not in near:
        return "increase_by"
    return "gte"


def _name(before: str) -> str:
    part = re.split(r"[，,：:；;。]", before)[-1]
    part = re.sub(r"^(到|至|在)?\d{4}年(底前|底|年底前|末|前|内)?", "", part)
    part = re.sub(
        r"(不少于|不低于|不小于|至少|达到|控制在|不超过|不高于|低于|超过|达|为|约|共|总数达到)$",
        "",
        part,
    )
    return (
        part.strip("“”（）() ")[-40:] or re.split(r"[，,：:；;。]", before.rstrip("，,"))[-1][-20:]
    )


_CN_COUNT = re.compile(
    r"(至少|配备|进行|开展|建设|建成|召开|组建|新建|每年|每季度|每月|每半年|每学期)([一两二三四五六七八九十])(?=个|次|套|支|座|辆|名|处)"
)


def targets_of(text: str, default_year: int | None, end_year: int | None) -> list[tuple]:
    """(name, value, unit, comparator, year, baseline_value, sentence) for each commitment."""
    found = []
    for sentence in sentences(text):
        sentence = _CN_COUNT.sub(
            lambda m: m.group(1) + str(cn_number(m.group(2).replace("两", "二"))), sentence
        )
        year = _year_of(sentence, default_year, end_year)
        baseline = None
        if BARE_COUNT.match(sentence):
            continue  # a table cell with a bare count (共1辆, （1辆）): a total, not a commitment
        for match in _NUMBER.finditer(sentence):
            before, after = sentence[: match.start()], sentence[match.end() :]
            value_text, _upper, unit = match.groups()
            if NOT_AFTER.match(after) and unit in ("", None):
                continue
            if re.search(r"[《〔]|GB|GA|标准\(|建标", before[-6:]):
                continue
            if re.search(r"《[^》]*$", before):
                continue
            quoted = re.search(r"“([^”]*)$", before)
            if quoted and "、" in quoted.group(1) + after.split("”")[0]:
                continue  # a name or slogan that lists numbers: “1个城市中心、3个副城”
            measure = MEASURE_AFTER_GE.match(after) if unit == "个" else None
            if measure:  # 1个课时: 个 is the measure word of the unit that follows
                unit, after = measure.group(1), after[measure.end() :]
            if after.startswith("口") or before.endswith("每"):
                continue  # a per-capita base: 每10万人, 10万人口
            if unit in SPEC_UNITS and not COMPARED.search(before[-6:]):
                continue  # a specification: 50米以上举高消防车, 32米登高平台消防车
            if unit in MODIFIER_UNITS and after.startswith("的"):
                continue  # a property of equipment: 不少于1公里的远程供水系统
            if value_text == "1" and ONE_TEAM.match(after):
                continue  # a vision, not a count: 建设1支对党忠诚…的消防救援队伍
            value = float(value_text)
            if unit == "万人":  # 1万人 → 10000 人 (万人次, 万元 stay as written)
                value, unit = value * 10000, "人"
            if BASELINE_BEFORE.search(before[-16:]) and not re.search(
                r"增至|增加到|达到|提高到", before[-6:]
            ):
                baseline = value
                continue
            if re.search(
                r"每小队|每队|每个|每支|每人|每月|每年|每季度|每学期|每半年", before[-12:]
            ):
                pass
            found.append(
                (
                    _name(before),
                    value,
                    unit.replace("㎡", "平方米"),
                    _comparator(before, after, unit),
                    year,
                    baseline,
                    sentence.strip(),
                )
            )
            baseline = None
        found.extend(enumerated(sentence, year))
        for match in ONE_EACH.finditer(sentence):  # “一镇一队”: one 队 in every 镇
            place, thing = match.groups()
            name = f"每{place}{thing}"
            found.append((name, 1.0, f"{thing}/{place}", "gte", year, None, sentence.strip()))
    return found


ONE_EACH = re.compile(
    r"一(省|市|县|区|镇|乡|村|街道|社区)一(站|队|所|场所|中心|馆|基地|室)(?![\u4e00-\u9fa5])"
)


MODIFIER_UNITS = ("公里", "千米", "小时", "分钟", "秒")
ONE_TEAM = re.compile(r"^[^，。；]{2,30}?的[^，。；]{0,20}队伍")
_FACILITY = r"(?:专业队|突击队|救援队|消防站|救援站|中队|大队)"
# 北海路、四甲消防站迁址重建: names listed before one shared facility noun
_HAN = r"(?:(?!的)[\u4e00-\u9fa5])"  # a name's character (的 ends a qualifier before it)
_SHARED_NOUN = re.compile(rf"((?:{_HAN}{{2,6}}、)+{_HAN}{{2,6}}?)({_FACILITY})")
# 地震救援专业队、水域救援专业队…和供水专业队: each listed name carries the noun
_EACH_NOUN = re.compile(
    rf"(?:{_HAN}{{2,10}}?{_FACILITY}、)+(?:{_HAN}{{2,10}}?{_FACILITY}[和及])?{_HAN}{{2,10}}?{_FACILITY}"
)
_BUILD = re.compile(r"新建|建设|建成|组建|迁址重建|改建|重建")
# the verb right before the list, or before a qualifier of it (建设专常兼备的…)
_BUILD_BEFORE = re.compile(rf"({_BUILD.pattern})(?:[^，。；、]{{0,8}}的)?$")


def enumerated(sentence: str, year: int | None) -> list[tuple]:
    """Counts a sentence implies by listing names (“建设A专业队、B专业队” → 2支; “A、B消防
    站迁址重建” → 2个): only where building is said right before or after the list."""
    found = []
    for pattern in (_EACH_NOUN, _SHARED_NOUN):
        for match in pattern.finditer(sentence):
            before, after = sentence[: match.start()], sentence[match.end() :]
            verb = _BUILD_BEFORE.search(before) or _BUILD.match(after)
            if not verb:
                continue
            count = len(re.findall(r"[、和及]", match.group(0))) + 1
            unit = "支" if match.group(0).endswith("队") else "个"
            noun = re.search(_FACILITY + "$", match.group(0)).group(0)
            verb = verb.group(1) if verb.re is _BUILD_BEFORE else verb.group(0)
            found.append((f"{verb}{noun}", float(count), unit, "eq", year, None, sentence.strip()))
        if found:
            break
    return found


_TABLE_VALUE = re.compile(r"^([≤≥<>＜＞]?)(\d+(?:\.\d+)?)(%|‰)?$")


_TABLE_CHANGE = re.compile(r"^(下降|降低|减少|压减|提高|增长|增加|提升)(\d+(?:\.\d+)?)(%|‰)?$")


def indicator_rows(lines: list[str]) -> list[tuple]:
    """Indicator tables (one cell per line): name, value (≤0.15 / 100%), 约束性/预期性."""
    rows = []
    for index, text in enumerate(lines):
        if text not in ATTRIBUTE:
            continue
        window = lines[max(0, index - 3) : index]
        # the value is the cell just before the attribute, the name the one before it
        # (a row number before the name is not a value)
        if len(window) < 2:
            continue
        found = _TABLE_VALUE.match(window[-1])
        changed = _TABLE_CHANGE.match(window[-1])
        name = window[-2]
        if not (found or changed) or len(name) < 3 or _TABLE_VALUE.match(name):
            continue
        if changed:
            comparator = "reduce_by" if REDUCE.search(changed.group(1)) else "increase_by"
            value, unit = changed.group(2), changed.group(3) or ""
        else:
            sign = found.group(1)
            comparator = "lte" if sign in ("≤", "<", "＜") else "gte"
            value, unit = found.group(2), found.group(3) or ""
        rows.append(
            (
                name,
                float(value),
                unit,
                comparator,
                ATTRIBUTE[text],
                " | ".join([*window, text]),
            )
        )
    return rows


# ------------------------------------------------------------------------------ stations

STATION_CLASS = [
    ("特勤", "special_service"), ("一级", "class1"), ("二级", "class2"), ("小型", "small"),
    ("乡镇", "township"), ("战勤保障", "logistics"), ("水上", "water"),
]  # fmt: skip
_STATION = re.compile(r"^[\u4e00-\u9fa5（）()]{2,30}(?:消防站|消防救援站|特勤站|中队)$")
_YEAR_MONTH = re.compile(r"(\d{4})[年.\-/](\d{1,2})")
_REGION_CELL = re.compile(r"^[\u4e00-\u9fa5]{1,8}(?:县|区|市|镇|乡|街道)$")


def stations_of(blocks: list[_Block], lines: list[str]) -> list[DraftStation]:
    """Station rows of annex tables: a cell naming a station; region carried down from the
    last region cell; class, in-service year-month and status from the cells after it."""
    found: list[DraftStation] = []
    in_annex = False
    region = ""
    for index, text in enumerate(lines):
        if _ANNEX.match(text) and len(text) <= 45:
            in_annex = True
            region = ""
            continue
        if not in_annex:
            continue
        if _REGION_CELL.match(text) and not _STATION.match(text):
            region = text
            continue
        if not _STATION.match(text) or "的" in text or text.startswith(("拟", "规划", "新建")):
            continue  # a header cell (拟建室内综合训练馆的消防站), not a station
        row = lines[index + 1 : index + 7]
        cut = next(
            (i for i, cell in enumerate(row) if _STATION.match(cell) or cell == ""), len(row)
        )
        row = row[:cut]
        joined = " | ".join([text, *row])
        station_class = next((code for word, code in STATION_CLASS if word in joined), None)
        month = _YEAR_MONTH.search(" ".join(row))
        planned = bool(re.search(r"预计|规划|拟建|新建|待建", joined))
        address = next(
            (cell for cell in row if re.search(r"路|街|道|村|号", cell) and len(cell) > 4), ""
        )
        found.append(
            DraftStation(
                name=text,
                region=region,
                address=address,
                station_class=station_class,
                in_service=f"{int(month.group(1)):04d}-{int(month.group(2)):02d}"
                if month
                else None,
                status="planned" if planned else "in_service",
                source_text=joined,
            )
        )
    return found


# ------------------------------------------------------------------------------ the draft


# ------------------------------------------------------------------------------ workbooks

COLUMNS = {  # field → header names of a 任务分解表 (found by name, not by position)
    "number": ("序号", "编号"),
    "title": ("任务名称", "重点任务", "工作任务", "任务", "项目名称", "工作事项"),
    "content": ("具体内容", "工作内容", "主要内容", "任务内容", "工作措施", "具体措施", "建设内容"),
    "lead": ("牵头单位", "牵头部门", "责任单位", "责任部门", "责任单位及责任人"),
    "support": ("配合单位", "配合部门", "协同单位"),
    "due": ("完成时限", "完成时间", "时间节点", "时限"),
    "target": ("目标值", "目标任务", "预期目标", "指标"),
    "category": ("类别", "分类", "领域"),
}


def _header_map(cells: list[str]) -> dict[str, int] | None:
    found: dict[str, int] = {}
    for field, names in COLUMNS.items():
        for index, cell in enumerate(cells):
            name = clean(cell)
            if index in found.values():
                continue
            if any(name == header or name.startswith(header) for header in names):
                found[field] = index
                break
    if "title" in found and ("lead" in found or "due" in found or "content" in found):
        return found
    return None


def _row_cell(header: dict, cells: list[str], above: dict, field: str, carry=False) -> str:
    index = header.get(field)
    value = clean(cells[index]) if index is not None and index < len(cells) else ""
    if carry and not value:
        value = above.get(field, "")
    above[field] = value
    return value


def workbook_draft(lines: list[Line], draft: Draft) -> None:
    """Task-breakdown workbooks (任务分解表): the header row found by names; each row below
    a task, a row with a single filled cell a category (section); empty title and unit
    cells carried down from the row above (merged cells)."""
    header: dict[str, int] | None = None
    above: dict[str, str] = {}
    section_ref = None
    end = draft.plan.end_year
    for line in lines:
        if line.text.startswith("@sheet"):
            header, above = None, {}
            if not draft.plan.title:
                draft.plan.title = line.text.removeprefix("@sheet ").strip()
            continue
        if not line.text.startswith("@row "):
            continue
        cells = line.text.removeprefix("@row ").split("\t")
        if header is None:
            header = _header_map(cells)
            if header is None and len([c for c in cells if c]) == 1:
                found = _TITLE_LINE.match(clean(cells[0])) or _PERIOD.search(cells[0])
                if found and not draft.plan.title:
                    draft.plan.title = clean(cells[0])
            continue
        filled = [cell for cell in cells if cell.strip()]
        if len(filled) == 1 and not filled[0].strip().isdigit():
            ref = f"s{len(draft.sections) + 1}"
            draft.sections.append(
                DraftSection(ref, None, "", clean(filled[0]), "section", line.text[5:], line.where)
            )
            section_ref = ref
            continue

        cell = functools.partial(_row_cell, header, cells, above)

        title = cell("title", True)
        if not title:
            continue
        content = cell("content")
        lead_text, support_text = cell("lead", True), cell("support")
        leads = split_units(lead_text)
        support = split_units(support_text) if support_text else leads[1:]
        leads = leads[:1] if not support_text else leads
        due_text = cell("due")
        target_text = cell("target")
        source = " | ".join(part for part in cells if part.strip())
        task_ref = f"t{len(draft.tasks) + 1}"
        milestones = milestones_of(content, draft.plan.start_year, end)
        dues = clause_dates(due_text, year_hint=end) if due_text else []
        draft.tasks.append(
            DraftTask(
                ref=task_ref, section_ref=section_ref, number=cell("number"), title=title,
                lead_units=leads, support_units=support,
                due_on=max(dues, default=None)
                or max((m.due_on for m in milestones if not m.yearly), default=None),
                milestones=milestones, source_text=source, where=line.where,
            )
        )  # fmt: skip
        year = max(dues).year if dues else None
        for name, value, unit, comparator, t_year, baseline, sentence in targets_of(
            "\n".join(filter(None, [target_text, content])), year, end
        ):
            draft.targets.append(
                DraftTarget(
                    ref=f"g{len(draft.targets) + 1}", task_ref=task_ref, section_ref=section_ref,
                    name=name, value=value, unit=unit, comparator=comparator, year=t_year,
                    baseline_value=baseline, source_text=sentence, where=line.where,
                )
            )  # fmt: skip


def extract(lines: list[Line]) -> Draft:
    if any(line.text.startswith("@row ") for line in lines[:5000]):
        draft = Draft()
        title_lines = [line.text.removeprefix("@row ").replace("\t", " ") for line in lines[:10]]
        draft.plan = plan_info([clean(text) for text in title_lines])
        workbook_draft(lines, draft)
        draft.findings = findings(draft)
        return draft
    texts = [clean(line.text) for line in lines]
    draft = Draft(plan=plan_info(texts))
    start, end = draft.plan.start_year, draft.plan.end_year
    blocks = outline(lines)
    task_no = target_no = 0

    def add_targets(text: str, task_ref, section_ref, where, past: bool):
        nonlocal target_no
        if past:
            return
        for name, value, unit, comparator, year, baseline, sentence in targets_of(text, None, end):
            target_no += 1
            draft.targets.append(
                DraftTarget(
                    ref=f"g{target_no}", task_ref=task_ref, section_ref=section_ref, name=name,
                    value=value, unit=unit, comparator=comparator, year=year,
                    baseline_value=baseline, source_text=sentence, where=where,
                )
            )  # fmt: skip

    def add_task(section_ref, number, title, body, source, where, units_text=None):
        nonlocal task_no
        task_no += 1
        lead, support, body_text = units_of(units_text or source, body)
        milestones = milestones_of(body_text, start, end)
        task = DraftTask(
            ref=f"t{task_no}", section_ref=section_ref, number=number, title=title.strip("。 "),
            lead_units=lead, support_units=support,
            due_on=max((m.due_on for m in milestones if not m.yearly), default=None),
            milestones=milestones, source_text=source, where=where,
        )  # fmt: skip
        draft.tasks.append(task)
        return task

    section_no = 0
    for block in walk(blocks):
        section_no += 1
        block.ref = f"s{section_no}"
        parent_ref = block.parent.ref if block.parent is not None else None
        work = (
            not block.decides(NO_WORK, False)
            if block.parent is None
            else not block.parent.decides(NO_WORK, False)
        )
        past = block.decides(PAST, False, FUTURE)
        grouped = block.paragraph_tasks and is_group(block)
        if block.paragraph_tasks and not grouped:
            # the paragraphs are the heading's text, the heading is the task
            block.body = block.lines
            block.paragraph_tasks = []
        is_item = bool(block.body) and block.style in ("ar", "par", "pcn", "cn")
        # a heading whose text is one piece of work, with at most 专栏 boxes under it
        # (the box lists its projects), is a task
        leaf = (
            all(child.kind == "box" for child in block.children)
            and not block.paragraph_tasks
            and not block.box_rows
        )
        # a heading over numbered items groups them; it is not a task itself
        has_items = any(child.kind == "section" for child in block.children)
        as_task = (
            work
            and block.parent is not None
            and block.kind == "section"
            and ((is_item and not has_items) or leaf)
        )
        if as_task:
            body = "\n".join(block.body)
            source = "\n".join([block.line, *block.body[1 if block.inline else 0 :]])
            task = add_task(parent_ref, block.number, block.title, body, source, block.where)
            add_targets(body, task.ref, parent_ref, block.where, past)
        if not as_task or not leaf or block.children:
            draft.sections.append(
                DraftSection(
                    block.ref,
                    parent_ref,
                    block.number,
                    block.title,
                    block.kind,
                    block.line,
                    block.where,
                )
            )
        rows = task_list_rows(block, draft.sections) if block.kind == "annex" else None
        if rows is not None:
            section_ref = block.ref  # the rows' categories are sections under the annex
            for category, title, content, units in rows:
                if category:
                    section_no += 1
                    section_ref = f"s{section_no}"
                    draft.sections.append(
                        DraftSection(
                            section_ref, block.ref, "", category, "section", category, block.where
                        )
                    )
                source = " | ".join(part for part in (title, content, "、".join(units)) if part)
                task = add_task(
                    section_ref, "", title, content, source, block.where,
                    units_text=f"（责任单位：{'、'.join(units)}）" if units else "",
                )  # fmt: skip
                add_targets(content, task.ref, section_ref, block.where, past)
        elif not as_task:
            first = len(draft.targets)
            add_targets("\n".join(block.body), None, block.ref, block.where, past)
            if block.chapter().kind == "annex":
                year_rows(block, draft, draft.targets[first:])
        for title, body, source, where in block.paragraph_tasks:
            if work:
                task = add_task(block.ref, "", title, body, source, where)
                add_targets(body, task.ref, block.ref, where, past)
            else:
                add_targets(source, None, block.ref, where, past)
        for name, contents, _source, where in block.box_rows:
            body = "\n".join(contents)
            quantities = counted_cells(name, contents, block.body)
            if quantities:
                # 消防车（辆） | 器材装备（件套） over 14 | 14607: quantities the box commits
                # to, not pieces of work
                for label, unit, value in quantities:
                    target_no += 1
                    draft.targets.append(
                        DraftTarget(
                            ref=f"g{target_no}", task_ref=None, section_ref=block.ref,
                            name=label, value=value, unit=unit, comparator="gte", year=end,
                            source_text=f"{block.line} | {label}（{unit}） | {value:g}",
                            where=where,
                        )
                    )  # fmt: skip
                continue
            task = add_task(
                block.ref, "", name, body, " | ".join([block.line, name, *contents]), where
            )
            add_targets(body, task.ref, block.ref, where, past)
    for name, value, unit, comparator, attribute, source in indicator_rows(texts):
        target_no += 1
        draft.targets.append(
            DraftTarget(
                ref=f"g{target_no}", task_ref=None, section_ref=None, name=name, value=value,
                unit=unit, comparator=comparator, year=end, attribute=attribute,
                source_text=source,
            )
        )  # fmt: skip
    draft.stations = stations_of(blocks, texts)
    draft.findings = findings(draft)
    return draft


_LIST_HEADER = re.compile(r"^(?:责任单位|牵头单位|责任部门|牵头部门|责任单位及责任人)")
_UNIT_NAME = re.compile(
    r"^[\u4e00-\u9fa5（）()、]{2,24}(?:支队|大队|政府|管委会|局|委|办|部|厅|中心|公司|集团|院|队"
    r"|单位|部门)$"
    r"|^各[\u4e00-\u9fa5（）()、]{1,12}$"  # 各街道, 各县（市、区）: every one of them
)
_ROW_TEXT = re.compile(r"[。；，,]")


def task_list_rows(block: _Block, sections: list[DraftSection]):
    """An annex task list (重点工作任务清单) read as a table cell by cell, whichever way
    its rows were broken into lines: after a header naming 责任单位 (or 牵头单位), each
    content cell (a sentence) is a task; the short cells before it are its title (a title
    wrapped over several cells is joined; an empty title carries the one above down, as a
    merged cell does) and the unit names after it its units, the first one the lead. A
    short cell that names one of the plan's own headings is a category (a section).
    ``None`` when the annex is not such a list."""
    lines = [line for line in block.lines if line]
    head = next((i for i, line in enumerate(lines[:6]) if _LIST_HEADER.match(line)), None)
    if head is None:
        return None
    headings = [section.title for section in sections if len(section.title) >= 4]
    rows, pending, units = [], [], None
    title, category = "", ""
    for line in lines[head + 1 :]:
        if _ROW_TEXT.search(line) or len(line) > 30:
            if pending and any(pending[0] in h or h in pending[0] for h in headings):
                category = pending.pop(0)
            if pending:
                title = "".join(pending)
            pending, units = [], []
            rows.append([category, title, line, units])
            category = ""
            continue
        starts_work = _NOT_SUBJECT.match(line) or WORK_VERB.match(line)
        if units is not None and not pending and _UNIT_NAME.match(line) and not starts_work:
            units.extend(split_units(line))
            continue
        pending.append(line)
    # the categories: a row's category is set on the first row under it only
    return [tuple(row) for row in rows if row[1]]


def counted_cells(name: str, contents: list[str], below: list[str]) -> list[tuple]:
    """A header row of “name（unit）” cells over a row of bare numbers, or a single
    “name（unit）” cell with its number: [(name, unit, value)], else []."""
    cells = [name, *contents]
    headers = [_COUNTED_ROW.match(cell) for cell in cells]
    numbers = [cell for cell in contents if _BARE_NUMBER.fullmatch(cell)]
    if len(cells) == 2 and headers[0] and numbers:
        return [(headers[0].group(1), headers[0].group(2), float(numbers[0]))]
    values = [cell for cell in below if _BARE_NUMBER.fullmatch(cell)]
    if not all(headers) or len(values) != len(cells):
        return []
    return [(h.group(1), h.group(2), float(v)) for h, v in zip(headers, values, strict=True)]


_BARE_NUMBER = re.compile(r"\d+(?:\.\d+)?")
_COUNTED_ROW = re.compile(r"^([\u4e00-\u9fa5“”]{2,20})[（(]([\u4e00-\u9fa5]{1,3})[）)]$")
_YEAR_ROW = re.compile(r"^(\d{4})年，(.+)$")


def year_rows(block: _Block, draft: Draft, targets: list[DraftTarget]) -> None:
    """Rows of an annex table keyed by year (2021年 | 全市新建市政消火栓20个): each is a
    milestone at that year's end with the row's value, a step towards a target the text
    states elsewhere (到2025年，全市共增加约190个市政消火栓) — not a target of its own (one
    read from the row is dropped). It is attached to the target of the same unit whose name
    shares the longest run of words with the row (≥ 4 characters), else left for the
    reviewer (``draft.milestones``)."""
    rows = []
    for line in block.body:
        row = _YEAR_ROW.match(line)
        if row:
            from_row = [t for t in targets if t.source_text.strip() == line.strip()]
            for target in from_row:
                draft.targets.remove(target)
            rows.append((row, from_row))
    for row, from_row in rows:
        milestone = DraftMilestone(
            due_on=datetime.date(int(row.group(1)), 12, 31),
            text=row.group(2).strip("。；; "),
            section_ref=block.ref,
            value=from_row[0].value if from_row else None,
        )
        owner = _owner_of(row.group(2), from_row[0].unit, draft.targets) if from_row else None
        if owner is not None:
            milestone.section_ref = None
            owner.milestones.append(milestone)
        else:
            draft.milestones.append(milestone)


def _owner_of(text: str, unit: str, targets: list[DraftTarget]) -> DraftTarget | None:
    best, best_size = None, 3
    for target in targets:
        if target.unit != unit:
            continue
        words = target.name + target.source_text
        match = difflib.SequenceMatcher(None, text, words).find_longest_match()
        if match.size > best_size:
            best, best_size = target, match.size
    return best


def findings(draft: Draft) -> list[Finding]:
    """The integrity check on the draft: the same indicator promised with two values."""
    found: list[Finding] = []
    seen: dict[tuple, DraftTarget] = {}
    for target in draft.targets:
        key = (target.name[-8:], target.unit, target.year)
        other = seen.get(key)
        if other is not None and other.value != target.value and len(target.name) >= 4:
            found.append(
                Finding(
                    "contradiction",
                    _("“%(name)s”出现两个不同的值：%(first)s 与 %(second)s")
                    % {
                        "name": target.name,
                        "first": f"{other.value:g}{other.unit}",
                        "second": f"{target.value:g}{target.unit}",
                    },
                )
            )
        seen.setdefault(key, target)
    if draft.milestones:
        found.append(
            Finding(
                "unattached_milestones",
                _(
                    "有 %(count)s 个时间节点未关联任务或指标，"
                    "请在审核页逐个关联或删除（未决定时不能发布）"
                )
                % {"count": len(draft.milestones)},
            )
        )
    if not draft.plan.title:
        found.append(Finding("no_title", _("未找到规划标题，请在审核时填写")))
    if not (draft.plan.start_year and draft.plan.end_year):
        found.append(
            Finding("no_period", _("未找到规划期（如 2021—2025年 或 “十四五”），请在审核时填写"))
        )
    return found
