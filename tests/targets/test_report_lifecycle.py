"""A figure's life through the pages: draft → submitted → returned → submitted → approved →
reopened, each step in the history with the acting user; and everything that must refuse
(approved figures, locked periods, bad values, bad evidence, a stale second edit).

The figure: 南阳's 新建消防站 (tg-new-stations, target 24) for 南召县 (allocated 3), period
2024, reported by liaison_nanzhao and reviewed by staff_nanyang.
"""

import datetime
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from core.models import Evidence, Region
from targets import services
from targets.models import ProgressReport, ReportingPeriod, Target
from tests import factories
from tests.conftest import make_user, open_period


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    """The cast's passwords are hashed on creation; a fast hasher keeps the suite quick."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


class Figure:
    def __init__(self, plan_code: str, target_code: str, region_name: str, period: str = "2024"):
        self.target = Target.objects.get(plan__code=plan_code, code=target_code)
        self.region = Region.objects.get(name=region_name)
        self.period = period

    @property
    def page(self) -> str:
        return reverse("targets:report_edit", args=[self.target.pk, self.region.pk, self.period])

    def report(self) -> ProgressReport | None:
        return ProgressReport.objects.filter(
            target=self.target, region=self.region, period=self.period
        ).first()


@pytest.fixture
def nanzhao(open_2024) -> Figure:
    return Figure("nanyang-2021-2025", "tg-new-stations", "南召县")


def text(response) -> str:
    return response.content.decode()


def version_on(client, figure: Figure) -> int:
    """The version the page hands out, as a browser would post it back."""
    return client.get(figure.page).context["form"].initial["version"]


def fill(client, figure: Figure, value, *, submit=False, version=None, **extra):
    data = {"value": value, "note": "", "confirm_note": "", **extra}
    data["version"] = version_on(client, figure) if version is None else version
    data["submit" if submit else "save"] = ""
    return client.post(figure.page, data)


def review(client, action: str, figure: Figure, reason: str = ""):
    report = figure.report()
    url = reverse(f"targets:report_{action}", args=[report.pk])
    return client.post(url, {"version": report.version, "reason": reason})


# ------------------------------------------------------------------------------ life cycle


def test_a_figure_goes_through_its_whole_life_in_the_pages_and_history(
    client, nanzhao, liaison_nanzhao, staff_nanyang
):
    liaison, staff = client, Client()
    liaison.force_login(liaison_nanzhao)
    staff.force_login(staff_nanyang)

    assert liaison.get(nanzhao.page).context["editable"]
    response = fill(liaison, nanzhao, "2", note="南召县城区站、云阳镇站")
    assert response.status_code == 302
    assert "已保存草稿" in text(liaison.get(nanzhao.page))
    assert nanzhao.report().status == "draft"

    fill(liaison, nanzhao, "2", submit=True)
    assert nanzhao.report().status == "submitted"

    response = review(staff, "return", nanzhao, reason="缺少竣工验收佐证材料")
    assert response.status_code == 302
    assert nanzhao.report().status == "returned"
    page = liaison.get(nanzhao.page)
    assert re.search(r'data-testid="return-reason">退回理由：缺少竣工验收佐证材料', text(page))
    assert "已退回" in text(liaison.get(reverse("targets:my_reports")))

    fill(liaison, nanzhao, "3", submit=True)
    assert (nanzhao.report().status, nanzhao.report().value) == ("submitted", 3)

    review(staff, "approve", nanzhao)
    assert nanzhao.report().status == "approved"
    assert nanzhao.report().reviewed_by == staff_nanyang

    review(staff, "reopen", nanzhao, reason="统计口径调整")
    report = nanzhao.report()
    assert report.status == "returned"
    assert report.return_reason == "重新打开：统计口径调整"
    assert "退回理由：重新打开：统计口径调整" in text(liaison.get(nanzhao.page))

    steps = [
        (record.history_change_reason, record.history_user.username)
        for record in report.history.order_by("history_date", "history_id")
    ]
    assert steps == [
        ("保存草稿", "liaison_nanzhao"),
        ("提交", "liaison_nanzhao"),
        ("退回", "staff_nanyang"),
        ("提交", "liaison_nanzhao"),
        ("审核通过", "staff_nanyang"),
        ("重新打开", "staff_nanyang"),
    ]
    timeline = text(liaison.get(nanzhao.page))
    for reason, who in steps:
        assert f"{who} " in timeline and f"（{reason}）" in timeline
    assert re.search(r"填报值：2(\.0+)? → 3(\.0+)?<", timeline)
    assert "状态：已审核 → 已退回" in timeline


def test_an_approved_figure_cannot_be_edited_by_anyone(
    client, nanzhao, liaison_nanzhao, staff_nanyang
):
    report = services.save_report(
        actor=liaison_nanzhao, target=nanzhao.target, region=nanzhao.region, period="2024",
        value=3, submit=True,
    )  # fmt: skip
    services.approve_report(report, actor=staff_nanyang)
    for user in (liaison_nanzhao, staff_nanyang):
        client.force_login(user)
        page = client.get(nanzhao.page)
        assert not page.context["editable"]
        assert re.search(r'data-testid="report-value">3<', text(page))

        response = fill(client, nanzhao, "5", version=report.version + 1)

        assert response.status_code == 400
        assert "该报送当前为“已审核”，不能修改" in text(response)
        assert (nanzhao.report().value, nanzhao.report().status) == (3, "approved")


def test_resubmitting_an_approved_figure_is_refused_with_a_message(
    client, nanzhao, liaison_nanzhao, staff_nanyang
):
    report = services.save_report(
        actor=liaison_nanzhao, target=nanzhao.target, region=nanzhao.region, period="2024",
        value=3, submit=True,
    )  # fmt: skip
    services.approve_report(report, actor=staff_nanyang)
    client.force_login(liaison_nanzhao)

    response = client.post(reverse("targets:report_submit", args=[report.pk]), follow=True)

    assert "只有“草稿、已退回”的报送才能执行此操作" in text(response) or (
        "只有“已退回、草稿”的报送才能执行此操作" in text(response)
    )
    assert nanzhao.report().status == "approved"


def test_returning_needs_a_reason(client, nanzhao, liaison_nanzhao, staff_nanyang):
    services.save_report(
        actor=liaison_nanzhao, target=nanzhao.target, region=nanzhao.region, period="2024",
        value=3, submit=True,
    )  # fmt: skip
    client.force_login(staff_nanyang)

    response = review(client, "return", nanzhao, reason="   ")

    assert "请填写理由" in text(client.get(response["Location"]))
    assert nanzhao.report().status == "submitted"


# ------------------------------------------------------------------------------ bulk approve


@pytest.fixture
def three_figures(nanzhao, liaison_nanzhao, liaison_xixia):
    """Two submitted figures (南召县, 西峡县) and one draft (南召县's 重点镇消防站)."""
    xixia = Figure("nanyang-2021-2025", "tg-new-stations", "西峡县")
    draft = Figure("nanyang-2021-2025", "tg-b3-key-town", "南召县")
    for figure, who, submit in (
        (nanzhao, liaison_nanzhao, True),
        (xixia, liaison_xixia, True),
        (draft, liaison_nanzhao, False),
    ):
        services.save_report(
            actor=who, target=figure.target, region=figure.region, period="2024", value=1,
            submit=submit,
        )  # fmt: skip
    return nanzhao, xixia, draft


def test_bulk_approve_is_all_or_nothing(client, three_figures, staff_nanyang):
    client.force_login(staff_nanyang)
    ids = [figure.report().pk for figure in three_figures]

    response = client.post(reverse("targets:reports_bulk_approve"), {"report": ids}, follow=True)

    assert "批量审核未执行" in text(response)
    assert [f.report().status for f in three_figures] == ["submitted", "submitted", "draft"]


def test_bulk_approve_approves_every_selected_figure_with_history(
    client, three_figures, staff_nanyang
):
    nanzhao, xixia, _ = three_figures
    client.force_login(staff_nanyang)

    response = client.post(
        reverse("targets:reports_bulk_approve"),
        {"report": [f"{f.report().pk}:{f.report().version}" for f in (nanzhao, xixia)]},
        follow=True,
    )

    assert "已批量审核通过 2 条" in text(response)
    for figure in (nanzhao, xixia):
        record = figure.report().history.first()
        assert figure.report().status == "approved"
        assert (record.history_change_reason, record.history_user) == ("审核通过", staff_nanyang)


# ------------------------------------------------------------------------------ locked period


def test_a_locked_period_refuses_entry_and_says_so(client, seeded, liaison_nanzhao, staff_nanyang):
    period = open_period("nanyang-2021-2025", "2023", due_in_days=-60, locks_in_days=-1)
    figure = Figure("nanyang-2021-2025", "tg-new-stations", "南召县", period="2023")
    client.force_login(liaison_nanzhao)

    owed = client.get(reverse("targets:my_reports"))
    response = fill(client, figure, "1", version=0)

    assert re.search(r"2023</td>.*?已锁定", text(owed), re.S)
    assert response.status_code == 400
    assert f"2023 期间已于 {period.locks_on} 锁定，如需补报请联系委员会办公室开放" in text(response)
    assert figure.report() is None

    services.grant_lock_exception(
        actor=staff_nanyang,
        reporting_period=period,
        region=figure.region,
        until=timezone.localdate(),
        reason="补报",
    )
    assert fill(client, figure, "1", version=0).status_code == 302
    assert figure.report().value == 1


# ------------------------------------------------------------------------------ bad input


@pytest.fixture
def draft(nanzhao, liaison_nanzhao, client):
    services.save_report(
        actor=liaison_nanzhao, target=nanzhao.target, region=nanzhao.region, period="2024",
        value=2, note="原说明",
    )  # fmt: skip
    client.force_login(liaison_nanzhao)
    return nanzhao


def assert_unchanged(figure: Figure) -> None:
    report = figure.report()
    assert (report.value, report.note, report.version, report.status) == (2, "原说明", 1, "draft")
    assert report.evidence.count() == 0
    assert not Evidence.objects.exists()


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("三个", "“三个”不是数字，应填写不小于 0 的数字（单位：个）"),
        ("-1", "不能为负数，应填写不小于 0 的数字（单位：个）"),
        ("2.5", "计量单位为“个”，应填写整数"),
        ("NaN", "应填写不小于 0 的数字（单位：个）"),
        ("100000000000000000000", "数值过大"),
    ],
)
def test_a_bad_value_changes_nothing_and_the_page_says_why(client, draft, value, message):
    response = fill(client, draft, value, note="新说明")

    assert response.status_code == 400
    assert message in text(response)
    assert_unchanged(draft)


