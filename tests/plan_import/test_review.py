"""The review page (issue 18, item 3) through the Django test client: upload a .docx made in
the test → review (document beside the draft tree) → drop a task, edit a target → 「发布」
→ the plan holds exactly the reviewed content; errors write nothing."""

from __future__ import annotations

from html.parser import HTMLParser
from unittest import mock

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from core.models import Region, Unit
from core.services import ServiceError
from plan_import.models import PlanDraft
from planning.models import Plan, Task
from targets.models import Target
from tests.conftest import make_user
from tests.plan_import.documents import docx_from_text

TEXT = """南京市消防救援能力提升行动计划（2024—2026年）

一、重点任务
（一）加强消防站建设。到2026年，全市新建消防站12个。（责任单位：市消防救援支队、市规划资源局）
（二）完善消防水源。到2025年，全市新建市政消火栓300个。（责任单位：市水务局）
（三）开展消防宣传。每年开展消防宣传活动不少于50场。（责任单位：市委宣传部）
"""


class _Form(HTMLParser):
    """The review form's fields as a browser would submit them (checked boxes, selected
    options, input values)."""

    def __init__(self):
        super().__init__()
        self.fields: dict[str, str] = {}
        self._select: str | None = None
        self._first_option: str | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        name = a.get("name")
        if tag == "input" and name and name != "action":
            if a.get("type") == "checkbox":
                if "checked" in a:
                    self.fields[name] = a.get("value", "on")
            else:
                self.fields[name] = a.get("value") or ""
        elif tag == "select":
            self._select, self._first_option = name, None
        elif tag == "option" and self._select:
            if self._first_option is None:
                self._first_option = a.get("value")
                self.fields.setdefault(self._select, a.get("value"))
            if "selected" in a:
                self.fields[self._select] = a.get("value")

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None


def form_fields(html: str) -> dict[str, str]:
    parser = _Form()
    parser.feed(html)
    return parser.fields


def upload(client, name="计划.docx", data=None):
    data = docx_from_text(TEXT) if data is None else data
    return client.post(reverse("plan_import:upload"), {"file": SimpleUploadedFile(name, data)})


def test_plan_list_links_to_the_import(staff_nanjing, client):
    client.force_login(staff_nanjing)
    page = client.get(reverse("reports:plan_list")).content.decode()
    assert reverse("plan_import:upload") in page and "从文件导入" in page


def test_upload_review_drop_edit_publish(staff_nanjing, client):
    client.force_login(staff_nanjing)
    assert client.get(reverse("plan_import:upload")).status_code == 200
    response = upload(client)
    assert response.status_code == 302
    draft = PlanDraft.objects.get(owner=staff_nanjing)
    assert response["Location"] == reverse("plan_import:review", args=[draft.pk])
    page = client.get(response["Location"])
    assert page.status_code == 200
    html = page.content.decode()
    # the document on one side, each item linked to its source line
    assert 'id="doc-L3"' in html and "加强消防站建设。到2026年" in html
    assert 'href="#doc-L3"' in html and 'href="#doc-L4"' in html

    fields = form_fields(html)
    assert fields["task-t1-title"] == "加强消防站建设"
    assert fields["target-g1-value"] == "12"
    # drop the second task (and its target), edit the first task's target
    del fields["task-t2-keep"]
    fields.update(
        {
            "target-g1-value": "15",
            "target-g1-name": "全市新建消防站（含小型站）",
            "target-g1-year": "2025",
            "target-g1-comparator": "eq",
            "task-t3-title": "开展消防宣传教育",
            "action": "publish",
        }
    )
    before = Plan.objects.count()
    response = client.post(reverse("plan_import:review", args=[draft.pk]), fields)
    assert response.status_code == 302, response.content.decode()[:2000]
    assert Plan.objects.count() == before + 1
    plan = Plan.objects.get(title="南京市消防救援能力提升行动计划（2024—2026年）")
    assert response["Location"] == reverse("reports:plan_detail", args=[plan.pk])
    assert plan.region == Region.objects.get(name="南京市")
    assert (plan.start_year, plan.end_year) == (2024, 2026)
    assert sorted(plan.tasks.values_list("title", flat=True)) == sorted(
        ["加强消防站建设", "开展消防宣传教育"]
    )
    targets = list(Target.objects.filter(plan=plan))
    assert len(targets) == 1
    target = targets[0]
    assert (target.name, target.target_value, target.target_year, target.comparator) == (
        "全市新建消防站（含小型站）",
        15,
        2025,
        "eq",
    )
    assert target.task.title == "加强消防站建设"
    task = plan.tasks.get(title="加强消防站建设")
    assert [a.unit.name for a in task.assignments.order_by("order")] == [
        "市消防救援支队",
        "市规划资源局",
    ]
    assert task.history.first().history_user == staff_nanjing
    draft.refresh_from_db()
    assert draft.published_plan == plan
    # 「发布」 sent twice (double click, reload) publishes once
    assert fields["once_token"]
    twice = client.post(reverse("plan_import:review", args=[draft.pk]), fields)
    assert twice.status_code == 302 and Plan.objects.count() == before + 1
    # the review page of a published draft leads to the plan
    again = client.get(reverse("plan_import:review", args=[draft.pk]))
    assert again.status_code == 302 and again["Location"].endswith(f"/plans/{plan.pk}/")


