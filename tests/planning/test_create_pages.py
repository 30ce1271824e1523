"""Staff create a plan, its sections, subsections and tasks in the browser, and order the
sections in the tree (上移/下移/缩进/取消缩进); every form takes a reason (修改原因) that the
history keeps.

Cast (tests/conftest.py): staff_nanyang changes 南阳's plans; outsider (阜新 staff) must not
learn they exist; liaison_nanzhao and supervisor_nanyang may read them only.
"""

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse

from core.models import Region, Unit
from core.scope import forget_scope
from core.services import InvalidInput, StaleEdit
from planning import services
from planning.models import Plan, Section, Stage, Task, TaskAssignment
from tests import factories
from tests.conftest import make_user
from tests.planning.editing import count_queries, form_data

LONG_REASON = "原" * 101


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def reason_of(obj) -> str:
    return obj.history.order_by("-history_date", "-history_id").first().history_change_reason


def page_messages(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


@pytest.fixture
def nanyang(seeded) -> Plan:
    return Plan.objects.get(code="nanyang-2021-2025")


@pytest.fixture
def blank_plan(staff_nanyang) -> Plan:
    """A new plan of 南阳市 with three top-level sections 一、二、三 (made by the service)."""
    plan = services.create_plan(
        actor=staff_nanyang,
        values={
            "code": "nanyang-2026-2030",
            "title": "南阳市“十五五”消防救援事业发展规划",
            "kind": "five_year",
            "region": Region.objects.get(name="南阳市"),
            "start_year": 2026,
            "end_year": 2030,
        },
    )
    for number in ("一", "二", "三"):
        services.create_section(
            plan, actor=staff_nanyang, values={"number": number, "title": f"第{number}章"}
        )
    return plan


def tree(plan: Plan) -> list[tuple[str, str]]:
    """(number, parent's number) of the plan's sections in their order."""
    return [
        (s.number, s.parent.number if s.parent else "")
        for s in Section.objects.filter(plan=plan).select_related("parent").order_by("order")
    ]


# ------------------------------------------------------------------------------ creating


def test_staff_create_a_plan_section_subsection_and_task_through_the_pages(staff_nanyang):
    client = client_for(staff_nanyang)
    listing = client.get(reverse("reports:plan_list")).content.decode()
    assert reverse("planning:plan_create") in listing and "新建规划" in listing

    page = client.get(reverse("planning:plan_create"))
    assert page.status_code == 200
    nanyang_city = Region.objects.get(name="南阳市")
    response = client.post(
        reverse("planning:plan_create"),
        form_data(
            page,
            code="nanyang-2026-2030",
            title="南阳市“十五五”消防救援事业发展规划",
            kind="five_year",
            status="draft",
            region=str(nanyang_city.pk),
            doc_number="宛政〔2026〕1号",
            start_year="2026",
            end_year="2030",
            reason="按市政府部署编制",
        ),
    )
    plan = Plan.objects.get(code="nanyang-2026-2030")
    assert response.status_code == 302
    assert response["Location"] == reverse("reports:plan_detail", args=[plan.pk])
    assert (plan.region, plan.doc_number, plan.status) == (nanyang_city, "宛政〔2026〕1号", "draft")
    assert reason_of(plan) == "按市政府部署编制"
    assert plan.history.get().history_user == staff_nanyang
    detail = client.get(response["Location"]).content.decode()
    assert reverse("planning:section_create", args=[plan.pk]) in detail

    create_section = reverse("planning:section_create", args=[plan.pk])
    page = client.get(create_section)
    response = client.post(
        create_section, form_data(page, number="一", title="总体要求", reason="")
    )
    chapter = Section.objects.get(plan=plan, number="一")
    assert response.status_code == 302
    assert response["Location"].endswith(f"#section-{chapter.pk}")
    assert (chapter.code, chapter.order, chapter.parent) == ("s1", 1, None)
    assert reason_of(chapter) == "创建"

    page = client.get(create_section, {"parent": chapter.pk})
    assert page.context["form"]["parent"].value() == chapter.pk
    response = client.post(
        create_section,
        form_data(page, number="（一）", title="指导思想", kind="section", reason="补录子节"),
    )
    subsection = Section.objects.get(plan=plan, number="（一）")
    assert response.status_code == 302
    assert (subsection.parent, subsection.order, subsection.code) == (chapter, 2, "s2")
    assert reason_of(subsection) == "补录子节"

    units = list(Unit.objects.filter(region=nanyang_city).order_by("pk")[:4])
    create_task = reverse("planning:task_create", args=[plan.pk])
    page = client.get(create_task, {"section": subsection.pk})
    assert page.context["form"]["section"].value() == subsection.pk
    offered = page.context["form"].fields["lead_units"].queryset
    assert set(offered) == set(Unit.objects.for_user(staff_nanyang, "view"))
    assert not offered.filter(region__name="阜新市").exists()
    response = client.post(
        create_task,
        form_data(
            page,
            number="1",
            title="推进消防站建设",
            due_on="2030-12-31",
            lead_units=[str(units[0].pk), str(units[1].pk)],
            support_units=[str(units[2].pk), str(units[3].pk)],
            reason="规划文本第一章",
        ),
    )
    task = Task.objects.get(plan=plan, title="推进消防站建设")
    assert response.status_code == 302
    assert response["Location"] == reverse("reports:task_detail", args=[task.pk])
    assert (task.section, task.code, task.order) == (subsection, "t1", 1)
    assignments = list(
        TaskAssignment.objects.filter(task=task).order_by("order").values_list("unit", "role")
    )
    assert assignments == [
        (units[0].pk, "lead"),
        (units[1].pk, "lead"),
        (units[2].pk, "support"),
        (units[3].pk, "support"),
    ]
    assert reason_of(task) == "规划文本第一章"

    detail = client.get(reverse("reports:plan_detail", args=[plan.pk])).content.decode()
    assert "推进消防站建设" in detail and "指导思想" in detail
    assert units[3].name in detail


def test_a_new_subsection_comes_last_under_its_parent_and_later_sections_move_down(
    staff_nanyang, blank_plan
):
    first = Section.objects.get(plan=blank_plan, number="一")
    services.create_section(
        blank_plan, actor=staff_nanyang, values={"number": "1.1", "title": "子节", "parent": first}
    )
    services.create_section(
        blank_plan, actor=staff_nanyang, values={"number": "1.2", "title": "子节", "parent": first}
    )

    assert tree(blank_plan) == [("一", ""), ("1.1", "一"), ("1.2", "一"), ("二", ""), ("三", "")]
    orders = list(Section.objects.filter(plan=blank_plan).order_by("order").values_list("order"))
    assert orders == [(1,), (2,), (3,), (4,), (5,)]
    third = Section.objects.get(plan=blank_plan, number="三")
    assert third.version == 3  # moved down twice, a history record each
    assert reason_of(third) == services.RENUMBERED


def test_creating_twice_with_the_same_form_token_creates_one_plan(staff_nanyang):
    client = client_for(staff_nanyang)
    page = client.get(reverse("planning:plan_create"))
    data = form_data(
        page,
        code="twice-2026",
        title="重复提交",
        kind="special",
        region=str(Region.objects.get(name="南阳市").pk),
        start_year="2026",
        end_year="2027",
    )
    assert data["once_token"]
    first = client.post(reverse("planning:plan_create"), data)
    second = client.post(reverse("planning:plan_create"), data)
    assert first.status_code == second.status_code == 302
    assert Plan.objects.filter(code="twice-2026").count() == 1


def test_staff_add_and_edit_the_stages_of_a_plan(staff_nanyang, blank_plan):
    client = client_for(staff_nanyang)
    detail = client.get(reverse("reports:plan_detail", args=[blank_plan.pk])).content.decode()
    assert reverse("planning:stage_create", args=[blank_plan.pk]) in detail

    url = reverse("planning:stage_create", args=[blank_plan.pk])
    for name, starts, ends in [
        ("工作启动阶段", "2026-01-01", "2026-12-31"),
        ("全面实施阶段", "2027-01-01", "2030-12-31"),
    ]:
        page = client.get(url)
        response = client.post(
            url, form_data(page, name=name, starts_on=starts, ends_on=ends, reason="按实施步骤")
        )
        assert response.status_code == 302
        assert response["Location"].endswith("#stages")
    stages = list(Stage.objects.filter(plan=blank_plan).order_by("order"))
    assert [(s.name, s.order, s.version) for s in stages] == [
        ("工作启动阶段", 0, 1),
        ("全面实施阶段", 1, 1),
    ]
    assert reason_of(stages[0]) == "按实施步骤"

    edit = reverse("planning:stage_edit", args=[stages[1].pk])
    page = client.get(edit)
    response = client.post(edit, form_data(page, name="工作启动阶段", ends_on="2026-06-30"))
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert errors["ends_on"] == ["结束日期不能早于开始日期"]
    response = client.post(edit, form_data(page, ends_on="2029-12-31", reason="提前一年"))
    assert response.status_code == 302
    stages[1].refresh_from_db()
    assert (str(stages[1].ends_on), stages[1].version) == ("2029-12-31", 2)
    assert "（提前一年）" in client.get(edit).content.decode()
    response = client.post(edit, form_data(page, name="工作启动阶段"))  # the page of version 1
    assert response.status_code == 409
    page = client.get(edit)
    response = client.post(edit, form_data(page, name="工作启动阶段"))
    assert response.status_code == 400
    assert "本规划已有名为“工作启动阶段”的阶段" in response.context["form"].errors["name"]


# ------------------------------------------------------------------------------ refusals


def test_the_forms_say_what_is_wrong_field_by_field(staff_nanyang, nanyang):
    client = client_for(staff_nanyang)
    page = client.get(reverse("planning:plan_create"))
    response = client.post(
        reverse("planning:plan_create"),
        form_data(
            page,
            code="nanyang-2021-2025",  # the seed plan's
            title="重复编码",
            kind="five_year",
            region=str(nanyang.region_id),
            start_year="2030",
            end_year="2026",
        ),
    )
    assert response.status_code == 400
    form = response.context["form"]
    assert form.errors["end_year"] == ["终止年度不能早于起始年度"]
    assert "编码" in form.errors["code"][0] and "已存在" in form.errors["code"][0]
    assert Plan.objects.filter(title="重复编码").count() == 0

    other = Section.objects.filter(plan__code="lianzhou-2021-2025").first()
    create_section = reverse("planning:section_create", args=[nanyang.pk])
    page = client.get(create_section)
    response = client.post(create_section, form_data(page, title="", parent=str(other.pk)))
    assert response.status_code == 400
    assert set(response.context["form"].errors) == {"title", "parent"}
    assert not Section.objects.filter(plan=nanyang, parent=other).exists()


def test_the_service_refuses_a_parent_section_of_another_plan(staff_nanyang, nanyang, blank_plan):
    other = Section.objects.filter(plan=nanyang).first()
    with pytest.raises(InvalidInput) as refused:
        services.create_section(
            blank_plan, actor=staff_nanyang, values={"title": "越界", "parent": other}
        )
    assert refused.value.field == "parent" and "不属于本规划" in refused.value.message
    with pytest.raises(InvalidInput) as refused:
        services.create_task(
            blank_plan, actor=staff_nanyang, values={"title": "x", "section": other}
        )
    assert refused.value.field == "section"
    assert not Task.objects.filter(plan=blank_plan).exists()


@pytest.mark.parametrize("who", ["liaison_nanzhao", "supervisor_nanyang"])
def test_liaisons_and_supervisors_are_refused_every_create_and_move(
    who, request, staff_nanyang, blank_plan
):
    client = client_for(request.getfixturevalue(who))
    section = Section.objects.filter(plan=blank_plan).order_by("order").last()
    listing = client.get(reverse("reports:plan_list")).content.decode()
    assert reverse("planning:plan_create") not in listing
    detail = client.get(reverse("reports:plan_detail", args=[blank_plan.pk])).content.decode()
    assert "section-tools" not in detail and "新增章节" not in detail
    stage = services.create_stage(blank_plan, actor=staff_nanyang, values={"name": "阶段"})
    for url in [
        reverse("planning:plan_create"),
        reverse("planning:stage_create", args=[blank_plan.pk]),
        reverse("planning:stage_edit", args=[stage.pk]),
        reverse("planning:section_create", args=[blank_plan.pk]),
        reverse("planning:task_create", args=[blank_plan.pk]),
    ]:
        assert client.get(url).status_code == 403, url
        assert client.post(url, {"title": "越权", "code": "x-1"}).status_code == 403, url
    move = reverse("planning:section_move", args=[section.pk])
    assert client.post(move, {"move": "up", "version": "1"}).status_code == 403
    assert not Plan.objects.filter(code="x-1").exists()
    assert not Section.objects.filter(title="越权").exists()
    assert Stage.objects.filter(plan=blank_plan).get().version == 1
    assert tree(blank_plan) == [("一", ""), ("二", ""), ("三", "")]


def test_staff_of_another_city_get_404_and_change_nothing(outsider, blank_plan):
    client = client_for(outsider)
    section = Section.objects.filter(plan=blank_plan).order_by("order").last()
    for url in [
        reverse("planning:stage_create", args=[blank_plan.pk]),
        reverse("planning:section_create", args=[blank_plan.pk]),
        reverse("planning:task_create", args=[blank_plan.pk]),
    ]:
        assert client.get(url).status_code == 404, url
        assert client.post(url, {"title": "越界"}).status_code == 404, url
    move = reverse("planning:section_move", args=[section.pk])
    assert client.post(move, {"move": "up", "version": "1"}).status_code == 404
    # The region list of the create form offers only the outsider's own regions.
    page = client.get(reverse("planning:plan_create"))
    assert blank_plan.region not in page.context["form"].fields["region"].queryset
    assert tree(blank_plan) == [("一", ""), ("二", ""), ("三", "")]
    assert not Section.objects.filter(title="越界").exists()


def test_an_over_long_reason_is_a_form_error_on_create_and_edit_pages(staff_nanyang, nanyang):
    client = client_for(staff_nanyang)
    page = client.get(reverse("planning:plan_create"))
    response = client.post(
        reverse("planning:plan_create"),
        form_data(
            page,
            code="long-reason",
            title="长原因",
            kind="special",
            region=str(nanyang.region_id),
            start_year="2026",
            end_year="2027",
            reason=LONG_REASON,
        ),
    )
    assert response.status_code == 400
    assert list(response.context["form"].errors) == ["reason"]
    assert not Plan.objects.filter(code="long-reason").exists()

    task = Task.objects.filter(plan=nanyang).first()
    page = client.get(reverse("planning:task_edit", args=[task.pk]))
    response = client.post(
        reverse("planning:task_edit", args=[task.pk]),
        form_data(page, title="新名称", reason=LONG_REASON),
    )
    assert response.status_code == 400
    assert list(response.context["form"].errors) == ["reason"]
    task.refresh_from_db()
    assert task.version == 1 and task.title != "新名称"


def test_the_service_refuses_an_over_long_reason_for_the_api_too(staff_nanyang, nanyang):
    with pytest.raises(InvalidInput) as refused:
        services.update_plan(
            nanyang, actor=staff_nanyang, version=1, changes={"title": "x"}, reason=LONG_REASON
        )
    assert refused.value.code == "invalid" and refused.value.field == "reason"
    assert "修改原因最多 100 个字" in refused.value.message
    nanyang.refresh_from_db()
    assert nanyang.version == 1


def test_a_task_reason_with_many_unit_changes_never_overflows_the_history(staff_nanyang, nanyang):
    task = Task.objects.filter(plan=nanyang).first()
    units = list(Unit.objects.filter(region__name="南阳市"))
    saved = services.set_task_units(
        task,
        actor=staff_nanyang,
        version=task.version,
        lead_units=units[:1],
        support_units=units[1:],
    )
    assert 0 < len(reason_of(saved)) <= 100


# ------------------------------------------------------------------------------ edit reasons


@pytest.mark.parametrize(
    ("url_name", "obj", "change"),
    [
        ("planning:plan_edit", "plan", {"doc_number": "宛政〔2021〕99号"}),
        ("planning:section_edit", "section", {"title": "新标题"}),
        ("planning:task_edit", "task", {"status": "in_progress"}),
    ],
)
def test_edit_pages_keep_the_reason_and_show_it_in_the_history(
    url_name, obj, change, staff_nanyang, nanyang
):
    target = {
        "plan": nanyang,
        "section": Section.objects.filter(plan=nanyang).order_by("order").first(),
        "task": Task.objects.filter(plan=nanyang).order_by("order").first(),
    }[obj]
    client = client_for(staff_nanyang)
    url = reverse(url_name, args=[target.pk])
    page = client.get(url)
    response = client.post(url, form_data(page, reason="依据2024年中期评估调整", **change))
    assert response.status_code == 302
    target.refresh_from_db()
    assert reason_of(target) == "依据2024年中期评估调整"
    assert "（依据2024年中期评估调整）" in client.get(url).content.decode()


# ------------------------------------------------------------------------------ ordering


def move(client, section: Section, how: str, *, version=None, reason=""):
    section.refresh_from_db()
    data = {"move": how, "version": section.version if version is None else version}
    if reason:
        data["reason"] = reason
    return client.post(reverse("planning:section_move", args=[section.pk]), data)


def test_sections_move_up_down_indent_and_outdent_from_the_plan_page(staff_nanyang, blank_plan):
    client = client_for(staff_nanyang)
    one, two, three = Section.objects.filter(plan=blank_plan).order_by("order")
    detail = client.get(reverse("reports:plan_detail", args=[blank_plan.pk])).content.decode()
    assert reverse("planning:section_move", args=[two.pk]) in detail

    response = move(client, two, "up", reason="按印发稿调整章序")
    assert response.status_code == 302
    assert response["Location"].endswith(f"#section-{two.pk}")
    assert tree(blank_plan) == [("二", ""), ("一", ""), ("三", "")]
    assert reason_of(Section.objects.get(pk=two.pk)) == "按印发稿调整章序"
    assert reason_of(Section.objects.get(pk=one.pk)) == services.RENUMBERED
    assert reason_of(Section.objects.get(pk=three.pk)) == "创建"  # unchanged: no record

    move(client, three, "indent")  # under 一, the sibling before it
    assert tree(blank_plan) == [("二", ""), ("一", ""), ("三", "一")]
    assert reason_of(Section.objects.get(pk=three.pk)) == "缩进"

    move(client, one, "indent")  # under 二, with its subsection 三
    assert tree(blank_plan) == [("二", ""), ("一", "二"), ("三", "一")]

    move(client, three, "outdent")  # right after 一, under 二
    assert tree(blank_plan) == [("二", ""), ("一", "二"), ("三", "二")]

    move(client, one, "down")
    assert tree(blank_plan) == [("二", ""), ("三", "二"), ("一", "二")]

    move(client, one, "outdent")
    assert tree(blank_plan) == [("二", ""), ("三", "二"), ("一", "")]
    orders = list(Section.objects.filter(plan=blank_plan).order_by("order").values_list("order"))
    assert orders == [(1,), (2,), (3,)]


@pytest.mark.parametrize(
    ("number", "how", "message"),
    [
        ("一", "up", "已是同级第一个"),
        ("三", "down", "已是同级最后一个"),
        ("一", "indent", "不能缩进"),
        ("二", "outdent", "已是顶层章节"),
        ("二", "sideways", "未知的调整方式"),
    ],
)
def test_a_move_that_cannot_be_made_is_refused_with_a_message(
    number, how, message, staff_nanyang, blank_plan
):
    client = client_for(staff_nanyang)
    section = Section.objects.get(plan=blank_plan, number=number)
    response = move(client, section, how)
    assert response.status_code == 302
    assert any(message in m for m in page_messages(response))
    assert tree(blank_plan) == [("一", ""), ("二", ""), ("三", "")]
    section.refresh_from_db()
    assert section.version == 1


def test_a_stale_move_is_refused_and_changes_nothing(staff_nanyang, blank_plan):
    """A double click, or a plan page left open while someone else moved the section."""
    client = client_for(staff_nanyang)
    two = Section.objects.get(plan=blank_plan, number="二")
    version = two.version
    move(client, two, "up", version=version)
    response = move(client, two, "up", version=version)  # the second click of the same page
    assert response.status_code == 302
    assert any("该记录已被他人修改" in m for m in page_messages(response))
    assert tree(blank_plan) == [("二", ""), ("一", ""), ("三", "")]
    with pytest.raises(StaleEdit):
        services.move_section(two, actor=staff_nanyang, version=version, move="down")


def test_a_move_without_the_version_is_refused(staff_nanyang, blank_plan):
    two = Section.objects.get(plan=blank_plan, number="二")
    response = client_for(staff_nanyang).post(
        reverse("planning:section_move", args=[two.pk]), {"move": "up"}
    )
    assert any("缺少版本号" in m for m in page_messages(response))
    assert tree(blank_plan) == [("一", ""), ("二", ""), ("三", "")]


def test_a_get_of_the_move_url_changes_nothing(staff_nanyang, blank_plan):
    two = Section.objects.get(plan=blank_plan, number="二")
    response = client_for(staff_nanyang).get(
        reverse("planning:section_move", args=[two.pk]), {"move": "up"}
    )
    assert response.status_code == 405
    assert tree(blank_plan) == [("一", ""), ("二", ""), ("三", "")]


# ------------------------------------------------------------------------------ query counts


def _plan_with_sections(n: int, staff) -> Plan:
    """A plan with ``n`` chapters, each with a subsection holding a task with a lead unit."""
    region = staff.profile.region
    plan = factories.plan(f"sections-{n}", region=region)
    unit, _ = Unit.objects.get_or_create(name="测试支队", kind="fire_rescue", region=region)
    for i in range(n):
        chapter = Section.objects.create(plan=plan, code=f"c{i}", title=f"第{i}章", order=2 * i)
        sub = Section.objects.create(
            plan=plan, code=f"s{i}", title=f"第{i}节", parent=chapter, order=2 * i + 1
        )
        task = factories.task(plan, code=f"t{i}", section=sub, order=i)
        TaskAssignment.objects.create(task=task, unit=unit, role="lead")
    return plan


def test_the_plan_page_with_its_section_tools_costs_the_same_queries_for_1_and_20_chapters(db):
    factories.region("测试市")
    staff = make_user("staff_test_city", "staff", "测试市")
    forget_scope(staff)
    client = client_for(staff)
    one = count_queries(
        client, reverse("reports:plan_detail", args=[_plan_with_sections(1, staff).pk])
    )
    twenty_plan = _plan_with_sections(20, staff)
    twenty = count_queries(client, reverse("reports:plan_detail", args=[twenty_plan.pk]))
    # 33 queries: a plan page's first read, less the ones a plan without targets skips (the
    # status inputs of targets, the integrity check's target reads). The buttons beside each
    # section read only the sections already loaded.
    assert one[0] == twenty[0] == 33, (one[1], twenty[1])
    page = client.get(reverse("reports:plan_detail", args=[twenty_plan.pk])).content.decode()
    assert page.count('data-testid="section-tools"') == 40


# ------------------------------------------------------------------------------ the API


def test_the_api_keeps_the_reason_and_refuses_an_over_long_one(staff_nanyang, nanyang):
    from tests.api import client_for as api_client_for
    from tests.api import error_code, if_match

    client = api_client_for(staff_nanyang)
    url = f"/api/v1/plans/{nanyang.pk}/"
    response = client.patch(
        url,
        {"issuer": "南阳市人民政府", "reason": "核对印发稿"},
        format="json",
        **if_match(nanyang),
    )
    assert response.status_code == 200
    assert "reason" not in response.json()
    assert reason_of(nanyang) == "核对印发稿"

    response = client.patch(
        url, {"issuer": "x", "reason": LONG_REASON}, format="json", **if_match(nanyang)
    )
    assert (response.status_code, error_code(response)) == (400, "invalid")
    assert "修改原因" in response.json()["message"]
    nanyang.refresh_from_db()
    assert nanyang.issuer == "南阳市人民政府"

    first = Section.objects.filter(plan=nanyang).order_by("order").first()
    response = client.post(
        "/api/v1/sections/",
        {"plan": nanyang.pk, "code": "api-1", "title": "接口新增", "parent": first.pk},
        format="json",
    )
    assert response.status_code == 201
    created = Section.objects.get(plan=nanyang, code="api-1")
    assert reason_of(created) == "创建"
    # Placed last under its parent, in tree order: right before the next top-level section.
    following = Section.objects.filter(plan=nanyang, parent=None, order__gt=first.order)
    assert created.order < following.order_by("order").first().order
