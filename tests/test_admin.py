"""Every model is usable in the admin by committee staff and closed to anonymous users."""

import pytest
from django.contrib import admin
from django.urls import reverse

pytestmark = pytest.mark.django_db

OUR_APPS = {"core", "planning", "targets", "stations"}
READ_ONLY = {"evidence", "progressreport", "taskupdate"}
MODELS = sorted(
    (model._meta.app_label, model._meta.model_name)
    for model in admin.site._registry
    if model._meta.app_label in OUR_APPS
)


def test_every_model_of_the_design_is_registered():
    names = {name for _, name in MODELS}
    assert names >= {
        "region", "unit", "plan", "stage", "section", "task", "taskassignment", "taskupdate",
        "target", "milestone", "allocation", "progressreport", "evidence", "station",
        "firestatistic", "basefigure",
    }  # fmt: skip


@pytest.mark.parametrize(("app", "model"), MODELS)
@pytest.mark.parametrize("page", ["changelist", "add"])
def test_staff_can_open_admin_pages(client, seeded, staff_user, app, model, page):
    client.force_login(staff_user)
    response = client.get(reverse(f"admin:{app}_{model}_{page}"))
    # Evidence arrives only through the services' file checks, figures and progress notes
    # only through the workflow, target adjustments only through targets.upkeep.adjust_target
    # (never edited): the admin adds none.
    expected = 403 if page == "add" and model in READ_ONLY | {"targetadjustment"} else 200
    assert response.status_code == expected


@pytest.mark.parametrize(("app", "model"), MODELS)
@pytest.mark.parametrize("page", ["changelist", "add"])
def test_anonymous_is_sent_to_login(client, app, model, page):
    url = reverse(f"admin:{app}_{model}_{page}")
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_plan_change_page_shows_sections_and_tasks_inline(client, seeded, staff_user):
    from planning.models import Plan

    plan = Plan.objects.filter(tasks__isnull=False).first()
    if plan is None:
        pytest.skip("no seeded plan with tasks")
    client.force_login(staff_user)
    response = client.get(reverse("admin:planning_plan_change", args=[plan.pk]))
    assert response.status_code == 200
    task = plan.tasks.first()
    assert task.title in response.content.decode()


def test_target_change_page_shows_source_text(client, seeded, staff_user):
    from targets.models import Target

    target = Target.objects.exclude(source_text="").first()
    if target is None:
        pytest.skip("no seeded target")
    client.force_login(staff_user)
    response = client.get(reverse("admin:targets_target_change", args=[target.pk]))
    assert target.source_text[:20] in response.content.decode()


# ------------------------------------------------------------------------------ no back door
# The admin is for upkeep: a reported figure changes only through the workflow (save, submit,
# approve, return, reopen — each versioned, with a history reason), and a plan or target with
# figures is never deleted here. Even a superuser gets no way round the services.


@pytest.fixture
def superuser(db):
    from django.contrib.auth.models import User

    return User.objects.create_superuser("admin_root", password="Root-pass-2021-xyz")


@pytest.fixture
def approved(seeded, open_2024, liaison_nanzhao, staff_nanyang, tmp_path, settings):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from core.models import Region
    from targets import services
    from targets.models import Target

    settings.MEDIA_ROOT = tmp_path
    target = Target.objects.get(plan__code="nanyang-2021-2025", code="tg-new-stations")
    pdf = SimpleUploadedFile("验收.pdf", b"%PDF-1.4\n%%EOF\n", content_type="application/pdf")
    report = services.save_report(
        actor=liaison_nanzhao, target=target, region=Region.objects.get(name="南召县"),
        period="2024", value=3, evidence=[pdf], submit=True,
    )  # fmt: skip
    return services.approve_report(report, actor=staff_nanyang)


def state(report) -> tuple:
    report.refresh_from_db()
    evidence = tuple(report.evidence.values_list("pk", flat=True))
    return report.value, report.status, report.version, evidence, report.history.count()