def test_120_for_a_percentage_target_is_refused(client, open_2024, liaison_lianzhou):
    figure = Figure("lianzhou-2021-2025", "g-four-abilities", "连州市")
    client.force_login(liaison_lianzhou)

    response = fill(client, figure, "120", version=0)

    assert response.status_code == 400
    assert "百分比应在 0 到 100 之间" in text(response)
    assert figure.report() is None


def test_submitting_without_a_value_is_refused(client, draft):
    response = fill(client, draft, "", submit=True)

    assert response.status_code == 400
    assert "提交前请填写数值" in text(response)
    assert_unchanged(draft)


def upload(name: str, content: bytes, content_type: str = "application/pdf"):
    return SimpleUploadedFile(name, content, content_type=content_type)


@pytest.mark.parametrize(
    ("evidence", "message"),
    [
        (
            lambda: upload("验收报告.pdf", b"%PDF-1.7\n" + b"0" * (3 * 1024 * 1024 // 2)),
            "佐证材料“验收报告.pdf”大小 1.5 MB，超过上限 1 MB",
        ),
        (
            lambda: upload("setup.exe", b"MZ\x90\x00", "application/octet-stream"),
            "佐证材料“setup.exe”的类型不允许",
        ),
        (
            lambda: upload("扫描件.pdf", b"MZ\x90\x00\x03\x00\x00\x00"),
            "佐证材料“扫描件.pdf”的内容与扩展名 .pdf 不符",
        ),
    ],
    ids=["oversized", "wrong-type", "renamed-executable"],
)
def test_bad_evidence_changes_nothing_and_the_page_says_why(
    client, draft, settings, tmp_path, evidence, message
):
    settings.EVIDENCE_MAX_BYTES = 1024 * 1024
    settings.MEDIA_ROOT = tmp_path
    response = fill(client, draft, "3", note="新说明", evidence=evidence())

    assert response.status_code == 400
    assert message in text(response)
    assert_unchanged(draft)
    assert not any(tmp_path.rglob("*.*"))


def test_good_evidence_is_kept_and_listed_on_the_page(client, draft, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    response = fill(client, draft, "3", evidence=upload("验收报告.pdf", b"%PDF-1.7\n%%EOF\n"))

    assert response.status_code == 302
    assert draft.report().evidence.get().original_name == "验收报告.pdf"
    assert "验收报告.pdf" in text(client.get(draft.page))


@pytest.mark.parametrize(
    ("action", "next_url"),
    [
        ("approve", "https://evil.example/"),
        ("approve", "//evil.example/"),
        ("bulk", "https://evil.example/"),
        ("bulk", "//evil.example/"),
    ],
)
def test_a_next_address_off_the_site_is_ignored(
    client, nanzhao, liaison_nanzhao, staff_nanyang, action, next_url
):
    report = services.save_report(
        actor=liaison_nanzhao, target=nanzhao.target, region=nanzhao.region, period="2024",
        value=1, submit=True,
    )  # fmt: skip
    client.force_login(staff_nanyang)
    if action == "bulk":
        url, data = (
            reverse("targets:reports_bulk_approve"),
            {"report": [report.pk], "next": next_url},
        )
    else:
        url, data = reverse("targets:report_approve", args=[report.pk]), {"next": next_url}

    response = client.post(url, data)

    assert response.status_code == 302
    assert response["Location"].startswith("/") and not response["Location"].startswith("//")


# ------------------------------------------------------------------------------ plausibility


def test_an_implausible_figure_needs_a_confirming_comment_then_saves(
    client, nanzhao, liaison_nanzhao, staff_nanyang
):
    client.force_login(liaison_nanzhao)

    refused = fill(client, nanzhao, "80", version=0)

    assert refused.status_code == 400
    # 南召县 is compared with its own share (附件1: 3), not 南阳's 24.
    assert "数值超过目标值 3 的 3 倍，请确认" in text(refused)
    assert "请在“异常值说明”中说明后再保存" in text(refused)
    assert nanzhao.report() is None

    accepted = fill(
        client, nanzhao, "80", submit=True, version=0, confirm_note="含规划外企业专职站"
    )

    assert accepted.status_code == 302
    report = nanzhao.report()
    assert (report.value, report.confirm_note, report.status) == (
        80,
        "含规划外企业专职站",
        "submitted",
    )
    client.force_login(staff_nanyang)
    assert "异常值已说明" in text(client.get(reverse("targets:review_inbox")))


# ------------------------------------------------------------------------------ contributions


def test_a_supporting_units_contribution_shows_on_the_lead_units_report_page(
    client, open_2024, liaison_lianzhou
):
    """连州's 新增市政消火栓 (t-hydrants): 水务部门 leads, 供水单位 supports."""
    supplier = make_user("liaison_water_supply", "liaison", "连州市", unit_name="供水单位")
    lead = make_user("liaison_water_bureau", "liaison", "连州市", unit_name="水务部门")
    figure = Figure("lianzhou-2021-2025", "t-hydrants", "连州市")
    services.save_contribution(
        actor=supplier, target=figure.target, region=figure.region, period="2024", value=12,
        note="新建小区配套消火栓",
    )  # fmt: skip

    for reader in (lead, liaison_lianzhou):
        client.force_login(reader)
        page = text(client.get(figure.page))
        assert re.search(
            r'data-testid="contributions">.*供水单位：12 个（新建小区配套消火栓）', page
        )


# ------------------------------------------------------------------------------ concurrency


def test_two_edits_of_the_same_draft_give_one_conflict_and_lose_nothing(
    client, draft, staff_nanyang
):
    first, second = client, Client()
    second.force_login(staff_nanyang)
    seen_by_first, seen_by_second = version_on(first, draft), version_on(second, draft)
    assert seen_by_first == seen_by_second == 1

    saved = fill(first, draft, "3", version=seen_by_first)
    refused = fill(second, draft, "4", version=seen_by_second)

    assert saved.status_code == 302
    assert refused.status_code == 400
    assert text(refused).count("该记录已被他人修改，请刷新后重试") == 1
    assert "liaison_nanzhao" in text(refused)
    assert (draft.report().value, draft.report().version) == (3, 2)

    reloaded = fill(second, draft, "4")
    assert reloaded.status_code == 302
    assert (draft.report().value, draft.report().version) == (4, 3)


# ------------------------------------------------------------------------------ query counts


def many_figures(rows: int, *, status: str) -> dict:
    """A county plan under 南阳 with ``rows`` targets, period 2024 open and one figure each."""
    county = factories.region("测试县", level="district", parent=Region.objects.get(name="南阳市"))
    plan = factories.plan("test-county-plan", region=county)
    today = timezone.localdate()
    ReportingPeriod.objects.create(
        plan=plan, period="2024", due_on=today, locks_on=today + datetime.timedelta(days=30)
    )
    liaison = make_user("liaison_test_county", "liaison", "测试县")
    staff = make_user("staff_test_county", "staff", "测试县")
    for number in range(rows):
        target = factories.target(plan, code=f"g{number}", name=f"指标{number}", measure_unit="个")
        ProgressReport.objects.create(
            target=target, region=county, period="2024", value=number, status=status,
            submitted_by=liaison, submitted_at=timezone.now(),
        )  # fmt: skip
    return {"liaison": liaison, "staff": staff, "plan": plan}


def count_queries(client, user, url: str, rows: int, key: str) -> int:
    client.force_login(user)
    client.get(url)  # warm the per-process caches (content types, site)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    assert len(response.context[key]) == rows
    return len(queries)


@pytest.mark.parametrize("rows", [1, 30])
def test_my_reports_costs_the_same_queries_for_1_and_30_rows(client, seeded, rows):
    cast = many_figures(rows, status="draft")
    # session, user with profile, region tree (scope), region tree (owed regions), reportable
    # targets, their allocations (prefetch), the plans' periods, the reports, the lock
    # exceptions, unread notices (header). Nothing per row.
    assert (
        count_queries(client, cast["liaison"], reverse("targets:my_reports"), rows, "items") == 10
    )


@pytest.mark.parametrize("rows", [1, 30])
def test_review_inbox_costs_the_same_queries_for_1_and_30_rows(client, seeded, rows):
    cast = many_figures(rows, status="submitted")
    # session, user with profile, region tree (scope), count, the page of reports with target,
    # plan, region and submitter joined, unread notices (header), plan choices and region
    # choices of the filter bar. Nothing per row.
    assert count_queries(client, cast["staff"], reverse("targets:review_inbox"), rows, "page") == 8


def test_a_bad_second_evidence_file_stores_neither_file(
    settings, tmp_path, nanzhao, liaison_nanzhao
):
    """The database rolls back on a bad file; the good file before it must not be left on disk."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from core.models import Evidence
    from targets import services as report_services

    settings.MEDIA_ROOT = tmp_path
    good = SimpleUploadedFile("验收报告.pdf", b"%PDF-1.7\n%%EOF\n")
    bad = SimpleUploadedFile("病毒.pdf", b"MZ not a pdf")
    item = nanzhao
    with pytest.raises(report_services.ServiceError):
        report_services.save_report(
            actor=liaison_nanzhao, target=item.target, region=item.region, period="2024",
            value=1, evidence=[good, bad],
        )  # fmt: skip
    assert item.report() is None
    assert not Evidence.objects.exists()
    assert not any(p.is_file() for p in tmp_path.rglob("*"))
