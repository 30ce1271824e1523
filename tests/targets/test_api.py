"""REST API for targets, milestones, allocations, reports and statistics: scope, roles,
filters, the report workflow, conditional requests and errors."""

import datetime
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from core.models import Region
from targets import services
from targets.models import BaseFigure, FireStatistic, ProgressReport, Target
from tests import factories
from tests.api import client_for, count_list_queries, error_code, if_match

pytestmark = pytest.mark.django_db

LIST_URLS = [
    "/api/v1/targets/",
    "/api/v1/milestones/",
    "/api/v1/allocations/",
    "/api/v1/reports/",
    "/api/v1/fire-statistics/",
    "/api/v1/base-figures/",
    "/api/v1/notices/",
]


def nanyang(code: str) -> Target:
    return Target.objects.select_related("plan").get(plan__code="nanyang-2021-2025", code=code)


@pytest.fixture
def new_stations(seeded):
    """南阳 新建消防站24个, allocated per county (附件1: 南召县 3)."""
    return nanyang("tg-new-stations")


@pytest.fixture
def nanzhao(seeded):
    return Region.objects.get(name="南召县")


@pytest.fixture
def draft(liaison_nanzhao, new_stations, nanzhao, open_2024):
    return services.save_report(
        actor=liaison_nanzhao, target=new_stations, region=nanzhao, period="2024", value=1
    )


@pytest.mark.parametrize("url", LIST_URLS)
def test_anonymous_requests_get_401_with_a_code(client, url):
    response = client_for().get(url)
    assert response.status_code == 401
    assert error_code(response) == "not_authenticated"


@pytest.mark.parametrize("url", LIST_URLS[:-1])
def test_outsiders_see_none_of_another_citys_rows(outsider, url):
    # 阜新 staff: every row they see belongs to 辽宁/阜新, none to 南阳 or 连州.
    data = client_for(outsider).get(url + "?page_size=500").json()
    for row in data["results"]:
        region = row.get("region")
        if region:
            assert Region.objects.get(pk=region).name not in {"南阳市", "连州市", "南召县"}


def test_a_target_outside_the_scope_is_404(outsider, new_stations):
    response = client_for(outsider).get(f"/api/v1/targets/{new_stations.pk}/")
    assert response.status_code == 404
    assert error_code(response) == "not_found"


def test_a_target_carries_its_milestones_and_the_engines_verdict(staff_lianzhou):
    hydrants = Target.objects.get(plan__code="lianzhou-2021-2025", code="t-hydrants")
    ProgressReport.objects.create(
        target=hydrants, region=hydrants.region, period="2021", value=20, status="approved"
    )
    ProgressReport.objects.create(
        target=hydrants, region=hydrants.region, period="2022", value=25, status="approved"
    )
    response = client_for(staff_lianzhou).get(f"/api/v1/targets/{hydrants.pk}/?on=2022-12-31")
    body = response.json()
    assert [m["planned_value"] for m in body["milestones"]] == [20, 30, 40, 50, 50]
    progress = body["progress"]
    assert (progress["actual"], progress["expected"], progress["status"]) == (45, 50, "lagging")
    assert response["ETag"] == f'"{hydrants.pk}-{hydrants.version}"'


def test_the_series_gives_planned_actual_and_projection_by_year(staff_lianzhou):
    hydrants = Target.objects.get(plan__code="lianzhou-2021-2025", code="t-hydrants")
    ProgressReport.objects.create(
        target=hydrants, region=hydrants.region, period="2021", value=20, status="approved"
    )
    body = (
        client_for(staff_lianzhou)
        .get(f"/api/v1/targets/{hydrants.pk}/series/?on=2022-06-30")
        .json()
    )
    assert [p["planned"] for p in body["points"]] == [20, 50, 90, 140, 190]
    assert [p["actual"] for p in body["points"]] == [20, 20, None, None, None]
    assert body["projection"]["period"] == "2025"


def test_the_series_splits_an_allocated_target_by_county(staff_nanyang, new_stations):
    body = client_for(staff_nanyang).get(f"/api/v1/targets/{new_stations.pk}/series/").json()
    shares = {r["region_name"]: r["allocated"] for r in body["regions"]}
    assert shares["南召县"] == 3 and len(shares) == 13


