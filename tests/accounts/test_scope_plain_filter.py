"""Issue 19: ``core.scope.restrict`` filters with a plain WHERE when a rule joins no to-many
relation, and keeps the ``pk__in`` wrapper only where the rule's filter for that action crosses
one (``crosses_to_many``). The rows must be exactly those of before.

Figures are planted for every target of the 南阳 and 连州 plans in regions inside and outside
each user's scope (南阳市, two of its counties, 连州市 and a town, 阜新市, 河南省, 江苏省); the
reports list answers, for every role, the ids the rule gives (read in Python: the report's
region in the user's region or below) and the ids of the old wrapped filter.
"""

from __future__ import annotations

import pytest
from django.apps import apps
from django.contrib.auth.models import User
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import Profile
from core import scope
from core.models import Region
from planning.models import TaskAssignment
from targets.models import ProgressReport, Target
from tests.api import client_for
from tests.conftest import make_user

pytestmark = pytest.mark.django_db

PLANS = ("nanyang-2021-2025", "lianzhou-2021-2025")
REGIONS = ("南阳市", "南召县", "西峡县", "连州市", "阜新市", "河南省", "江苏省")
ACTIONS = (scope.VIEW, scope.CHANGE, scope.REPORT, scope.APPROVE, scope.EXPORT)


@pytest.fixture
def figures(seeded):
    """A draft figure of every target of the two plans in each region of REGIONS and in one
    town of 连州 (the towns are the ones the seeds allocate to)."""
    regions = list(Region.objects.filter(name__in=REGIONS))
    regions.append(Region.objects.filter(parent__name="连州市").order_by("pk").first())
    targets = list(Target.objects.filter(plan__code__in=PLANS))
    ProgressReport.objects.bulk_create(
        ProgressReport(target=target, region=region, period="2024", value=1)
        for target in targets
        for region in regions
    )
    return len(targets) * len(regions)


@pytest.fixture
def liaison_with_unit(seeded):
    """A 南阳 liaison for one unit that takes part in a task with targets: reports only for
    that task's targets (the rule that joins the task's assignments)."""
    assignment = (
        TaskAssignment.objects.filter(
            task__plan__code=PLANS[0], task__targets__isnull=False, unit__region__name="南阳市"
        )
        .select_related("unit")
        .order_by("pk")
        .first()
    )
    user = User.objects.create_user("liaison_nanyang_unit", password="Pass-word-2021")
    Profile.objects.create(
        user=user, role="liaison", region=assignment.unit.region, unit=assignment.unit
    )
    return user


@pytest.fixture
def cast(
    seeded,
    staff_nanyang,
    staff_lianzhou,
    liaison_nanzhao,
    liaison_xixia,
    liaison_lianzhou,
    supervisor_nanyang,
    viewer_nanyang,
    outsider,
    admin_jiangsu,
    liaison_with_unit,
):
    superuser = User.objects.create_superuser("root_scope", password="Pass-word-2021")
    return [
        staff_nanyang, staff_lianzhou, liaison_nanzhao, liaison_xixia, liaison_lianzhou,
        supervisor_nanyang, viewer_nanyang, outsider, admin_jiangsu, liaison_with_unit,
        make_user("viewer_henan", "viewer", "河南省"), superuser,
    ]  # fmt: skip


def fresh(user) -> User:
    """The user as a request sees it (no scope cached on the object)."""
    return User.objects.select_related("profile").get(pk=user.pk)


def wrapped(model, user, action) -> list[int]:
    """The old filter: every distinct rule through ``pk__in (subquery)``."""
    queryset = model._default_manager.all()
    if not scope.can(user, action):
        return []
    user_scope = scope.scope_of(user)
    if user_scope.everything:
        return sorted(queryset.values_list("pk", flat=True))
    rule = scope.RULES[model._meta.label_lower](user_scope, action)
    inner = queryset.filter(rule).values("pk")
    return sorted(queryset.filter(pk__in=inner).values_list("pk", flat=True))


def listed_ids(user) -> tuple[list[int], int]:
    """Every id of the reports list, page by page, and the count it announced."""
    client = client_for(fresh(user))
    ids, url, count = [], "/api/v1/reports/?page_size=500", None
    while url:
        response = client.get(url)
        assert response.status_code == 200, response.content
        body = response.json()
        count = body["count"] if count is None else count
        ids += [row["id"] for row in body["results"]]
        url = body["next"]
    return ids, count


