"""Scoring rules as data (points, basis, deductions, veto items, grade bands), edited by staff
with history; pace ratios and evaluation verdicts from the status engine's numbers."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from core.models import Region
from core.services import NotAllowed
from planning.models import Plan
from reports.excel import scoring
from reports.models import AssessmentScheme, Deduction, GradeBand, VetoItem
from targets.models import ProgressReport
from targets.rollups import StatusBoard
from targets.status import StatusRules
from tests import factories

pytestmark = pytest.mark.django_db

NANYANG = "nanyang-2021-2025"


def nanyang() -> Plan:
    return Plan.objects.get(code=NANYANG)


# ------------------------------------------------------------------------------ verdicts


@pytest.fixture
def pace():
    """A plan 2021–2025 and a target of 10 new stations by 2025 (no milestones: linear)."""
    owner = factories.plan("pace-plan")
    return factories.target(owner, measure_unit="个")


def judge(target, yearly: list[int], on: datetime.date):
    for year, value in zip(range(2021, 2021 + len(yearly)), yearly, strict=True):
        ProgressReport.objects.create(
            target=target, region=target.region, period=str(year), value=value, status="approved"
        )
    board = StatusBoard([target.plan], on=on)
    progress = board.target_progress[target.pk]
    return (
        progress,
        scoring.pace_ratio(target, progress),
        scoring.verdict(target, progress, rules=StatusRules()),
    )


END_2023 = datetime.date(2023, 12, 31)


@pytest.mark.parametrize(
    ("yearly", "ratio", "verdict"),
    [
        ([0, 0, 7], Decimal(7) / 6, "ahead"),  # 7 of the 6 expected by the end of year 3 of 5
        ([0, 0, 6], Decimal(1), "normal"),
        ([0, 0, 5], Decimal(5) / 6, "behind"),  # ≥ 80 % of pace
        ([0, 0, 2], Decimal(2) / 6, "unlikely"),  # 33 % of pace, trend 3.3 by 2025
        ([0, 5, 5], Decimal(10) / 6, "ahead"),  # met two years early
    ],
)
def test_verdicts_follow_the_pace_ratio_and_the_projection(pace, yearly, ratio, verdict):
    progress, found, result = judge(pace, yearly, END_2023)
    assert progress.expected == 6
    assert found == pytest.approx(ratio)
    assert result == verdict


def test_far_behind_pace_on_a_short_trend_is_unlikely(pace):
    # 4 of 6 expected (67 %, below the 80 % tolerance); the straight line from the plan's
    # start reaches 6.7 by 2025, short of 10: unlikely.
    assert judge(pace, [0, 0, 4], END_2023)[2] == "unlikely"


def test_unmet_after_the_plan_ends_is_not_completed(pace):
    # The plan is over (issue 17): 未完成, not 难以完成 or 严重滞后.
    progress, _, result = judge(pace, [1, 1, 1, 1, 1], datetime.date(2026, 6, 30))
    assert (progress.status, result) == ("unmet", "not_completed")
    assert scoring.VERDICT_LABELS[result] == "未完成"


def test_met_after_the_plan_ends_is_completed(pace):
    progress, _, result = judge(pace, [2, 2, 2, 2, 2], datetime.date(2026, 6, 30))
    assert (progress.status, result) == ("met", "completed")


def test_unmet_after_the_target_year_within_the_plan_is_unlikely(pace):
    pace.target_year = 2023
    pace.save(update_fields=["target_year"])
    progress, _, result = judge(pace, [1, 1, 1], datetime.date(2024, 6, 30))
    assert (progress.status, result) == ("critical", "unlikely")


def test_no_figure_cannot_be_evaluated(pace):
    assert judge(pace, [], END_2023)[2] == "unknown"
    assert scoring.VERDICT_LABELS["unknown"] == "无法评估"


# ------------------------------------------------------------------------------ scores


def group_with(scores: list[tuple[str, str]], **rules) -> scoring.Group:
    """A group of items with (points, completion) — 'none' for not scored."""
    base = scoring.load_rules(factories.plan("score-plan"), 2023)
    for name, value in rules.items():
        setattr(base, name, value)
    group = scoring.Group("region", 1, "测试区", base)
    for points, basis in scores:
        group.items.append(
            scoring.Item(
                kind="target", object_id=0, number="", task_title="", name="", units="",
                measure_unit="", attribute="", target_value=None, year_plan=None, actual=None,
                completion=None, expected=None, status="on_track", points=Decimal(points),
                basis_value=None if basis == "none" else Decimal(basis),
            )
        )  # fmt: skip
    return group


def test_score_is_points_times_completion_scaled_to_full_marks():
    group = group_with([("10", "1"), ("5", "0.5"), ("5", "none"), ("0", "1")])
    # Scored: 10 × 1 + 5 × 0.5 = 12.5 of 15 points → 83.33 of 100; not-due and 0-point items
    # are shown but not scored.
    assert (group.points_total, group.raw_score, group.base_score) == (
        Decimal(15),
        Decimal("12.50"),
        Decimal("83.33"),
    )
    assert (group.final_score, group.grade, group.passing) == (Decimal("83.33"), "良好", True)


def test_deductions_stop_at_zero():
    group = group_with([("10", "0.5")])
    group.deductions = [
        Deduction(reason="迟报", points=Decimal(30)),
        Deduction(reason="漏报", points=Decimal(30)),
    ]
    assert (group.base_score, group.deducted, group.final_score) == (
        Decimal("50.00"),
        Decimal(60),
        Decimal(0),
    )
    assert group.grade == "不合格"


def test_a_veto_item_fails_a_full_score():
    group = group_with([("10", "1")])
    group.vetoes = [VetoItem(title="发生较大火灾事故")]
    assert group.final_score == 100
    assert (group.grade, group.passing) == ("不合格", False)


@pytest.mark.parametrize(
    ("score", "grade"),
    [("90", "优秀"), ("89.99", "良好"), ("80", "良好"), ("60", "合格"), ("59.99", "不合格")],
)
def test_default_grade_bands(score, grade):
    group = group_with([("100", str(Decimal(score) / 100))])
    assert group.grade == grade


def test_nothing_scored_yet_is_not_graded():
    group = group_with([("10", "none")])
    assert (group.base_score, group.grade, group.passing) == (None, "暂不评定", None)


# ------------------------------------------------------------------------------ editing


def test_staff_set_up_a_scheme_and_the_assessment_follows_it(client, seeded, staff_nanyang):
    client.force_login(staff_nanyang)
    url = reverse("reports:excel_scheme", args=[nanyang().pk, 2024])
    assert client.get(url).status_code == 200
    client.post(url, {"action": "create"})
    scheme = AssessmentScheme.objects.get(plan=nanyang(), year=2024)
    assert list(scheme.bands.values_list("name", flat=True)) == ["优秀", "良好", "合格", "不合格"]
    response = client.post(
        url,
        {
            "action": "update", "version": scheme.version, "title": "", "full_marks": "100",
            "binding_points": "20", "expected_points": "4", "task_points": "2",
            "basis": "target", "note": "",
        },
    )  # fmt: skip
    assert response.status_code == 302
    scheme.refresh_from_db()
    assert (scheme.expected_points, scheme.basis, scheme.version) == (4, "target", 2)
    assert scheme.history.first().history_user == staff_nanyang

    nanzhao, xixia = Region.objects.get(name="南召县"), Region.objects.get(name="西峡县")
    client.post(url, {"action": "deduction", "region": nanzhao.pk, "text": "迟报", "points": "3"})
    client.post(url, {"action": "veto", "region": xixia.pk, "text": "发生较大火灾事故"})
    assessment = scoring.build_assessment(nanyang(), 2024, user=staff_nanyang)
    groups = {g.label: g for g in assessment.groups}
    assert groups["南召县"].deducted == 3
    assert groups["南召县"].items[0].points == 4
    assert (groups["西峡县"].grade, groups["西峡县"].passing) == ("不合格", False)
    assert Deduction.history.filter(history_user=staff_nanyang).exists()

    veto = VetoItem.objects.get()
    client.post(url, {"action": "remove_veto", "pk": veto.pk})
    assert not VetoItem.objects.exists()
    assert VetoItem.history.filter(history_type="-").exists()


def test_a_deduction_needs_an_owner_and_points(client, seeded, staff_nanyang):
    client.force_login(staff_nanyang)
    url = reverse("reports:excel_scheme", args=[nanyang().pk, 2024])
    client.post(url, {"action": "create"})
    response = client.post(url, {"action": "deduction", "text": "迟报", "points": "3"})
    assert response.status_code == 400
    assert "二选一" in response.content.decode()
    nanzhao = Region.objects.get(name="南召县")
    response = client.post(url, {"action": "deduction", "region": nanzhao.pk, "text": "迟报"})
    assert response.status_code == 400
    assert not Deduction.objects.exists()


def test_supervisors_read_but_do_not_edit_rules(client, seeded, supervisor_nanyang, outsider):
    client.force_login(supervisor_nanyang)
    assert client.get(reverse("reports:excel_scheme", args=[nanyang().pk, 2024])).status_code == 403
    with pytest.raises(PermissionDenied):
        scoring.ensure_scheme(nanyang(), 2024, actor=supervisor_nanyang)
    with pytest.raises(NotAllowed):
        scoring.ensure_scheme(nanyang(), 2024, actor=outsider)
    client.force_login(outsider)
    assert client.get(reverse("reports:excel_scheme", args=[nanyang().pk, 2024])).status_code == 404


def test_item_points_override_the_default(seeded, staff_nanyang):
    scheme = scoring.ensure_scheme(nanyang(), 2024, actor=staff_nanyang)
    target = nanyang().targets.get(code="tg-new-stations")
    scoring.set_item_points(scheme, actor=staff_nanyang, points="12", target=target)
    assessment = scoring.build_assessment(nanyang(), 2024, user=staff_nanyang)
    item = next(i for i in assessment.overall.items if i.object_id == target.pk)
    assert item.points == 12
    assert GradeBand.objects.filter(scheme=scheme).count() == 4
