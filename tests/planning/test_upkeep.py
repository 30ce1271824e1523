"""Staff keep plans, sections and tasks current in the browser; units post task progress.

Cast (tests/conftest.py): staff_nanyang changes 南阳's plan; outsider (阜新 staff) must not
learn it exists; liaison_nanzhao, supervisor_nanyang and viewer_nanyang may read it only.
"""

import hashlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from core.models import Evidence, Unit
from core.scope import forget_scope
from core.services import NotAllowed, StaleEdit
from planning import services
from planning.choices import AssignmentRole
from planning.models import Plan, Section, Task, TaskAssignment, TaskUpdate
from targets.models import Target
from tests import factories
from tests.conftest import make_user
from tests.planning.editing import count_queries, form_data

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def nanyang(seeded) -> Plan:
    return Plan.objects.get(code="nanyang-2021-2025")


@pytest.fixture
def lianzhou(seeded) -> Plan:
    return Plan.objects.get(code="lianzhou-2021-2025")


@pytest.fixture
def task(nanyang) -> Task:
    """南阳 b1.2: 行业消防安全标准化管理标杆建设, with two targets."""
    return Task.objects.get(plan=nanyang, code="b1.2")


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def last_history_user(obj):
    return obj.history.order_by("-history_date").first().history_user


# ------------------------------------------------------------------------------ editing


def test_staff_edits_a_plan_in_scope_and_the_history_names_them(staff_nanyang, nanyang):
    client = client_for(staff_nanyang)
    page = client.get(reverse("planning:plan_edit", args=[nanyang.pk]))
    assert page.status_code == 200

    data = form_data(page, doc_number="宛政〔2021〕99号")
    response = client.post(reverse("planning:plan_edit", args=[nanyang.pk]), data)

    assert response.status_code == 302
    nanyang.refresh_from_db()
    assert nanyang.doc_number == "宛政〔2021〕99号"
    assert nanyang.version == 2
    assert last_history_user(nanyang) == staff_nanyang
    detail = client.get(reverse("reports:plan_detail", args=[nanyang.pk]))
    assert "文号：— → 宛政〔2021〕99号" in detail.content.decode()
    assert "staff_nanyang" in detail.content.decode()


def test_staff_edits_a_section_and_its_page_shows_the_change(staff_nanyang, nanyang):
    section = Section.objects.filter(plan=nanyang).order_by("order").first()
    client = client_for(staff_nanyang)
    page = client.get(reverse("planning:section_edit", args=[section.pk]))

    response = client.post(
        reverse("planning:section_edit", args=[section.pk]), form_data(page, title="新标题")
    )

    assert response.status_code == 302
    section.refresh_from_db()
    assert (section.title, section.version) == ("新标题", 2)
    again = client.get(reverse("planning:section_edit", args=[section.pk]))
    assert "标题：" in again.content.decode() and "→ 新标题" in again.content.decode()


def test_a_section_cannot_be_put_under_its_own_subsection(staff_nanyang, nanyang):
    child = Section.objects.filter(plan=nanyang, parent__isnull=False).first()
    parent = child.parent
    client = client_for(staff_nanyang)
    page = client.get(reverse("planning:section_edit", args=[parent.pk]))

    response = client.post(
        reverse("planning:section_edit", args=[parent.pk]), form_data(page, parent=str(child.pk))
    )

    assert response.status_code == 400
    assert "上级章节不能是本章节或其下级章节" in response.content.decode()
    parent.refresh_from_db()
    assert parent.parent_id != child.pk and parent.version == 1