class TestTargetFilters:
    def test_filter_by_plan_attribute_and_year(self, staff_lianzhou):
        plan_id = Target.objects.filter(plan__code="lianzhou-2021-2025").first().plan_id
        body = (
            client_for(staff_lianzhou)
            .get(f"/api/v1/targets/?plan={plan_id}&attribute=binding")
            .json()
        )
        assert [t["code"] for t in body["results"]] == ["k-fire-death-rate"]

    def test_filter_by_region_includes_sub_regions(self, staff_nanyang):
        city = Region.objects.get(name="南阳市")
        body = client_for(staff_nanyang).get(f"/api/v1/allocations/?region={city.pk}").json()
        assert body["count"] == 36  # every county share of 南阳's targets

    def test_filter_by_computed_status(self, staff_lianzhou):
        hydrants = Target.objects.get(plan__code="lianzhou-2021-2025", code="t-hydrants")
        for period, value in [("2021", 20), ("2022", 30), ("2023", 40), ("2024", 50), ("2025", 50)]:
            ProgressReport.objects.create(
                target=hydrants, region=hydrants.region, period=period, value=value,
                status="approved",
            )  # fmt: skip
        body = client_for(staff_lianzhou).get("/api/v1/targets/?status=met").json()
        assert "t-hydrants" in [t["code"] for t in body["results"]]

    def test_a_bad_filter_value_is_400_not_500(self, staff_lianzhou):
        response = client_for(staff_lianzhou).get("/api/v1/targets/?year=abc&region=zzz")
        assert response.status_code == 400
        assert set(response.json()["errors"]) == {"year", "region"}

    def test_search_and_ordering(self, staff_lianzhou):
        body = client_for(staff_lianzhou).get("/api/v1/targets/?search=消火栓&ordering=name").json()
        names = [t["name"] for t in body["results"]]
        assert names and all(
            "消火栓" in n or "消火栓" in t["source_text"]
            for n, t in zip(names, body["results"], strict=True)
        )
        assert names == sorted(names)


