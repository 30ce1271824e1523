"""Every row of fixtures/ is traceable to the plan text it came from.

- each `source_text` is quoted verbatim from the plan (compared after NFKC and removing
  whitespace, since the extraction breaks lines and spaces numbers); a table row is its cells
  joined with " | ", and several quoted passages are separated by line breaks;
- each number of a row appears in that row's `source_text`, or is listed in DERIVED below with
  the reason it does not (a count of table rows, 全部 → 100 %, 三分之二 → 66.6667 %).
"""

import re
import unicodedata
from decimal import Decimal
from pathlib import Path

import pytest
import yaml

from seeds.loader import fixture_files

SOURCES = Path(__file__).resolve().parents[2] / "fixtures" / "sources"
NUMBER_FIELDS = {
    "target_value", "baseline_value", "planned_value", "value", "floor_area_m2",
    "land_area_m2", "investment_10k_yuan", "fires", "deaths", "injuries", "direct_loss_10k_yuan",
}  # fmt: skip
CHINESE_NUMERALS = {"一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7,
                    "八": 8, "九": 9, "十": 10}  # fmt: skip

# (plan code, row key, field): why the number is not written as such in the row's text.
DERIVED = {
    ("fuxin-2021-2025", "t-clerk-deploy", "target_value"): "全部乡镇街道 → 100 %",
    ("fuxin-2021-2025", "t-clerk-deploy-m1", "planned_value"): "至少三分之二 → 66.6667 %",
    ("fuxin-2021-2025", "t-clerk-deploy-m2", "planned_value"): "全部 → 100 %",
    ("haimen-2021-2025", "t-town-fire-office", "target_value"): "所有镇（街道） → 100 %",
    ("haimen-2021-2025", "t-relocate-stations", "target_value"): "北海路、四甲: 2 stations named",
    ("haimen-2021-2025", "t-relocate-stations/开发区", "value"): "one station in the 表2 row",
    ("haimen-2021-2025", "t-relocate-stations/四甲镇", "value"): "one station in the 表2 row",
    ("haimen-2021-2025", "t-new-stations", "target_value"): "表2 lists 2 new stations",
    ("haimen-2021-2025", "t-new-stations/开发区", "value"): "表2: 2 new stations in 开发区",
    ("nanjing-2021-2023", "t-specialist-teams", "target_value"): "task 6 names 9 teams",
    ("nanyang-2021-2025", "tg-b5-indoor-halls/内乡县", "value"): "one hall per 附件3 row",
    ("nanyang-2021-2025", "tg-b5-indoor-halls/西峡县", "value"): "one hall per 附件3 row",
}
# 连州 附表2 names one town per cell: each town brigade is one (1) brigade.
for _n in range(1, 7):
    DERIVED[("lianzhou-2021-2025", f"t-town-brigades-m{_n}", "planned_value")] = "one town"
for _town in ["九陂镇", "保安镇", "丰阳镇", "三水乡", "龙坪镇", "大路边镇"]:
    DERIVED[("lianzhou-2021-2025", f"t-town-brigades/{_town}", "value")] = "one town"


def normal(text: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", str(text)))


def spellings(value) -> set[str]:
    number = Decimal(str(value)).normalize()
    forms = {format(number, "f")}
    if number == number.to_integral_value():
        whole = int(number)
        forms.add(str(whole))
        forms.update(k for k, v in CHINESE_NUMERALS.items() if v == whole)
    if number >= 1000:
        forms.add(format((number / 10000).normalize(), "f") + "万")
    return forms


def rows(data: dict):
    """(key, row) for every row that carries source_text, nested ones included."""
    plan = data["plan"]
    yield plan["code"], plan
    for kind in ["regions", "units", "stages", "sections", "stations", "fire_statistics"]:
        for row in data.get(kind) or []:
            yield row.get("code") or row.get("path") or row.get("name") or row.get("year"), row
    for row in data.get("base_figures") or []:
        yield f"{row['name']}/{row['year']}", row
    stack = list(data.get("sections") or [])
    while stack:
        section = stack.pop()
        stack.extend(section.get("children") or [])
        yield section["code"], section
    for kind in ["tasks", "targets"]:
        for row in data.get(kind) or []:
            yield row["code"], row
            for n, milestone in enumerate(row.get("milestones") or [], 1):
                yield milestone.get("code") or f"{row['code']}-m{n}", milestone
            for allocation in row.get("allocations") or []:
                yield f"{row['code']}/{allocation['region'].split('/')[-1]}", allocation


FIXTURES = [pytest.param(path, id=path.stem) for path in fixture_files()]


def load(path: Path) -> tuple[dict, str]:
    data = yaml.safe_load(path.read_text("utf-8"))
    return data, normal((SOURCES / data["plan"]["source_file"]).read_text("utf-8"))


@pytest.mark.parametrize("path", FIXTURES)
def test_every_source_text_is_quoted_verbatim_from_the_plan(path):
    data, text = load(path)
    missing = []
    for key, row in rows(data):
        for passage in str(row.get("source_text") or "").splitlines():
            for cell in passage.split(" | "):
                if normal(cell) and normal(cell) not in text:
                    missing.append((key, cell[:60]))
    assert missing == []


@pytest.mark.parametrize("path", FIXTURES)
def test_every_quantified_row_quotes_a_source(path):
    data, _ = load(path)
    for kind in ["targets", "stations", "fire_statistics", "base_figures"]:
        for row in data.get(kind) or []:
            assert row.get("source_text"), (kind, row)


@pytest.mark.parametrize("path", FIXTURES)
def test_every_number_is_in_its_source_text_or_explained(path):
    data, _ = load(path)
    plan = data["plan"]["code"]
    unexplained = []
    for key, row in rows(data):
        quoted = normal(row.get("source_text") or "")
        for field in NUMBER_FIELDS & set(row):
            value = row[field]
            if value is None or (plan, key, field) in DERIVED:
                continue
            if not any(form in quoted for form in spellings(value)):
                unexplained.append((key, field, value))
    assert unexplained == []


def test_the_derived_list_has_no_stale_entries():
    present = set()
    for path in fixture_files():
        data, _ = load(path)
        present.update((data["plan"]["code"], key) for key, _ in rows(data))
    assert {(plan, key) for plan, key, _ in DERIVED} <= present