def test_unit_names_can_be_matched_to_existing_units(staff_nanjing, client):
    client.force_login(staff_nanjing)
    upload(client)
    draft = PlanDraft.objects.get(owner=staff_nanjing)
    fields = form_fields(
        client.get(reverse("plan_import:review", args=[draft.pk])).content.decode()
    )
    existing = Unit.objects.filter(region__name="南京市").exclude(name="市水务局").first()
    index = next(k for k, v in fields.items() if v == "市水务局" and k.endswith("-name"))
    fields[index.removesuffix("-name")] = str(existing.pk)
    fields["action"] = "publish"
    max_pk = Unit.objects.order_by("-pk").values_list("pk", flat=True).first()
    response = client.post(reverse("plan_import:review", args=[draft.pk]), fields)
    assert response.status_code == 302
    plan = PlanDraft.objects.get(pk=draft.pk).published_plan
    task = plan.tasks.get(title="完善消防水源")
    assert [a.unit for a in task.assignments.all()] == [existing]
    # the names left on 「新建单位」 and not known in 南京市 became new units there
    created = Unit.objects.filter(pk__gt=max_pk)
    assert "市水务局" not in {unit.name for unit in created}
    assert all(unit.region.name == "南京市" for unit in created)


def test_a_wrong_field_is_named_and_nothing_is_written(staff_nanjing, client):
    client.force_login(staff_nanjing)
    upload(client)
    draft = PlanDraft.objects.get(owner=staff_nanjing)
    url = reverse("plan_import:review", args=[draft.pk])
    fields = form_fields(client.get(url).content.decode())
    fields.update({"target-g1-value": "十五", "target-g2-year": "明年", "action": "publish"})
    before = (Plan.objects.count(), Task.objects.count(), Unit.objects.count())
    response = client.post(url, fields)
    assert response.status_code == 400
    html = response.content.decode()
    assert "目标值应为数字" in html and "年度应为四位数字" in html
    assert (Plan.objects.count(), Task.objects.count(), Unit.objects.count()) == before


