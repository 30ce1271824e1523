"""The station register's counts (by status, by class) and its map: the stations with
coordinates, drawn by static/stations/station_map.js from the API with the page's filters, and the
same stations as a table. The seeds hold no coordinates; tests give a few stations some."""

import re

import pytest
from django.test import Client
from django.urls import reverse

from stations.models import Station
from tests.conftest import make_user
from tests.planning.editing import count_queries
from tests.test_project import run_manage


@pytest.fixture
def staff_haimen(seeded):
    return make_user("staff_haimen", "staff", "海门区")


def register(user, **query):
    client = Client()
    client.force_login(user)
    response = client.get(reverse("stations:station_list"), query)
    assert response.status_code == 200
    return response


def counts(response, attribute: str) -> dict[str, int]:
    return {row.label: row.count for row in getattr(response.context["summary"], attribute)}


def locate(*names: str) -> None:
    for n, name in enumerate(names):
        Station.objects.filter(name=name).update(lon=121.10 + n / 100, lat=31.85 + n / 100)


def test_the_register_counts_haimens_stations_by_status_and_class(staff_haimen):
    response = register(staff_haimen)
    assert counts(response, "by_status") == {"执勤中": 6, "已建成": 1, "规划": 4}
    assert counts(response, "by_class") == {
        "一级普通消防站": 3,
        "二级普通消防站": 4,
        "水上消防站": 1,
        "未填站级": 3,
    }
    html = response.content.decode()
    assert 'data-testid="counts-by-status"' in html and 'data-testid="counts-by-class"' in html
    assert '<td class="text-end" data-testid="total">11</td>' in html


def test_the_counts_follow_the_filters(staff_haimen):
    response = register(staff_haimen, status="planned")
    assert counts(response, "by_status") == {"规划": 4}
    assert counts(response, "by_class") == {"水上消防站": 1, "未填站级": 3}
    assert response.context["summary"].total == 4


def test_without_coordinates_the_register_says_how_to_add_them_and_draws_no_map(staff_haimen):
    html = register(staff_haimen).content.decode()
    assert "0 座消防站有坐标，11 座无坐标。" in html
    assert 'data-testid="map-empty"' in html and "经度" in html and "纬度" in html
    assert 'id="station-map"' not in html
    assert "station_map.js" not in html and "echarts" not in html


def test_stations_with_coordinates_are_mapped_from_the_api_and_listed_as_text(staff_haimen):
    locate("常乐站", "海永站", "北海路消防站")
    response = register(staff_haimen, region=Station.objects.get(name="常乐站").region.parent_id)
    html = response.content.decode()
    assert "3 座消防站有坐标，8 座无坐标。" in html
    mapped = response.context["summary"].mapped
    assert [(s.name, s.status_label, s.symbol_label) for s in mapped] == [
        ("北海路消防站", "规划", "菱形"),
        ("常乐站", "执勤中", "圆形"),
        ("海永站", "已建成", "方形"),
    ]
    assert html.count('data-testid="map-row"') == 3
    assert "121.100000" in html and "31.850000" in html
    url = re.search(r'id="station-map"[^>]* data-url="([^"]+)"', html).group(1)
    assert url.startswith("/api/v1/stations/?")
    assert "has_coordinates=true" in url and "page_size=500" in url and "region=" in url
    assert 'data-tile-url=""' in html  # no tile server by default
    assert '<script id="station-map-legend" type="application/json">' in html
    # No inline script: every script is a static file or JSON data (CSP script-src 'self').
    for tag in re.findall(r"<script[^>]*>", html):
        assert "src=" in tag or 'type="application/json"' in tag, tag
    assert "onclick" not in html

    client = Client()
    client.force_login(staff_haimen)
    api = client.get(url.replace("&amp;", "&")).json()
    assert sorted(s["name"] for s in api["results"]) == ["北海路消防站", "常乐站", "海永站"]
    assert {(s["lon"], s["lat"]) for s in api["results"]} >= {(121.1, 31.85)}


def test_the_map_api_filter_splits_located_and_unlocated_stations(staff_haimen):
    locate("常乐站")
    client = Client()
    client.force_login(staff_haimen)
    located = client.get("/api/v1/stations/", {"has_coordinates": "true"}).json()
    unlocated = client.get("/api/v1/stations/", {"has_coordinates": "false"}).json()
    assert [s["name"] for s in located["results"]] == ["常乐站"]
    assert located["count"] + unlocated["count"] == 11
    assert "常乐站" not in {s["name"] for s in unlocated["results"]}
    only = register(staff_haimen, has_coordinates="true")
    assert [s.name for s in only.context["page"].object_list] == ["常乐站"]


def test_a_configured_tile_server_is_passed_to_the_map(staff_haimen, settings):
    settings.STATION_MAP_TILE_URL = "/tiles/{z}/{x}/{y}.png"
    locate("常乐站")
    assert 'data-tile-url="/tiles/{z}/{x}/{y}.png"' in register(staff_haimen).content.decode()


@pytest.mark.parametrize("value", ["ftp://tiles/{z}/{x}/{y}.png", "/tiles/{z}/{x}.png"])
def test_a_bad_tile_url_stops_the_start(value):
    result = run_manage("check", env={"STATION_MAP_TILE_URL": value})
    assert result.returncode != 0
    assert "STATION_MAP_TILE_URL must be" in result.stderr


def test_an_outsider_neither_counts_nor_maps_haimens_stations(outsider):
    locate("常乐站")
    response = register(outsider)
    assert "常乐站" not in response.content.decode()
    assert all(s.name != "常乐站" for s in response.context["summary"].mapped)


def test_the_register_with_counts_and_map_costs_the_same_with_ten_times_the_stations(
    staff_haimen,
):
    client = Client()
    client.force_login(staff_haimen)
    url = reverse("stations:station_list")
    count_queries(client, url)
    locate("常乐站")
    seed = count_queries(client, url)
    haimen = Station.objects.get(name="常乐站").region
    Station.objects.bulk_create(
        Station(
            name=f"生成站{n}", region=haimen, status=status, station_class=station_class,
            lon=121.0 + n / 1000, lat=31.8 + n / 1000 if n % 3 else None,
        )
        for n in range(100)
        for status, station_class in [(("planned", "in_service")[n % 2], ("", "small")[n % 2])]
    )  # fmt: skip
    response = client.get(url)
    assert response.context["summary"].total == 111
    assert response.context["summary"].located == 1 + 66
    # Same queries as with the seeds (see test_views: scope, pager, page, three summary
    # queries, notices, filter choices): none per station, status or class.
    assert count_queries(client, url)[0] == seed[0]
