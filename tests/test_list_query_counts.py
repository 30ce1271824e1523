"""Issue 9: every list endpoint under /api/v1/ answers in at most 4 queries, the same number
at two sizes (the seed plans, then the seed plans plus more rows of every resource, targets of
every feed among them) and in both pagination modes.

The endpoints come from the API's router, and every ``*-list`` route under /api/v1/ in the
URLconf must be among them, so a new list is walked as soon as it exists. The user comes with
its profile, as the session backend and token authentication load it (accounts.backends,
core.api_auth); the queries counted are then the request's own: the scope's region tree,
the page (page-number mode: with its capped count, core.api), the page's prefetches and,
for targets, the stored judgement's one read (targets.judgement.judge).

The targets list judges on its first read after a change (or of a day) what the store does not
hold yet: the engine's inputs and the store's upsert, a fixed number more
(``COLD_JUDGEMENT_QUERIES``), measured and held constant separately; the counts compared
with ``MAX_QUERIES`` are of the next read, from the store.
"""

import datetime
from decimal import Decimal

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import URLPattern, URLResolver, get_resolver

from accounts.models import Notice
from core.models import Evidence, Job, Region, Unit
from fireplan.api_urls import router
from planning.models import Plan, Section, Task, TaskAssignment, TaskUpdate
from stations.models import Station
from targets.models import (
    Allocation,
    BaseFigure,
    FireStatistic,
    Milestone,
    ProgressReport,
    Target,
)
from tests import factories
from tests.api import client_for
from tests.conftest import make_user

pytestmark = pytest.mark.django_db

MAX_QUERIES = 4
COLD_JUDGEMENT_QUERIES = 4  # engine inputs + the upsert, on the first read after a change
MODES = {"page": "page_size=500", "cursor": "pagination=cursor&page_size=500"}
FEW, MORE = 2, 30  # rows of each resource added for the first size, then for the second


def list_urls() -> dict[str, str]:
    """Route name → URL of every list endpoint of the API's router."""
    return {
        f"{basename}-list": f"/api/v1/{prefix}/" for prefix, _viewset, basename in router.registry
    }


def api_list_route_names() -> set[str]:
    """Every ``*-list`` route under api/v1/ in the URLconf, however it was registered."""
    found: set[str] = set()

    def walk(patterns, prefix: str) -> None:
        for pattern in patterns:
            route = prefix + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, route)
            elif isinstance(pattern, URLPattern) and (pattern.name or "").endswith("-list"):
                if route.lstrip("^").startswith("api/v1/"):
                    found.add(pattern.name)

    walk(get_resolver().url_patterns, "")
    return found


def count_queries(user_id: int, url: str) -> tuple[int, int]:
    """(queries, rows on the page) of one GET, for a user loaded as a request loads it."""
    user = User.objects.select_related("profile").get(pk=user_id)
    client = client_for(user)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, (url, response.content[:300])
    return len(queries), len(response.json()["results"])


def measure(user_id: int, cold: dict | None = None) -> dict[tuple[str, str], tuple[int, int]]:
    """Each list's (queries, rows) on its second read; the first read's counts go in
    ``cold`` (the targets list judges then what the stored judgement lacks)."""
    counts = {}
    for url in list_urls().values():
        for mode, query in MODES.items():
            first = count_queries(user_id, f"{url}?{query}")
            if cold is not None:
                cold[url, mode] = first
            counts[url, mode] = count_queries(user_id, f"{url}?{query}")
    return counts


def evidence(number: int) -> Evidence:
    return Evidence.objects.create(
        file=f"evidence/test/{number}.pdf",
        original_name=f"佐证{number}.pdf",
        size_bytes=10,
        sha256=f"{number:064x}",
    )


