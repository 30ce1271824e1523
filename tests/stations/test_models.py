"""The station register refuses negative areas, money and impossible coordinates."""

import pytest

from stations.models import Station
from tests import factories
from tests.planning.test_models import refused

pytestmark = pytest.mark.django_db


def station(**fields):
    if "region" not in fields:
        fields["region"] = factories.region()
    fields = {"name": "测试站", "status": "in_service"} | fields
    return Station.objects.create(**fields)


@pytest.mark.parametrize("field", ["floor_area_m2", "land_area_m2", "investment_10k_yuan"])
def test_areas_and_investment_cannot_be_negative(field):
    refused(lambda: station(**{field: -1}))


@pytest.mark.parametrize(("lat", "lon"), [(91, 120), (-91, 120), (32, 181), (32, -181)])
def test_coordinates_must_be_on_earth(lat, lon):
    refused(lambda: station(lat=lat, lon=lon))


def test_station_code_is_unique_within_a_plan_when_given():
    owner = factories.plan()
    station(plan=owner, code="st-1", region=owner.region)
    refused(lambda: station(plan=owner, code="st-1", region=owner.region))
    station(plan=owner, code="", region=owner.region, name="无编码一")
    station(plan=owner, code="", region=owner.region, name="无编码二")