def test_staff_edits_a_task_and_its_units_in_one_version_step(staff_nanyang, task):
    fire = Unit.objects.get(name="消防救援机构", region__name="南阳市")
    others = Unit.objects.filter(region__name="南阳市").exclude(pk=fire.pk)[:2]
    client = client_for(staff_nanyang)
    page = client.get(reverse("planning:task_edit", args=[task.pk]))
    data = form_data(
        page,
        status="in_progress",
        lead_units=[str(fire.pk)],
        support_units=[str(u.pk) for u in others],
    )

    response = client.post(reverse("planning:task_edit", args=[task.pk]), data)

    assert response.status_code == 302
    task.refresh_from_db()
    assert (task.status, task.version) == ("in_progress", 2)
    roles = dict(TaskAssignment.objects.filter(task=task).values_list("unit_id", "role"))
    assert roles == {fire.pk: "lead"} | {u.pk: "support" for u in others}
    record = task.history.order_by("-history_date").first()
    assert record.history_user == staff_nanyang
    assert "新增消防救援机构（牵头单位）" in record.history_change_reason
    assert TaskAssignment.history.filter(task_id=task.pk, history_user=staff_nanyang).count() == 3
    detail = client.get(reverse("reports:task_detail", args=[task.pk])).content.decode()
    assert "消防救援机构" in detail and "推进中" in detail


def test_a_unit_cannot_both_lead_and_support_a_task(staff_nanyang, task):
    fire = Unit.objects.get(name="消防救援机构", region__name="南阳市")
    client = client_for(staff_nanyang)
    page = client.get(reverse("planning:task_edit", args=[task.pk]))

    response = client.post(
        reverse("planning:task_edit", args=[task.pk]),
        form_data(page, lead_units=[str(fire.pk)], support_units=[str(fire.pk)]),
    )

    assert response.status_code == 400
    assert "消防救援机构不能同时是牵头单位和配合单位" in response.content.decode()
    assert not TaskAssignment.objects.filter(task=task).exists()
    task.refresh_from_db()
    assert task.version == 1


def test_saving_a_task_without_touching_its_units_keeps_them(staff_lianzhou, lianzhou):
    task = Task.objects.filter(plan=lianzhou, assignments__isnull=False).distinct().first()
    before = list(TaskAssignment.objects.filter(task=task).values_list("unit_id", "role", "order"))
    client = client_for(staff_lianzhou)
    page = client.get(reverse("planning:task_edit", args=[task.pk]))

    response = client.post(
        reverse("planning:task_edit", args=[task.pk]), form_data(page, order="99")
    )

    assert response.status_code == 302
    after = list(TaskAssignment.objects.filter(task=task).values_list("unit_id", "role", "order"))
    assert sorted(after) == sorted(before)
    record = task.history.order_by("-history_date").first()
    assert not record.history_change_reason


# ------------------------------------------------------------------------------ scope


def test_outsider_gets_404_for_every_plan_page(outsider, nanyang, task):
    client = client_for(outsider)
    section = Section.objects.filter(plan=nanyang).first()
    urls = [
        reverse("reports:plan_detail", args=[nanyang.pk]),
        reverse("planning:plan_edit", args=[nanyang.pk]),
        reverse("planning:section_edit", args=[section.pk]),
        reverse("reports:task_detail", args=[task.pk]),
        reverse("planning:task_edit", args=[task.pk]),
    ]
    for url in urls:
        assert client.get(url).status_code == 404, url
    assert (
        client.post(reverse("planning:plan_edit", args=[nanyang.pk]), {"title": "x"}).status_code
        == 404
    )
    response = client.post(reverse("reports:task_update_create", args=[task.pk]), {"text": "x"})
    assert response.status_code == 404
    assert nanyang.title != "x" and not TaskUpdate.objects.filter(task=task).exists()


def test_outsider_does_not_see_the_plan_in_the_list(outsider, nanyang):
    page = client_for(outsider).get(reverse("reports:plan_list"))
    assert page.status_code == 200
    assert nanyang.title not in page.content.decode()


