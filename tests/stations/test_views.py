"""The station register in the browser: list with filters, detail, edit, create.

Cast: staff_nanyang keeps 南阳's stations (in its counties); outsider (阜新 staff) must not
learn they exist; liaison_nanzhao, supervisor_nanyang and viewer_nanyang may read only.
"""

import pytest
from django.test import Client
from django.urls import reverse

from core.models import Region
from core.scope import forget_scope
from core.services import InvalidInput, NotAllowed, StaleEdit
from stations import services
from stations.models import Station
from tests import factories
from tests.conftest import make_user
from tests.planning.editing import count_queries, form_data


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def station(seeded) -> Station:
    """南阳市南召县育才路消防站 (in service, 南召县)."""
    return Station.objects.get(name="南阳市南召县育才路消防站")


def test_the_register_lists_only_stations_in_scope(staff_nanyang, station):
    page = client_for(staff_nanyang).get(reverse("stations:station_list"))
    body = page.content.decode()
    assert page.status_code == 200
    assert station.name in body and "南阳市西峡县创业路消防站" in body
    assert "常乐站" not in body  # 海门
    assert (
        len(page.context["page"].object_list)
        == Station.objects.filter(region__parent__name="南阳市").count()
    )


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"search": "育才路"}, {"南阳市南召县育才路消防站"}),
        (
            {"status": "planned", "station_class": "training"},
            {
                "南阳市内乡县产业聚集区消防站",
                "南阳市西峡县创业路消防站",
                "南阳市邓州市南一环路消防站",
            },
        ),
        ({"region": "西峡县"}, {"南阳市西峡县世纪大道消防站", "南阳市西峡县创业路消防站"}),
        ({"status": "in_service", "region": "南召县"}, {"南阳市南召县育才路消防站"}),
    ],
)
def test_the_register_filters_by_search_class_status_and_region(staff_nanyang, query, expected):
    if "region" in query:
        query = query | {"region": Region.objects.get(name=query["region"]).pk}
    page = client_for(staff_nanyang).get(reverse("stations:station_list"), query)
    assert {s.name for s in page.context["page"].object_list} == expected


def test_a_region_outside_scope_is_not_a_filter_choice(staff_nanyang, seeded):
    haimen = Region.objects.get(name="海门区")
    page = client_for(staff_nanyang).get(reverse("stations:station_list"), {"region": haimen.pk})
    assert page.status_code == 200
    assert page.context["filterset"].errors  # not a valid choice: nothing revealed
    assert "常乐站" not in page.content.decode()


def test_staff_edit_a_station_and_the_history_names_them(staff_nanyang, station):
    client = client_for(staff_nanyang)
    url = reverse("stations:station_edit", args=[station.pk])

    response = client.post(
        url, form_data(client.get(url), floor_area_m2="2650.5", station_class="class1")
    )

    assert response.status_code == 302
    station.refresh_from_db()
    assert (str(station.floor_area_m2), station.station_class, station.version) == (
        "2650.5000",
        "class1",
        2,
    )
    assert station.history.first().history_user == staff_nanyang
    detail = client.get(reverse("stations:station_detail", args=[station.pk])).content.decode()
    assert "站级：— → 一级普通消防站" in detail
    assert "staff_nanyang" in detail


def test_a_negative_area_changes_nothing_and_says_what_is_expected(staff_nanyang, station):
    client = client_for(staff_nanyang)
    url = reverse("stations:station_edit", args=[station.pk])

    response = client.post(url, form_data(client.get(url), floor_area_m2="-30", name="改名"))

    assert response.status_code == 400
    assert "确保该值大于或等于0" in response.content.decode()
    station.refresh_from_db()
    assert (station.floor_area_m2, station.name, station.version) == (
        None,
        "南阳市南召县育才路消防站",
        1,
    )


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"lat": "95"}, "确保该值小于或等于90"),
        ({"floor_area_m2": "很大"}, "“很大”不是数字"),
        ({"floor_area_m2": "1,5"}, "是否为 1.5？"),
        ({"completed_year": "2023", "in_service_on": "2021-05-01"}, "投入执勤日期不能早于建成年度"),
        ({"status": ""}, "必填项"),
    ],
)
def test_bad_station_input_is_a_400_that_changes_nothing(staff_nanyang, station, changes, message):
    client = client_for(staff_nanyang)
    url = reverse("stations:station_edit", args=[station.pk])
    response = client.post(url, form_data(client.get(url), **changes))
    assert response.status_code == 400
    assert message in response.content.decode()
    station.refresh_from_db()
    assert station.version == 1


def test_staff_create_a_station_in_their_region(staff_nanyang, seeded):
    client = client_for(staff_nanyang)
    tanghe = Region.objects.get(name="唐河县")
    page = client.get(reverse("stations:station_create"))

    response = client.post(
        reverse("stations:station_create"),
        form_data(
            page,
            name="唐河县新城消防站",
            region=str(tanghe.pk),
            status="planned",
            station_class="class2",
            planned_year="2024",
        ),
    )

    assert response.status_code == 302
    created = Station.objects.get(name="唐河县新城消防站")
    assert (created.region, created.version) == (tanghe, 1)
    record = created.history.get()
    assert (record.history_type, record.history_user) == ("+", staff_nanyang)