def test_a_failure_half_way_writes_nothing(staff_nanjing, client):
    client.force_login(staff_nanjing)
    upload(client)
    draft = PlanDraft.objects.get(owner=staff_nanjing)
    url = reverse("plan_import:review", args=[draft.pk])
    fields = form_fields(client.get(url).content.decode())
    fields["action"] = "publish"
    before = (Plan.objects.count(), Task.objects.count(), Unit.objects.count())
    with mock.patch(
        "plan_import.publish.create_target",
        side_effect=ServiceError("boom", "指标写入失败"),
    ):
        response = client.post(url, fields)
    assert response.status_code == 400
    assert "指标写入失败" in response.content.decode()
    assert (Plan.objects.count(), Task.objects.count(), Unit.objects.count()) == before
    assert PlanDraft.objects.get(pk=draft.pk).published_plan is None


def test_a_region_outside_the_scope_is_refused(staff_nanjing, client):
    client.force_login(staff_nanjing)
    upload(client)
    draft = PlanDraft.objects.get(owner=staff_nanjing)
    url = reverse("plan_import:review", args=[draft.pk])
    fields = form_fields(client.get(url).content.decode())
    fields.update({"region": str(Region.objects.get(name="南阳市").pk), "action": "publish"})
    before = Plan.objects.count()
    response = client.post(url, fields)
    assert response.status_code == 400
    assert "请选择规划所属区划" in response.content.decode()
    assert Plan.objects.count() == before


def test_refused_documents_give_a_clear_message(staff_nanjing, client):
    client.force_login(staff_nanjing)
    response = upload(client, name="计划.docx", data=b"not a zip at all")
    assert response.status_code == 400
    assert 'data-testid="import-error"' in response.content.decode()
    response = upload(client, name="计划.exe", data=b"MZ")
    assert "不能导入" in response.content.decode()
    assert not PlanDraft.objects.exists()


def test_staff_only_and_drafts_are_their_owners(staff_nanjing, liaison_lianzhou, seeded, client):
    client.force_login(liaison_lianzhou)
    assert client.get(reverse("plan_import:upload")).status_code == 403
    assert upload(client).status_code == 403
    client.force_login(staff_nanjing)
    upload(client)
    draft = PlanDraft.objects.get(owner=staff_nanjing)
    other = make_user("staff_nanjing_2", "staff", "南京市")
    client.force_login(other)
    assert client.get(reverse("plan_import:review", args=[draft.pk])).status_code == 404
    assert client.post(reverse("plan_import:review", args=[draft.pk]), {}).status_code == 404


@pytest.mark.parametrize("copies", [1, 6])
def test_review_page_queries_do_not_grow_with_items(
    copies, staff_nanjing, client, django_assert_max_num_queries
):
    client.force_login(staff_nanjing)
    text = TEXT + "\n".join(
        f"（{n}）加强第{n}项建设。到2026年，全市新建设施{n}个。（责任单位：市{n}局）"
        for n in "四五六七八九"[: copies - 1]
    )
    upload(client, data=docx_from_text(text))
    draft = PlanDraft.objects.get(owner=staff_nanjing)
    with django_assert_max_num_queries(8):
        assert client.get(reverse("plan_import:review", args=[draft.pk])).status_code == 200


def test_a_target_without_a_value_must_get_one_or_be_dropped(staff_nanjing):
    from django.http import QueryDict

    from plan_import.review import apply_review

    draft = PlanDraft.objects.create(
        owner=staff_nanjing,
        file_name="x.txt",
        data={
            "plan": {"title": "某规划", "start_year": 2024, "end_year": 2026},
            "targets": [
                {"ref": "g1", "task_ref": None, "section_ref": None, "name": "覆盖率",
                 "value": None, "unit": "%", "comparator": "gte", "year": 2026},
            ],
        },
    )  # fmt: skip
    region = Region.objects.get(name="南京市")
    post = QueryDict(mutable=True)
    post.update({"region": str(region.pk), "target-g1-keep": "1"})
    review = apply_review(draft, post, actor=staff_nanjing)
    assert review.errors == {"target-g1-value": "请填写目标值，或删除这一指标"}
    del post["target-g1-keep"]
    assert apply_review(draft, post, actor=staff_nanjing).errors == {}