def add_rows(user: User, city: Region, count: int, tag: str) -> None:
    """``count`` more rows of every resource inside ``city``: regions, units, plans, sections,
    tasks with their units, task updates and reports with evidence, targets of each feed with
    milestones, allocations and approved figures, statistics, base figures, stations and the
    user's notices and background jobs."""
    towns = Region.objects.bulk_create(
        Region(name=f"测试镇{tag}{i}", level="town", parent=city) for i in range(count)
    )
    units = Unit.objects.bulk_create(
        Unit(name=f"测试单位{tag}{i}", kind="department", region=city) for i in range(count)
    )
    Plan.objects.bulk_create(
        Plan(code=f"list-{tag}-{i}", title=f"测试规划{i}", kind="special", start_year=2021,
             end_year=2025, region=city)
        for i in range(count)
    )  # fmt: skip
    owner = factories.plan(f"list-counts-{tag}", region=city, start_year=2021, end_year=2025)
    Section.objects.bulk_create(
        Section(plan=owner, code=f"s{i}", number=str(i), title=f"章节{i}", order=i)
        for i in range(count)
    )
    tasks = Task.objects.bulk_create(
        Task(plan=owner, code=f"t{i}", title=f"任务{i}", order=i) for i in range(count)
    )
    TaskAssignment.objects.bulk_create(
        TaskAssignment(task=task, unit=units[(i + order) % count], role=role, order=order)
        for i, task in enumerate(tasks)
        for order, role in enumerate(["lead", "support"])
    )
    updates = TaskUpdate.objects.bulk_create(
        TaskUpdate(task=task, text="进展", percent=50) for task in tasks
    )
    for number, update in enumerate(updates):
        update.evidence.add(evidence(number))
    feeds = [
        {"feed": "reports"},
        {"feed": "formula", "formula": "avg(deaths / population * 100000)", "measure": "rate",
         "comparator": "lte"},
        {"feed": "formula", "formula": "stations_in_service / population * 100000",
         "measure": "rate"},
        {"feed": "station_register"},
    ]  # fmt: skip
    targets = Target.objects.bulk_create(
        Target(plan=owner, task=tasks[i], code=f"g{i}", name=f"指标{i}", target_value=10,
               target_year=2025, region=city, order=i,
               **({"measure": "increment"} | feeds[i % len(feeds)]))
        for i in range(count)
    )  # fmt: skip
    Milestone.objects.bulk_create(
        Milestone(plan=owner, target=target, code=f"{target.code}-m", planned_value=2,
                  due_on=datetime.date(2022, 12, 31))
        for target in targets
    )  # fmt: skip
    Allocation.objects.bulk_create(
        Allocation(target=target, region=town, value=1)
        for target, town in zip(targets, towns, strict=True)
    )
    ProgressReport.objects.bulk_create(
        ProgressReport(target=target, region=region, period="2022", value=Decimal(1),
                       status="approved", is_demo=region == city)
        for target, town in zip(targets, towns, strict=True)
        for region in (city, town)
    )  # fmt: skip
    submitted = ProgressReport.objects.bulk_create(
        ProgressReport(target=target, region=city, period="2023", value=1, status="submitted")
        for target in targets
    )
    for number, report in enumerate(submitted, start=count):
        report.evidence.add(evidence(number))
    FireStatistic.objects.bulk_create(
        FireStatistic(region=town, year=2021, fires=3, deaths=1) for town in towns
    )
    BaseFigure.objects.bulk_create(
        BaseFigure(region=town, year=2021, name="常住人口", key="population", value=10_000)
        for town in towns
    )
    Station.objects.bulk_create(
        Station(name=f"测试站{tag}{i}", region=town, status="in_service", build_type="new",
                completed_year=2022)
        for i, town in enumerate(towns)
    )  # fmt: skip
    Notice.objects.bulk_create(
        Notice(user=user, level="info", key=f"list-{tag}-{i}", text="提醒") for i in range(count)
    )
    Job.objects.bulk_create(
        Job(owner=user, kind="ledger_export", title=f"台账导出{tag}{i}") for i in range(count)
    )


def test_every_list_route_of_the_api_is_walked():
    assert api_list_route_names() == set(list_urls())


def test_every_list_answers_in_at_most_four_queries_at_two_sizes_and_in_both_modes(seeded):
    city = Region.objects.get(name="连州市")  # formula targets and towns' allocations
    user = make_user("staff_lianzhou_lists", "staff", "连州市")
    add_rows(user, city, FEW, "a")  # every list has rows: its prefetches run at both sizes
    small_cold, large_cold = {}, {}
    small = measure(user.pk, small_cold)
    add_rows(user, city, MORE, "b")
    large = measure(user.pk, large_cold)
    # The first read after the rows were added (the targets list judging the new targets)
    # costs at most a fixed number more, the same at both sizes.
    cold = {key: (small_cold[key][0], large_cold[key][0]) for key in small_cold}
    assert not {
        key: pair
        for key, pair in cold.items()
        if max(pair) > MAX_QUERIES + COLD_JUDGEMENT_QUERIES or pair[0] != pair[1]
    }, cold

    counts = {key: (small[key][0], large[key][0]) for key in small}
    too_many = {key: pair for key, pair in counts.items() if max(pair) > MAX_QUERIES}
    assert not too_many, too_many
    growing = {key: pair for key, pair in counts.items() if pair[0] != pair[1]}
    assert not growing, growing
    # Each page really grew by the added rows (so a query per row would have shown).
    not_grown = {key for key in small if large[key][1] < small[key][1] + MORE}
    assert not not_grown, not_grown
    # The page-number count rides with the page: both modes cost the same.
    assert {url: pair for (url, mode), pair in counts.items() if mode == "page"} == {
        url: pair for (url, mode), pair in counts.items() if mode == "cursor"
    }


def test_page_number_count_and_pages_stay_exact(seeded):
    """The count read with the page: exact pages, the count of every row, the last page's
    remainder, a page past the end refused (404), an empty list counted as 0."""
    user = make_user("staff_lianzhou_pages", "staff", "连州市")
    client = client_for(User.objects.select_related("profile").get(pk=user.pk))
    every = client.get("/api/v1/targets/?page_size=500").json()
    total = every["count"]
    assert total == len(every["results"]) > 7
    ids = [row["id"] for row in every["results"]]
    seen, url = [], "/api/v1/targets/?page_size=7"
    while url:
        page = client.get(url).json()
        assert (page["count"], page["count_capped"]) == (total, False)
        seen += [row["id"] for row in page["results"]]
        url = page["next"]
    assert seen == ids
    last = -(-total // 7)
    assert client.get(f"/api/v1/targets/?page_size=7&page={last + 1}").status_code == 404
    assert client.get("/api/v1/targets/?page_size=7&page=last").json()["results"] == [
        row for row in every["results"][(last - 1) * 7 :]
    ]
    empty = client.get("/api/v1/targets/?page_size=7&search=没有这个指标").json()
    assert (empty["count"], empty["results"], empty["next"]) == (0, [], None)
    # A filter that matches nothing by construction (the status of no candidate: pk__in=[]).
    bare = factories.plan("list-bare", region=Region.objects.get(name="连州市"))
    nothing = client.get(f"/api/v1/targets/?page_size=7&plan={bare.pk}&status=met")
    assert nothing.status_code == 200
    assert (nothing.json()["count"], nothing.json()["results"]) == (0, [])