class TestReportWorkflow:
    def test_a_liaison_creates_a_draft_and_submits_it(
        self, liaison_nanzhao, new_stations, nanzhao, open_2024
    ):
        client = client_for(liaison_nanzhao)
        created = client.post(
            "/api/v1/reports/",
            {"target": new_stations.pk, "region": nanzhao.pk, "period": "2024", "value": "1"},
            format="json",
        )
        assert created.status_code == 201, created.json()
        report = created.json()
        assert (report["status"], report["value"]) == ("draft", 1)
        submitted = client.post(f"/api/v1/reports/{report['id']}/submit/", {}, format="json")
        assert submitted.json()["status"] == "submitted"

    def test_a_second_create_does_not_overwrite_the_first_figure(
        self, liaison_nanzhao, new_stations, nanzhao, open_2024
    ):
        client = client_for(liaison_nanzhao)
        fields = {"target": new_stations.pk, "region": nanzhao.pk, "period": "2024"}
        first = client.post("/api/v1/reports/", fields | {"value": "1"}, format="json")
        assert first.status_code == 201
        again = client.post("/api/v1/reports/", fields | {"value": "7"}, format="json")
        assert again.status_code == 409
        assert again.json()["code"] == "report_exists"
        report = ProgressReport.objects.get(pk=first.json()["id"])
        assert (report.value, report.version) == (1, first.json()["version"])
        # With the version it read, the client may save over its own figure.
        saved = client.post(
            "/api/v1/reports/",
            fields | {"value": "2", "version": first.json()["version"]},
            format="json",
        )
        assert saved.status_code == 201 and saved.json()["value"] == 2

    def test_staff_approve_return_and_reopen_with_reasons(
        self, staff_nanyang, draft, liaison_nanzhao
    ):
        services.submit_report(draft, actor=liaison_nanzhao)
        client = client_for(staff_nanyang)
        refused = client.post(f"/api/v1/reports/{draft.pk}/return/", {}, format="json")
        assert refused.status_code == 400 and "reason" in refused.json()["errors"]
        returned = client.post(
            f"/api/v1/reports/{draft.pk}/return/",
            {"reason": "缺少佐证"},
            format="json",
            **if_match(draft),
        )
        assert returned.json()["return_reason"] == "缺少佐证"
        client_for(liaison_nanzhao).post(f"/api/v1/reports/{draft.pk}/submit/", {}, format="json")
        unseen = client.post(f"/api/v1/reports/{draft.pk}/approve/", {}, format="json")
        assert unseen.status_code == 428  # a review says which version it saw
        approved = client.post(
            f"/api/v1/reports/{draft.pk}/approve/", {}, format="json", **if_match(draft)
        )
        assert approved.json()["status"] == "approved"
        reopened = client.post(
            f"/api/v1/reports/{draft.pk}/reopen/", {"reason": "数据有误"}, format="json"
        )
        assert (reopened.json()["status"], reopened.json()["return_reason"]) == (
            "returned",
            "重新打开：数据有误",
        )
        history = [h.history_change_reason for h in draft.history.order_by("history_date")]
        assert history == ["保存草稿", "提交", "退回", "提交", "审核通过", "重新打开"]

    def test_a_liaison_cannot_approve(self, liaison_nanzhao, draft):
        services.submit_report(draft, actor=liaison_nanzhao)
        response = client_for(liaison_nanzhao).post(f"/api/v1/reports/{draft.pk}/approve/")
        assert response.status_code == 403

    def test_another_county_cannot_see_the_report(self, liaison_xixia, draft):
        assert client_for(liaison_xixia).get(f"/api/v1/reports/{draft.pk}/").status_code == 404

    def test_a_supervisor_reads_but_cannot_write(
        self, supervisor_nanyang, draft, new_stations, nanzhao
    ):
        client = client_for(supervisor_nanyang)
        assert client.get(f"/api/v1/reports/{draft.pk}/").status_code == 200
        response = client.post(
            "/api/v1/reports/",
            {"target": new_stations.pk, "region": nanzhao.pk, "period": "2024", "value": 1},
            format="json",
        )
        assert response.status_code == 403

    def test_a_stale_if_match_is_412_and_changes_nothing(self, liaison_nanzhao, draft):
        client = client_for(liaison_nanzhao)
        etag = client.get(f"/api/v1/reports/{draft.pk}/")["ETag"]
        first = client.patch(
            f"/api/v1/reports/{draft.pk}/", {"value": "2"}, format="json", HTTP_IF_MATCH=etag
        )
        assert first.status_code == 200
        second = client.patch(
            f"/api/v1/reports/{draft.pk}/", {"value": "3"}, format="json", HTTP_IF_MATCH=etag
        )
        assert second.status_code == 412
        assert error_code(second) == "stale_edit" and "已被他人修改" in second.json()["message"]
        draft.refresh_from_db()
        assert draft.value == 2

    @pytest.mark.parametrize(
        ("value", "code"),
        [
            ("abc", "not_a_number"),
            ("-1", "negative"),
            ("1.5", "not_whole"),
            ("1" + "0" * 20, "out_of_range"),
            ("1e400", "not_a_number"),
        ],
    )
    def test_bad_values_are_400_with_a_code_and_change_nothing(
        self, liaison_nanzhao, new_stations, nanzhao, open_2024, value, code
    ):
        response = client_for(liaison_nanzhao).post(
            "/api/v1/reports/",
            {"target": new_stations.pk, "region": nanzhao.pk, "period": "2024", "value": value},
            format="json",
        )
        assert response.status_code == 400
        assert error_code(response) == code
        assert not ProgressReport.objects.filter(target=new_stations, region=nanzhao).exists()

    @pytest.mark.parametrize(
        ("period", "code"),
        [("2024Q5", "bad_period"), ("2030", "period_outside_plan"), ("2023", "period_not_open")],
    )
    def test_bad_periods_are_refused(
        self, liaison_nanzhao, new_stations, nanzhao, open_2024, period, code
    ):
        response = client_for(liaison_nanzhao).post(
            "/api/v1/reports/",
            {"target": new_stations.pk, "region": nanzhao.pk, "period": period, "value": 1},
            format="json",
        )
        assert (response.status_code, error_code(response)) == (400, code)

    def test_evidence_uploads_as_multipart_and_keeps_its_sha256(self, liaison_nanzhao, draft):
        upload = SimpleUploadedFile(
            "验收报告.pdf", b"%PDF-1.4 test", content_type="application/pdf"
        )
        response = client_for(liaison_nanzhao).post(
            f"/api/v1/reports/{draft.pk}/evidence/", {"file": upload}, format="multipart"
        )
        assert response.status_code == 200
        [evidence] = response.json()["evidence"]
        assert evidence["name"] == "验收报告.pdf" and len(evidence["sha256"]) == 64

    def test_an_executable_renamed_to_pdf_is_refused(self, liaison_nanzhao, draft):
        upload = SimpleUploadedFile("报告.pdf", b"MZ\x90\x00 not a pdf")
        response = client_for(liaison_nanzhao).post(
            f"/api/v1/reports/{draft.pk}/evidence/", {"file": upload}, format="multipart"
        )
        assert (response.status_code, error_code(response)) == (400, "evidence_content")