def test_an_approved_figure_cannot_be_changed_in_the_admin(client, superuser, approved):
    before = state(approved)
    assert before[1] == "approved" and before[3]
    client.force_login(superuser)
    url = reverse("admin:targets_progressreport_change", args=[approved.pk])

    page = client.get(url)
    assert page.status_code == 200  # viewable, read-only
    assert 'name="value"' not in page.content.decode()
    changed = client.post(
        url,
        {
            "target": approved.target_id, "region": approved.region_id, "period": "2024",
            "value": "999", "status": "draft", "note": "后台改", "confirm_note": "",
            "return_reason": "", "evidence": [],
        },
    )  # fmt: skip

    assert changed.status_code == 403
    assert state(approved) == before


def test_figures_are_never_added_or_deleted_in_the_admin(client, superuser, approved):
    before = state(approved)
    client.force_login(superuser)

    assert client.get(reverse("admin:targets_progressreport_add")).status_code == 403
    delete = reverse("admin:targets_progressreport_delete", args=[approved.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 403
    bulk = client.post(
        reverse("admin:targets_progressreport_changelist"),
        {"action": "delete_selected", "_selected_action": [approved.pk], "post": "yes"},
    )
    assert bulk.status_code in (200, 302)
    assert state(approved) == before
    # Nor the evidence behind it (deleting it would drop it from the approved figure).
    evidence = approved.evidence.get()
    evidence_delete = reverse("admin:core_evidence_delete", args=[evidence.pk])
    assert client.post(evidence_delete, {"post": "yes"}).status_code == 403
    assert state(approved) == before


def plan_state(plan) -> tuple:
    from targets.models import ProgressReport

    return (
        type(plan).objects.filter(pk=plan.pk).exists(),
        plan.targets.count(),
        ProgressReport.objects.filter(target__plan=plan).count(),
        plan.history.count(),
    )


def test_a_plan_with_figures_cannot_be_deleted_in_the_admin(client, superuser, approved):
    plan = approved.target.plan
    before = plan_state(plan)
    client.force_login(superuser)

    single = client.post(
        reverse("admin:planning_plan_delete", args=[plan.pk]), {"post": "yes"}, follow=True
    )
    assert "已有填报数据" in single.content.decode()
    assert "不能在后台删除" in single.content.decode()
    assert plan_state(plan) == before

    bulk = client.post(
        reverse("admin:planning_plan_changelist"),
        {"action": "delete_selected", "_selected_action": [plan.pk], "post": "yes"},
        follow=True,
    )
    assert "已有填报数据" in bulk.content.decode()
    assert plan_state(plan) == before
    assert state(approved)[1] == "approved"


def test_a_target_with_figures_cannot_be_deleted_in_the_admin(client, superuser, approved):
    from targets.models import Target

    client.force_login(superuser)
    target = approved.target

    page = client.get(reverse("admin:targets_target_change", args=[target.pk]))
    assert reverse("admin:targets_target_delete", args=[target.pk]) not in page.content.decode()
    single = client.post(
        reverse("admin:targets_target_delete", args=[target.pk]), {"post": "yes"}, follow=True
    )
    bulk = client.post(
        reverse("admin:targets_target_changelist"),
        {"action": "delete_selected", "_selected_action": [target.pk], "post": "yes"},
        follow=True,
    )
    assert "已有填报数据" in single.content.decode() and "已有填报数据" in bulk.content.decode()
    assert Target.objects.filter(pk=target.pk).exists()


def test_a_plan_without_figures_can_still_be_deleted_in_the_admin(client, superuser, seeded):
    from planning.models import Plan
    from tests import factories

    plan = factories.plan("admin-empty-plan")
    factories.target(plan)
    client.force_login(superuser)

    response = client.post(reverse("admin:planning_plan_delete", args=[plan.pk]), {"post": "yes"})

    assert response.status_code == 302
    assert not Plan.objects.filter(pk=plan.pk).exists()
