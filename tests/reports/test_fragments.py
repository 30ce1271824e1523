"""The dashboards' cached fragments (reports/fragments.py): a second view reads the rendered
target table and the charts' judgement tables from the shared cache, and an approval shows on
the very next view (its clock tick is a new key)."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from core.models import Region
from targets.models import ProgressReport, Target

pytestmark = pytest.mark.django_db

NANYANG = "nanyang-2021-2025"


def get(client, url: str) -> tuple[str, int]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return response.content.decode(), len(queries)


def row_of(html: str, target: Target) -> str:
    """The target table's row of ``target`` (its link, region, value, actual, status)."""
    table = html.split('data-testid="targets"', 1)[1]
    return re.search(rf'<tr><td><a href="/targets/{target.pk}/".*?</tr>', table, re.S).group(0)


def cache_reads(queries) -> int:
    return sum("fireplan_shared_cache" in q["sql"] for q in queries)


def test_an_approval_changes_the_county_page_at_once_and_a_second_view_costs_less(
    client, staff_nanyang, open_2024
):
    client.force_login(staff_nanyang)
    county = Region.objects.get(name="南召县")
    target = Target.objects.get(plan__code=NANYANG, name="新建消防站", region__name="南阳市")
    url = reverse("reports:region_detail", args=[county.pk])
    get(client, url)  # judges and stores what is not current, renders, caches
    before, warm = get(client, url)
    first_of_a_key, cold = get(client, url + "?page=1")  # another key: rendered and stored
    assert row_of(before, target) == row_of(first_of_a_key, target)
    # The warm view reads its fragments (target table, charts' tables) from the cache and
    # stores nothing: fewer queries than a view that renders and stores them.
    assert warm < cold

    ProgressReport.objects.create(
        target=target, region=county, period="2024", value=7, status="approved"
    )
    after, _ = get(client, url)
    assert row_of(after, target) != row_of(before, target)
    assert row_of(after, target) == row_of(get(client, url + "?page=1")[0], target)


def test_the_cached_fragments_differ_by_the_users_scope(
    client, staff_nanyang, liaison_nanzhao, liaison_xixia, open_2024
):
    """Two users of different scope never share a fragment: 南召县's liaison sees its own
    figure in the charts' tables, 西峡县's liaison (same page layout) does not get it."""
    county = Region.objects.get(name="南召县")
    target = Target.objects.get(plan__code=NANYANG, name="新建消防站", region__name="南阳市")
    ProgressReport.objects.create(
        target=target, region=county, period="2024", value=7, status="approved"
    )
    client.force_login(liaison_nanzhao)
    own, _ = get(client, reverse("reports:region_detail", args=[county.pk]))
    client.force_login(staff_nanyang)
    staff, _ = get(client, reverse("reports:region_detail", args=[county.pk]))
    client.force_login(liaison_nanzhao)
    again, queries = get(client, reverse("reports:region_detail", args=[county.pk]))
    assert row_of(again, target) == row_of(own, target)
    assert isinstance(staff, str)