def add_rows(city, owner, start: int, stop: int) -> None:
    """Targets (each with a milestone, an allocation and an approved report), statistics and
    base figures numbered start..stop-1."""
    from targets.models import Allocation, Milestone

    targets = Target.objects.bulk_create(
        Target(plan=owner, code=f"b{i}", name=f"批量{i}", measure="increment", target_value=5,
               target_year=2025, region=city, order=i)
        for i in range(start, stop)
    )  # fmt: skip
    county = Region.objects.get(name="南召县")
    Milestone.objects.bulk_create(
        Milestone(plan=owner, target=t, code=f"{t.code}-m1", due_on=datetime.date(2022, 12, 31))
        for t in targets
    )
    Allocation.objects.bulk_create(Allocation(target=t, region=county, value=1) for t in targets)
    ProgressReport.objects.bulk_create(
        ProgressReport(target=t, region=city, period="2022", value=1, status="approved")
        for t in targets
    )
    FireStatistic.objects.bulk_create(
        FireStatistic(region=city, year=1900 + i, fires=i) for i in range(start, stop)
    )
    BaseFigure.objects.bulk_create(
        BaseFigure(region=city, year=2000, name=f"基数{i}", value=i) for i in range(start, stop)
    )


@pytest.mark.parametrize("url", LIST_URLS[:-1])
def test_list_query_counts_do_not_grow_with_rows(staff_nanyang, url):
    """5 rows or 200 rows of each resource: the same number of queries."""
    city = Region.objects.get(name="南阳市")
    owner = factories.plan("bulk-api", region=city, start_year=2021, end_year=2025)
    add_rows(city, owner, 0, 5)
    small = count_list_queries(
        staff_nanyang,
        url + f"?page_size=500&plan={owner.pk}"
        if "targets" in url or "milestones" in url
        else url + "?page_size=500",
    )
    add_rows(city, owner, 5, 200)
    large = count_list_queries(
        staff_nanyang,
        url + f"?page_size=500&plan={owner.pk}"
        if "targets" in url or "milestones" in url
        else url + "?page_size=500",
    )
    assert small == large


def test_the_schema_and_docs_are_served_without_other_hosts(client):
    schema = client.get("/api/schema/")
    assert schema.status_code == 200
    docs = client.get("/api/docs/").content.decode()
    assert "http://" not in docs.replace("http://testserver", "") and "https://" not in docs


def test_report_dates_in_the_period_are_iso(liaison_nanzhao, draft):
    body = client_for(liaison_nanzhao).get(f"/api/v1/reports/{draft.pk}/").json()
    assert datetime.datetime.fromisoformat(body["created_at"])
    assert Decimal(str(body["value"])) == 1