def test_reports_list_gives_each_role_the_rows_of_the_rule(figures, cast):
    regions = dict(ProgressReport.objects.values_list("pk", "region_id"))
    assert len(regions) >= figures
    seen_some_not_all = 0
    for user in cast:
        user = fresh(user)
        user_scope = scope.scope_of(user)
        # The rule read in Python: a figure is seen in its region and the regions above it.
        expected = sorted(pk for pk, region_id in regions.items() if user_scope.covers(region_id))
        ids, count = listed_ids(user)
        assert len(ids) == len(set(ids)), user.username  # no row twice
        assert sorted(ids) == expected, user.username
        assert count == len(expected), user.username
        assert sorted(ids) == wrapped(ProgressReport, user, scope.VIEW), user.username
        seen_some_not_all += 0 < len(ids) < len(regions)
    assert seen_some_not_all >= 8  # the cast sees different parts, not all or nothing


def test_every_rule_gives_the_rows_of_the_old_wrapped_filter(figures, cast):
    """Every model's rule, every action, every role: the same ids, none twice."""
    for label in sorted(scope.RULES):
        model = apps.get_model(label)
        for user in cast:
            user = fresh(user)
            for action in ACTIONS:
                ids = list(scope.restrict(model._default_manager.all(), user, action).values_list(
                    "pk", flat=True
                ))  # fmt: skip
                assert len(ids) == len(set(ids)), (label, user.username, action)
                assert sorted(ids) == wrapped(model, user, action), (label, user.username, action)


def test_the_reports_list_filters_by_region_without_a_subquery(figures, staff_nanyang):
    """The page and its capped count read the reports table once each, filtered by region
    (the planner uses the region index and the ordering's index; issue 19)."""
    client = client_for(fresh(staff_nanyang))
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/api/v1/reports/?page_size=100").status_code == 200
    (page,) = [q["sql"] for q in queries.captured_queries if "capped_total_" in q["sql"]]
    assert '"targets_progressreport"."region_id" = ANY(' in page  # one array: core.lookups
    assert "IN (SELECT" not in page


def test_a_rule_joining_many_rows_keeps_each_object_once(figures, staff_nanyang, monkeypatch):
    """Reporting targets joins their allocations: a target allocated to several 南阳 counties
    comes once — through the wrapper, which the check keeps for that action only."""
    user = fresh(staff_nanyang)
    targets = Target.objects.all()
    assert scope.crosses_to_many(
        Target, scope.RULES["targets.target"](scope.scope_of(user), "report")
    )
    assert not scope.crosses_to_many(
        Target, scope.RULES["targets.target"](scope.scope_of(user), "view")
    )
    ids = list(scope.restrict(targets, user, scope.REPORT).values_list("pk", flat=True))
    assert len(ids) == len(set(ids))
    # Without the wrapper the join repeats targets: the check is what keeps them once.
    monkeypatch.setattr(scope, "crosses_to_many", lambda model, q: False)
    repeated = list(scope.restrict(targets, user, scope.REPORT).values_list("pk", flat=True))
    assert len(repeated) > len(set(repeated)) == len(ids)


def test_a_liaisons_unit_joins_the_assignments_and_keeps_the_wrapper(figures, liaison_with_unit):
    user = fresh(liaison_with_unit)
    user_scope = scope.scope_of(user)
    reports = scope.restrict(ProgressReport.objects.all(), user, scope.REPORT)
    assert "IN (SELECT" in str(reports.query)
    units_of_task = {}
    for task_id, unit_id in TaskAssignment.objects.values_list("task_id", "unit_id"):
        units_of_task.setdefault(task_id, set()).add(unit_id)
    expected = sorted(
        pk
        for pk, region_id, task_id in ProgressReport.objects.values_list(
            "pk", "region_id", "target__task_id"
        )
        if user_scope.covers(region_id) and user_scope.unit_id in units_of_task.get(task_id, ())
    )
    assert expected
    assert sorted(reports.values_list("pk", flat=True)) == expected


def test_the_check_reads_paths_through_relations_and_is_cautious_with_the_rest():
    from django.db.models import Exists, F, OuterRef, Q, Value

    from targets.models import Allocation

    crosses = scope.crosses_to_many
    assert not crosses(Target, Q(plan__region_id__in=[1], retired_on__isnull=True))
    assert not crosses(Target, Q(pk__in=Target.objects.values("pk")) | Q(task__plan_id=1))
    assert not crosses(Target, Q(Exists(Allocation.objects.filter(target=OuterRef("pk")))))
    assert crosses(Target, Q(region_id__in=[1]) | Q(allocations__region_id__in=[1]))
    assert crosses(ProgressReport, Q(region_id=1) & Q(target__task__assignments__unit_id=2))
    assert crosses(Target, Q(region_id=F("allocations__region_id")))
    assert crosses(Target, Q(region_id=Value(1)))  # an expression it does not read: wrapped