@pytest.mark.parametrize("who", ["liaison_nanzhao", "supervisor_nanyang", "viewer_nanyang"])
def test_read_only_roles_see_plan_pages_but_get_403_on_edits(who, request, nanyang, task):
    user = request.getfixturevalue(who)
    client = client_for(user)
    section = Section.objects.filter(plan=nanyang).first()
    for url in [
        reverse("reports:plan_list"),
        reverse("reports:plan_detail", args=[nanyang.pk]),
        reverse("reports:task_detail", args=[task.pk]),
    ]:
        assert client.get(url).status_code == 200, url
    for url in [
        reverse("planning:plan_edit", args=[nanyang.pk]),
        reverse("planning:section_edit", args=[section.pk]),
        reverse("planning:task_edit", args=[task.pk]),
    ]:
        assert client.get(url).status_code == 403, url
        assert client.post(url, {"title": "改掉", "version": "1"}).status_code == 403, url
    nanyang.refresh_from_db()
    assert nanyang.version == 1
    detail = client.get(reverse("reports:plan_detail", args=[nanyang.pk])).content.decode()
    assert reverse("planning:plan_edit", args=[nanyang.pk]) not in detail


def test_county_staff_may_read_the_city_plan_but_not_change_it(nanyang):
    county_staff = make_user("staff_nanzhao", "staff", "南召县")
    client = client_for(county_staff)
    assert client.get(reverse("reports:plan_detail", args=[nanyang.pk])).status_code == 200
    assert client.get(reverse("planning:plan_edit", args=[nanyang.pk])).status_code == 403


def test_the_service_refuses_a_plan_outside_the_actors_scope(outsider, nanyang):
    with pytest.raises(NotAllowed):
        services.update_plan(nanyang, actor=outsider, version=1, changes={"title": "x"})
    nanyang.refresh_from_db()
    assert nanyang.title != "x"


def test_staff_create_plans_sections_and_tasks_only_inside_their_scope(staff_nanyang, outsider):
    from core.models import Region

    nanzhao = Region.objects.get(name="南召县")
    plan = services.create_plan(
        actor=staff_nanyang,
        values={
            "code": "nanzhao-2022",
            "title": "南召县消防三年行动",
            "kind": "action_plan",
            "region": nanzhao,
            "start_year": 2022,
            "end_year": 2024,
        },
    )
    section = services.create_section(
        plan, actor=staff_nanyang, values={"code": "s1", "title": "重点任务"}
    )
    fire = Unit.objects.get(name="消防救援机构", region__name="南阳市")
    task = services.create_task(
        plan,
        actor=staff_nanyang,
        values={"code": "t1", "title": "新建消防站", "section": section},
        lead_units=[fire],
    )
    assert task.assignments.get().role == AssignmentRole.LEAD
    assert plan.history.first().history_user == staff_nanyang
    with pytest.raises(NotAllowed):
        services.create_task(plan, actor=outsider, values={"code": "t2", "title": "x"})
    with pytest.raises(NotAllowed):
        services.create_plan(
            actor=outsider,
            values={
                "code": "x",
                "title": "x",
                "kind": "special",
                "region": nanzhao,
                "start_year": 2022,
                "end_year": 2024,
            },
        )


def test_a_task_cannot_be_filed_under_another_plans_section(staff_nanyang, task, lianzhou):
    foreign = Section.objects.filter(plan=lianzhou).first()
    from core.services import InvalidInput

    with pytest.raises(InvalidInput) as refused:
        services.update_task(task, actor=staff_nanyang, version=1, changes={"section": foreign})
    assert refused.value.field == "section"
    assert "不属于本规划" in refused.value.message


# ------------------------------------------------------------------------------ conflicts


def test_the_second_of_two_concurrent_edits_is_refused_naming_the_first_editor(
    staff_nanyang, nanyang
):
    colleague = make_user("staff_nanyang_2", "staff", "南阳市", first_name="张三")
    first, second = client_for(colleague), client_for(staff_nanyang)
    url = reverse("planning:plan_edit", args=[nanyang.pk])
    first_page, second_page = first.get(url), second.get(url)

    assert first.post(url, form_data(first_page, issuer="南阳市人民政府")).status_code == 302
    response = second.post(url, form_data(second_page, issuer="南阳市政府办公室"))

    assert response.status_code == 409
    body = response.content.decode()
    assert "该记录已被他人修改，请刷新后重试（张三 于 " in body
    nanyang.refresh_from_db()
    assert (nanyang.issuer, nanyang.version) == ("南阳市人民政府", 2)


