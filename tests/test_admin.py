"""Every model is usable in the admin by committee staff and closed to anonymous users."""

import pytest
from django.contrib import admin
from django.urls import reverse

pytestmark = pytest.mark.django_db

OUR_APPS = {"core", "planning", "targets", "stations"}
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
    # Evidence arrives only through the services' file checks, target adjustments only through
    # targets.upkeep.adjust_target (never edited): the admin adds neither.
    refused = {("evidence", "add"), ("targetadjustment", "add")}
    expected = 403 if (model, page) in refused else 200
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