# ------------------------------------------------------------------------------ big lists
# Queries of every list at two sizes, in page-number and in cursor mode. Every request first
# reads the user's scope: here the profile (a real request loads it with the user) and the
# region tree (2). Then the page: in page-number mode with its count (capped, never more
# than 10 001 rows) in the same query. Then each list's own prefetches; for targets the
# status engine's one query. tests/test_list_query_counts.py holds every list to ≤ 4 (the
# profile not counted); here the ?plan= filter adds the look-up of its plan.
# url: (page-number queries, cursor queries)
LIST_QUERIES = {
    # + the ?plan= filter's plan, milestones, the status query (roll-ups; plans come along)
    "/api/v1/targets/": (6, 6),
    "/api/v1/milestones/": (4, 4),  # + the ?plan= filter's plan
    "/api/v1/allocations/": (3, 3),
    "/api/v1/reports/": (4, 4),  # + evidence prefetch
    "/api/v1/fire-statistics/": (3, 3),
    "/api/v1/base-figures/": (3, 3),
    "/api/v1/plans/": (3, 3),
    "/api/v1/tasks/": (4, 4),  # + assignments with their units
    "/api/v1/sections/": (3, 3),
    "/api/v1/stations/": (3, 3),
    "/api/v1/regions/": (3, 3),
    "/api/v1/units/": (3, 3),
    "/api/v1/task-updates/": (4, 4),  # + evidence prefetch
    "/api/v1/notices/": (3, 3),  # no scope: the user's own notices
}


def list_queries(user, url: str, owner) -> tuple[int, int]:
    """Queries of a page in each mode, once the rows are read: the targets list judges on
    its first read after a change what the stored judgement lacks (bounded and constant,
    tests/test_list_query_counts.py); what is counted here is the read after that."""
    scoped = f"&plan={owner.pk}" if "targets" in url or "milestones" in url else ""
    count_list_queries(user, f"{url}?page_size=500{scoped}")
    return (
        count_list_queries(user, f"{url}?page_size=500{scoped}"),
        count_list_queries(user, f"{url}?pagination=cursor&page_size=500{scoped}"),
    )


def add_task_updates(owner, count: int) -> None:
    from planning.models import TaskUpdate

    task = factories.task(owner, f"bulk-task-{count}")
    TaskUpdate.objects.bulk_create(
        TaskUpdate(task=task, text="进展", percent=10) for _ in range(count)
    )


@pytest.mark.parametrize("url", list(LIST_QUERIES))
def test_every_list_takes_a_fixed_number_of_queries_at_two_sizes(staff_nanyang, url):
    city = Region.objects.get(name="南阳市")
    owner = factories.plan("bulk-api", region=city, start_year=2021, end_year=2025)
    add_rows(city, owner, 0, 5)
    add_task_updates(owner, 5)
    small = list_queries(staff_nanyang, url, owner)
    add_rows(city, owner, 5, 200)
    add_task_updates(owner, 195)
    assert small == list_queries(staff_nanyang, url, owner) == LIST_QUERIES[url]


def test_the_big_collections_list_in_four_queries_with_cursors():
    assert LIST_QUERIES["/api/v1/reports/"][1] <= 4
    assert LIST_QUERIES["/api/v1/task-updates/"][1] <= 4


def test_report_pages_cap_the_count_and_cursor_pages_walk_every_row(staff_nanyang, settings):
    from core.api import CappedCountPaginator

    city = Region.objects.get(name="南阳市")
    owner = factories.plan("bulk-api", region=city, start_year=2021, end_year=2025)
    add_rows(city, owner, 0, 30)
    client = client_for(staff_nanyang)
    exact = client.get("/api/v1/reports/?page_size=7").json()
    assert (exact["count"], exact["count_capped"]) == (30, False)

    limit, CappedCountPaginator.limit = CappedCountPaginator.limit, 20
    try:
        capped = client.get("/api/v1/reports/?page_size=7").json()
    finally:
        CappedCountPaginator.limit = limit
    assert (capped["count"], capped["count_capped"]) == (20, True)

    seen, url = [], "/api/v1/reports/?pagination=cursor&page_size=7"
    while url:
        page = client.get(url).json()
        assert "count" not in page
        seen += [row["id"] for row in page["results"]]
        url = page["next"]
    assert seen == sorted(seen) and len(seen) == len(set(seen)) == 30