def test_a_station_cannot_be_created_or_moved_outside_the_scope(staff_nanyang, station):
    haimen = Region.objects.get(name="海门区")
    with pytest.raises(NotAllowed):
        services.create_station(
            actor=staff_nanyang, values={"name": "越界站", "region": haimen, "status": "planned"}
        )
    with pytest.raises(NotAllowed):
        services.update_station(station, actor=staff_nanyang, version=1, changes={"region": haimen})
    station.refresh_from_db()
    assert station.region.name == "南召县" and station.version == 1
    assert not Station.objects.filter(name="越界站").exists()
    client = client_for(staff_nanyang)
    response = client.post(
        reverse("stations:station_create"),
        {"name": "越界站", "region": haimen.pk, "status": "planned"},
    )
    assert response.status_code == 400  # not among the region choices
    assert not Station.objects.filter(name="越界站").exists()


def test_a_station_code_is_unique_within_its_plan(staff_nanyang, station):
    other = Station.objects.get(name="南阳市西峡县世纪大道消防站")
    services.update_station(station, actor=staff_nanyang, version=1, changes={"code": "NY-01"})
    with pytest.raises(InvalidInput) as refused:
        services.update_station(other, actor=staff_nanyang, version=1, changes={"code": "NY-01"})
    assert refused.value.field == "code"
    assert "已有编码为“NY-01”的消防站" in refused.value.message


def test_outsider_gets_404_for_station_pages(outsider, station):
    client = client_for(outsider)
    for url in [
        reverse("stations:station_detail", args=[station.pk]),
        reverse("stations:station_edit", args=[station.pk]),
    ]:
        assert client.get(url).status_code == 404, url
    response = client.post(reverse("stations:station_edit", args=[station.pk]), {"name": "x"})
    assert response.status_code == 404
    station.refresh_from_db()
    assert station.name != "x"


@pytest.mark.parametrize("who", ["liaison_nanzhao", "supervisor_nanyang", "viewer_nanyang"])
def test_read_only_roles_see_stations_but_get_403_on_edit_and_create(who, request, station):
    client = client_for(request.getfixturevalue(who))
    assert client.get(reverse("stations:station_list")).status_code == 200
    detail = client.get(reverse("stations:station_detail", args=[station.pk]))
    assert detail.status_code == 200
    assert reverse("stations:station_edit", args=[station.pk]) not in detail.content.decode()
    for url in [
        reverse("stations:station_edit", args=[station.pk]),
        reverse("stations:station_create"),
    ]:
        assert client.get(url).status_code == 403, url
        assert client.post(url, {"name": "x", "version": "1"}).status_code == 403, url
    station.refresh_from_db()
    assert station.version == 1


def test_the_second_of_two_concurrent_station_edits_is_refused(staff_nanyang, station):
    colleague = make_user("staff_nanyang_li", "staff", "南阳市", first_name="李四")
    first, second = client_for(colleague), client_for(staff_nanyang)
    url = reverse("stations:station_edit", args=[station.pk])
    first_page, second_page = first.get(url), second.get(url)

    assert first.post(url, form_data(first_page, address="育才路1号")).status_code == 302
    response = second.post(url, form_data(second_page, address="育才路99号"))

    assert response.status_code == 409
    assert "该记录已被他人修改，请刷新后重试（李四 于 " in response.content.decode()
    station.refresh_from_db()
    assert (station.address, station.version) == ("育才路1号", 2)
    with pytest.raises(StaleEdit):
        services.update_station(station, actor=staff_nanyang, version=1, changes={"address": ""})


def test_the_register_costs_the_same_queries_for_1_and_for_30_stations(db):
    region = factories.region("测试市")
    staff = make_user("staff_register", "staff", "测试市")
    forget_scope(staff)
    plan = factories.plan("register", region=region)
    client = client_for(staff)

    def add(n: int) -> None:
        for i in range(n):
            Station.objects.create(
                name=f"测试站{Station.objects.count()}-{i}",
                region=region,
                plan=plan,
                status="planned",
            )

    add(1)
    one = count_queries(client, reverse("stations:station_list"))
    add(29)
    Station.objects.filter(name__endswith="-3").update(lon=121.17, lat=31.87)
    thirty = count_queries(client, reverse("stations:station_list"))
    # 11 queries: session, user with profile, region tree (the scope); count for the pager; the
    # page of stations with region and plan; counts by status (with those located), counts
    # by class, the stations with coordinates (map table); header notices; the region and
    # the plan choices of the filter bar.
    assert one[0] == thirty[0] == 11, (one[1], thirty[1])
    assert len(client.get(reverse("stations:station_list")).context["page"].object_list) == 30


def test_the_register_sorts_by_a_column_and_reverses_on_a_second_click(staff_nanyang, seeded):
    client = client_for(staff_nanyang)
    ascending = client.get(reverse("stations:station_list"), {"sort": "name"})
    names = [s.name for s in ascending.context["page"].object_list]
    assert names == sorted(names) and len(names) >= 5
    header = next(c for c in ascending.context["columns"] if c["key"] == "name")
    assert header["aria_sort"] == "ascending" and "sort=-name" in header["url"]
    assert 'aria-sort="ascending"' in ascending.content.decode()

    descending = client.get(reverse("stations:station_list"), {"sort": "-name"})
    assert [s.name for s in descending.context["page"].object_list] == sorted(names, reverse=True)

    xixia = Region.objects.get(name="西峡县")
    by_name = client.get(reverse("stations:station_list"), {"sort": "name", "region": xixia.pk})
    names = [s.name for s in by_name.context["page"].object_list]
    assert names == sorted(names) and len(names) == 2  # sorting keeps the filters


def test_an_unknown_sort_column_is_refused_not_a_500(staff_nanyang, seeded):
    page = client_for(staff_nanyang).get(reverse("stations:station_list"), {"sort": "password"})
    assert page.status_code == 200
    assert page.context["filterset"].errors  # shown as a form error; default order kept