def test_a_stale_task_save_leaves_its_units_alone(staff_nanyang, task):
    fire = Unit.objects.get(name="消防救援机构", region__name="南阳市")
    services.update_task(task, actor=staff_nanyang, version=1, changes={"order": 5})
    with pytest.raises(StaleEdit) as refused:
        services.set_task_units(
            task, actor=staff_nanyang, version=1, lead_units=[fire], support_units=[]
        )
    assert "staff_nanyang" in refused.value.message
    assert not TaskAssignment.objects.filter(task=task).exists()


# ------------------------------------------------------------------------------ bad input


def test_an_end_year_before_the_start_year_changes_nothing_and_says_why(staff_nanyang, nanyang):
    client = client_for(staff_nanyang)
    url = reverse("planning:plan_edit", args=[nanyang.pk])
    page = client.get(url)

    response = client.post(url, form_data(page, start_year="2025", end_year="2021"))

    assert response.status_code == 400
    assert "终止年度不能早于起始年度" in response.content.decode()
    nanyang.refresh_from_db()
    assert (nanyang.start_year, nanyang.end_year, nanyang.version) == (2021, 2025, 1)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"start_year": "两千"}, "输入整数"),
        ({"version": None}, "缺少版本号，请刷新页面后重试"),
        ({"title": ""}, "必填项"),
        ({"kind": "poem"}, "选择一个有效的选项"),
        ({"start_year": "1800"}, "确保该值大于或等于1949"),
    ],
)
def test_malformed_plan_input_is_a_400_with_a_chinese_message(
    staff_nanyang, nanyang, changes, message
):
    client = client_for(staff_nanyang)
    url = reverse("planning:plan_edit", args=[nanyang.pk])
    response = client.post(url, form_data(client.get(url), **changes))
    assert response.status_code == 400
    assert message in response.content.decode()
    nanyang.refresh_from_db()
    assert nanyang.version == 1


# ------------------------------------------------------------------------------ task updates


def test_task_updates_form_an_append_only_timeline_with_evidence_hashes(media, staff_nanyang, task):
    client = client_for(staff_nanyang)
    url = reverse("reports:task_update_create", args=[task.pk])

    first = client.post(
        url,
        {
            "text": "已完成3家示范标杆评定",
            "percent": "40",
            "evidence": SimpleUploadedFile("评定通知.pdf", PDF, "application/pdf"),
        },
    )
    second = client.post(url, {"text": "又完成2家", "percent": "60"})

    assert first.status_code == second.status_code == 302
    updates = list(TaskUpdate.objects.filter(task=task).order_by("created_at", "pk"))
    assert [(u.text, u.percent, u.author) for u in updates] == [
        ("已完成3家示范标杆评定", 40, staff_nanyang),
        ("又完成2家", 60, staff_nanyang),
    ]
    evidence = updates[0].evidence.get()
    assert evidence.sha256 == hashlib.sha256(PDF).hexdigest()
    assert evidence.original_name == "评定通知.pdf"
    page = client.get(reverse("reports:task_detail", args=[task.pk])).content.decode()
    assert page.index("又完成2家") < page.index("已完成3家示范标杆评定")  # newest first
    assert evidence.sha256 in page
    # Nothing changes or removes a note: there is no such page, and posting only appends.
    assert not any("update" in name and "edit" in name for name in _url_names())
    assert not hasattr(services, "update_task_update")


def _url_names() -> list[str]:
    from tests import url_map

    return [pattern.name for pattern in url_map.patterns()]


