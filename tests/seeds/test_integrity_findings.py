"""check_plans on the five seed plans reports exactly the contradictions the texts hold."""

from collections import Counter

import pytest

from planning.models import Plan
from targets.integrity import ERROR, WARNING, check_plan_integrity
from targets.models import Target

pytestmark = pytest.mark.django_db

NANYANG_COUNTIES = ["内乡县", "南召县", "卧龙区", "唐河县", "宛城区", "新野县", "方城县",
                    "桐柏县", "淅川县", "社旗县", "西峡县", "邓州市", "镇平县"]  # fmt: skip

EXPECTED_ERRORS = sorted(
    [
        # 南阳 附件1: the county columns add up to 20 and 18, the text says 24 and 22.
        ("nanyang-2021-2025", "allocation_total_mismatch",
         ("tg-new-stations", *(f"tg-new-stations/{c}" for c in NANYANG_COUNTIES))),
        ("nanyang-2021-2025", "allocation_total_mismatch",
         ("tg-b3-key-town", *(f"tg-b3-key-town/{c}" for c in NANYANG_COUNTIES))),
        # 南阳 line 174: 注册消防志愿者 不少于1万人 … 不少于20万人.
        ("nanyang-2021-2025", "conflicting_target_values", ("tg-volunteers-10k", "tg-volunteers-200k")),
        # 连州 第一章: 新建消防站80个 but 消防站总数达到5个; 新增专职队员32人 but 现有15人.
        ("lianzhou-2021-2025", "increment_exceeds_total",
         ("“十三五”期间新建消防站（含小型消防站）/2020", "消防站（含政府专职消防队）/2020")),
        ("lianzhou-2021-2025", "increment_exceeds_total",
         ("“十三五”期间新增政府专职消防队员/2020", "政府专职消防队员/2020")),
    ]
)  # fmt: skip

EXPECTED_WARNINGS = {
    # Targets whose sentence states no year (专栏 norms, recurring duties) or no value.
    ("fuxin-2021-2025", "target_incomplete"): 21,
    ("haimen-2021-2025", "target_incomplete"): 8,
    ("lianzhou-2021-2025", "target_incomplete"): 15,
    ("nanjing-2021-2023", "target_incomplete"): 1,
    ("nanyang-2021-2025", "target_incomplete"): 36,
    # 南京's three-year plan restates the 十四五 goal of 51 new stations by 2025.
    ("nanjing-2021-2023", "target_year_outside_plan"): 1,
    # 阜新 was issued 2022-10-11 but sets four deadlines at 2022年6月底前.
    ("fuxin-2021-2025", "milestone_before_issue"): 4,
}


@pytest.fixture
def findings(seeded):
    return check_plan_integrity(Plan.objects.exclude(status="reference"))


def test_errors_are_exactly_the_contradictions_in_the_texts(findings):
    def normal(rows):
        return sorted((plan, code, tuple(sorted(items))) for plan, code, items in rows)

    found = [(f.plan, f.code, f.item_codes) for f in findings if f.level == ERROR]
    assert normal(found) == normal(EXPECTED_ERRORS)


def test_warnings_are_the_expected_ones(findings):
    assert Counter((f.plan, f.code) for f in findings if f.level == WARNING) == EXPECTED_WARNINGS


def test_consistent_statements_are_not_reported(findings):
    reported = {code for f in findings for code in f.item_codes}
    # 连州 hydrants 20+30+40+50+50 = 190; 南阳 38 + 24 = 62 stations.
    assert "t-hydrants" not in reported
    assert "tg-stations-total" not in reported


def test_baseline_plus_increment_is_checked_on_the_real_rows(seeded):
    # Prove the 南阳 pair is matched: break the total and the check must say so.
    Target.objects.filter(plan__code="nanyang-2021-2025", code="tg-stations-total").update(
        target_value=63
    )
    found = check_plan_integrity(Plan.objects.filter(code="nanyang-2021-2025"))
    assert ("baseline_increment_mismatch", ["tg-stations-total", "tg-new-stations"]) in [
        (f.code, f.item_codes) for f in found
    ]


def test_every_finding_quotes_its_source_text(findings):
    for finding in findings:
        assert finding.items and all(item.source_text for item in finding.items), finding
