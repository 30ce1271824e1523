"""The dashboards' cached fragments (reports/fragments.py): a second view reads the rendered
target table and the charts' judgement tables from the shared cache, and an approval shows on
the very next view (its clock tick is a new key)."""

import datetime
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation

from core.models import Region
from planning.models import Plan
from reports.fragments import fragment_key
from targets.models import ProgressReport, Target
from tests import factories

pytestmark = pytest.mark.django_db

NANYANG = "nanyang-2021-2025"


def get(client, url: str) -> tuple[str, list[str]]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return response.content.decode(), [q["sql"] for q in queries.captured_queries]


def row_of(html: str, target: Target) -> str:
    """The target table's row of ``target`` (its link, region, value, actual, status)."""
    table = html.split('data-testid="targets"', 1)[1]
    return re.search(rf'<tr><td><a href="/targets/{target.pk}/".*?</tr>', table, re.S).group(0)


def cache_writes(queries: list[str]) -> int:
    return sum(q.startswith('INSERT INTO "fireplan_shared_cache"') for q in queries)


def cache_reads(queries: list[str]) -> int:
    return sum(q.startswith("SELECT") and "fireplan_shared_cache" in q for q in queries)


def test_an_approval_changes_the_county_page_at_once_and_a_second_view_costs_less(
    client, staff_nanyang, open_2024
):
    client.force_login(staff_nanyang)
    county = Region.objects.get(name="南召县")
    target = Target.objects.get(plan__code=NANYANG, name="新建消防站", region__name="南阳市")
    url = reverse("reports:region_detail", args=[county.pk])
    get(client, url)  # judges and stores what is not current, renders, caches
    before, warm = get(client, url)
    # The second view reads the page's whole content (reports.page_cache: the fragments are
    # inside it) and stores nothing.
    assert cache_writes(warm) == 0 and cache_reads(warm) == 1, warm

    ProgressReport.objects.create(
        target=target, region=county, period="2024", value=7, status="approved"
    )
    after, changed = get(client, url)
    # The approval ticked a clock: a new key, both fragments rendered again and stored, and
    # the page's content with them.
    assert cache_writes(changed) == 3
    assert row_of(after, target) != row_of(before, target)
    again, warm_again = get(client, url)
    assert row_of(again, target) == row_of(after, target)
    assert cache_writes(warm_again) == 0
    assert len(warm_again) < len(changed)


def test_the_key_differs_by_scope_date_and_language_and_holds_otherwise(
    staff_nanyang, liaison_nanzhao, liaison_xixia
):
    """Two users of different scope never share a fragment, nor two days or languages."""
    plans = list(Plan.objects.filter(code=NANYANG).values_list("pk", flat=True))
    today = timezone.localdate()
    key = fragment_key(liaison_nanzhao, plans, today)
    assert fragment_key(liaison_nanzhao, plans, today) == key
    assert fragment_key(liaison_xixia, plans, today) != key
    assert fragment_key(staff_nanyang, plans, today) != key
    assert fragment_key(liaison_nanzhao, plans, today - datetime.timedelta(days=1)) != key
    with translation.override("en"):
        assert fragment_key(liaison_nanzhao, plans, today) != key
    Region.objects.filter(name="西峡县").update(name="西峡")  # a rename ticks no clock
    renamed = fragment_key(liaison_nanzhao, plans, today)
    assert renamed != key
    # A plan's title (a plan without targets has no clock) and one more plan in scope.
    Plan.objects.filter(code=NANYANG).update(title="南阳规划（改）")
    assert fragment_key(liaison_nanzhao, plans, today) != renamed
    retitled = fragment_key(liaison_nanzhao, plans, today)
    assert fragment_key(liaison_nanzhao, [*plans, factories.plan("empty").pk], today) != retitled