@pytest.mark.parametrize(
    ("upload", "message"),
    [
        (SimpleUploadedFile("tool.exe", b"MZ\x90\x00", "application/octet-stream"), "类型不允许"),
        (SimpleUploadedFile("fake.pdf", b"MZ\x90\x00 not a pdf", "application/pdf"), "不符"),
    ],
)
def test_evidence_of_a_wrong_type_is_refused_and_nothing_is_stored(
    media, staff_nanyang, task, upload, message
):
    client = client_for(staff_nanyang)
    response = client.post(
        reverse("reports:task_update_create", args=[task.pk]), {"text": "进展", "evidence": upload}
    )
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not TaskUpdate.objects.filter(task=task).exists()
    assert not Evidence.objects.exists()


def test_oversized_evidence_is_refused_with_the_limit(media, settings, staff_nanyang, task):
    settings.EVIDENCE_MAX_BYTES = 1024 * 1024
    big = SimpleUploadedFile("大文件.pdf", PDF + b"0" * (2 * 1024 * 1024), "application/pdf")
    response = client_for(staff_nanyang).post(
        reverse("reports:task_update_create", args=[task.pk]), {"text": "进展", "evidence": big}
    )
    assert response.status_code == 400
    assert "超过上限 1 MB" in response.content.decode()
    assert not TaskUpdate.objects.filter(task=task).exists()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"text": "进展", "percent": "120"}, "完成百分比应为 0 到 100 之间的整数"),
        ({"text": "进展", "percent": "四成"}, "完成百分比应为 0 到 100 之间的整数"),
        ({"text": "   ", "percent": "10"}, "必填项"),
    ],
)
def test_bad_task_updates_are_refused_with_what_is_expected(staff_nanyang, task, data, message):
    response = client_for(staff_nanyang).post(
        reverse("reports:task_update_create", args=[task.pk]), data
    )
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not TaskUpdate.objects.filter(task=task).exists()


def test_a_liaison_posts_progress_on_a_task_of_their_region(liaison_lianzhou, lianzhou):
    task = Task.objects.filter(plan=lianzhou).first()
    client = client_for(liaison_lianzhou)
    assert (
        "update-form" in client.get(reverse("reports:task_detail", args=[task.pk])).content.decode()
    )
    response = client.post(
        reverse("reports:task_update_create", args=[task.pk]), {"text": "已部署"}
    )
    assert response.status_code == 302
    assert TaskUpdate.objects.get(task=task).author == liaison_lianzhou


def test_a_liaison_bound_to_a_unit_posts_only_on_that_units_tasks(lianzhou):
    assigned = Task.objects.filter(plan=lianzhou, assignments__isnull=False).first()
    unit = assigned.assignments.first().unit
    other = Task.objects.filter(plan=lianzhou).exclude(assignments__unit=unit).first()
    liaison = make_user("liaison_unit", "liaison", unit.region.name, unit.name)
    client = client_for(liaison)

    ok = client.post(reverse("reports:task_update_create", args=[assigned.pk]), {"text": "已落实"})
    refused = client.post(reverse("reports:task_update_create", args=[other.pk]), {"text": "越权"})

    assert (ok.status_code, refused.status_code) == (302, 403)
    assert not TaskUpdate.objects.filter(task=other).exists()


@pytest.mark.parametrize("who", ["supervisor_nanyang", "viewer_nanyang", "liaison_nanzhao"])
def test_readers_and_other_regions_liaisons_cannot_post_task_updates(who, request, task):
    client = client_for(request.getfixturevalue(who))
    response = client.post(reverse("reports:task_update_create", args=[task.pk]), {"text": "x"})
    assert response.status_code == 403
    assert (
        "update-form"
        not in client.get(reverse("reports:task_detail", args=[task.pk])).content.decode()
    )
    assert not TaskUpdate.objects.filter(task=task).exists()


# ------------------------------------------------------------------------------ query counts


def _plan_with_tasks(n: int, staff) -> Plan:
    """A plan with ``n`` tasks, each with a section, a lead unit, a target and an update."""
    region = staff.profile.region
    plan = factories.plan(f"q-{n}", region=region)
    unit, _ = Unit.objects.get_or_create(name="测试支队", kind="fire_rescue", region=region)
    for i in range(n):
        section = Section.objects.create(plan=plan, code=f"s{i}", title=f"第{i}章", order=i)
        task = factories.task(plan, code=f"t{i}", section=section, order=i)
        TaskAssignment.objects.create(task=task, unit=unit, role="lead")
        factories.target(plan, code=f"g{i}", task=task, section=section)
        TaskUpdate.objects.create(task=task, author=staff, text="进展", percent=10)
    return plan


@pytest.fixture
def test_city_staff(db):
    factories.region("测试市")
    user = make_user("staff_test_city", "staff", "测试市")
    forget_scope(user)
    return user


def test_plan_detail_costs_the_same_queries_for_1_and_for_30_tasks(test_city_staff):
    client = client_for(test_city_staff)
    one = count_queries(
        client, reverse("reports:plan_detail", args=[_plan_with_tasks(1, test_city_staff).pk])
    )
    thirty = count_queries(
        client, reverse("reports:plan_detail", args=[_plan_with_tasks(30, test_city_staff).pk])
    )
    # 23 queries: session, user with profile, region tree (the scope); the plan; its sections;
    # StatusBoard: targets (with their plans), tasks, then the status inputs (target
    # milestones, allocations, the status query of the roll-ups), task milestones, latest
    # percents, assignments with their units; plan history; header notices; the stages
    # (timeline); the stored judgement's write (savepoint, upsert, release: the first view
    # judges); the integrity findings (targets.integrity.plan_findings): the digest of their
    # inputs, the cache read, and on this first view the check (the plan, its targets with
    # their milestones, the live allocations as rows, task milestones, dated tasks, base
    # figures) and the cache write (count, savepoint, select, insert, release). 9 more: the
    # page's content (reports.page_cache), its key (the page clocks), the read and on this
    # first view the write, the CSRF cookie's token for the slot.
    assert one[0] == thirty[0] == 41, (one[1], thirty[1])
    assert Target.objects.filter(plan__code="q-30").count() == 30


def test_task_detail_costs_the_same_queries_for_1_and_for_30_updates(media, test_city_staff):
    plan = factories.plan("q-task", region=test_city_staff.profile.region)

    def task_with(n: int) -> Task:
        task = factories.task(plan, code=f"t{n}")
        for i in range(n):
            update = TaskUpdate.objects.create(task=task, author=test_city_staff, text=f"进展{i}")
            update.evidence.add(
                Evidence.objects.create(
                    file=f"evidence/{n}-{i}.pdf", original_name=f"{i}.pdf", sha256=f"{n}-{i}"
                )
            )
            factories.target(plan, code=f"g{n}-{i}", task=task)
        return task

    client = client_for(test_city_staff)
    one = count_queries(client, reverse("reports:task_detail", args=[task_with(1).pk]))
    thirty = count_queries(client, reverse("reports:task_detail", args=[task_with(30).pk]))
    # 17 queries: session, user with profile, region tree (the scope); the task with plan and
    # section; StatusBoard (targets, tasks, 3 status inputs: milestones, allocations, the
    # status query; task milestones, latest percents, assignments with units); may the user
    # post (task in scope); task history; header notices; the updates with their authors;
    # their evidence (one prefetch); the stored judgement's write (savepoint, upsert, release:
    # the first view judges).
    assert one[0] == thirty[0] == 20, (one[1], thirty[1])


def test_plan_list_costs_the_same_queries_for_1_and_for_30_plans(test_city_staff):
    client = client_for(test_city_staff)
    factories.plan("only-one", region=test_city_staff.profile.region)
    one = count_queries(client, reverse("reports:plan_list"))
    for i in range(29):
        factories.plan(f"more-{i}", region=test_city_staff.profile.region)
    thirty = count_queries(client, reverse("reports:plan_list"))
    # 7 queries: session, user with profile, region tree (the scope); count for the pager; the
    # page of plans with region, parent and task/target counts as subqueries; header notices;
    # the region choices of the filter bar.
    assert one[0] == thirty[0] == 7, (one[1], thirty[1])
