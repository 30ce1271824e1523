"""Issue 19: the lean lists (core.api_rows, core.api_render) answer exactly what DRF's own
serialisation and renderer answered — every list endpoint of the API, page-number and cursor
pages, as staff, as a liaison and as a user whose region sees a sibling's targets, on the
seed plans plus rows of every resource (evidence, assignments, milestones, formula targets,
adjustments, notices).

``API_LEAN_LISTS=False`` gives the old path (``ListModelMixin`` + the serializers + DRF's
JSONRenderer); the parsed bodies must be equal, key order included.
"""

import datetime
import json
from decimal import Decimal

import pytest
from django.contrib.auth.models import User
from django.utils import timezone
from django.utils.translation import gettext_lazy
from rest_framework import serializers
from rest_framework.renderers import JSONRenderer as DRFJSONRenderer

from core.api_render import JSONRenderer
from core.api_rows import row_writer
from core.models import Region
from targets import upkeep
from targets.models import Target
from tests.api import client_for
from tests.conftest import make_user
from tests.openapi import add_activity
from tests.test_list_query_counts import add_rows, list_urls

pytestmark = pytest.mark.django_db

QUERIES = ["page_size=500", "pagination=cursor&page_size=3", "page_size=3&page=2"]
EXTRA = {"target-list": ["page_size=500&on=2021-03-31", "page_size=500&on=2027-01-10"]}


def bodies(settings, user, urls: dict[str, str], *, lean: bool) -> dict:
    settings.API_LEAN_LISTS = lean
    client = client_for(User.objects.select_related("profile").get(pk=user.pk))
    found = {}
    for name, url in urls.items():
        for query in QUERIES + EXTRA.get(name, []):
            response = client.get(f"{url}?{query}")
            # A second page of a short list is 404 (both ways); the first pages are not.
            assert response.status_code == 200 or "page=2" in query, (url, query)
            assert response["Content-Type"] == "application/json"
            # Parsed with the order of keys kept: a list of pairs, not a dict.
            body = json.loads(response.content, object_pairs_hook=list)
            found[(name, query)] = (response.status_code, body)
    return found


@pytest.fixture
def activity(seeded, staff_nanyang, liaison_nanzhao, open_2024):
    add_activity(staff_nanyang, liaison_nanzhao)
    city = Region.objects.get(name="连州市")
    add_rows(make_user("staff_lianzhou_lean", "staff", "连州市"), city, 3, "lean")
    target = Target.objects.get(plan__code="nanyang-2021-2025", code="tg-new-stations")
    upkeep.adjust_target(
        target,
        actor=staff_nanyang,
        version=target.version,
        new_value=Decimal("7.5"),
        doc_number="宛消〔2023〕1号",
        adopted_on=datetime.date(2023, 3, 1),
        reason="调整",
    )


USERS = [
    ("staff_nanyang", "staff", "南阳市"),
    ("liaison_nanzhao", "liaison", "南召县"),
    ("liaison_xixia", "liaison", "西峡县"),  # 南召县's targets: no progress (a sibling's)
    ("staff_lianzhou_lean", "staff", "连州市"),  # formula targets, assignments, towns
    ("supervisor_nanyang", "supervisor", "南阳市"),
]


def test_every_list_answers_the_same_json_lean_as_through_drf(settings, activity):
    urls = list_urls()
    for username, role, region in USERS:  # one test: the seed plans are loaded once
        user = User.objects.filter(username=username).first() or make_user(username, role, region)
        lean = bodies(settings, user, urls, lean=True)
        drf = bodies(settings, user, urls, lean=False)
        assert lean.keys() == drf.keys()
        differing = [key for key in lean if lean[key] != drf[key]]
        assert not differing, (username, differing)
        # Not vacuous: the lists have rows, and the ones that matter their nested parts.
        assert sum(bool(dict(body).get("results")) for _, body in lean.values()) > 20
        if username == "staff_nanyang":
            seen = json.dumps(list(lean.values()), ensure_ascii=False)
            assert "验收报告.pdf" in seen and "宛消〔2023〕1号" in seen and "completion" in seen


def test_the_orjson_renderer_writes_what_drf_writes():
    moment = datetime.datetime(2024, 5, 1, 8, 30, 15, 120000, tzinfo=datetime.UTC)
    data = {
        "decimal": Decimal("12.5000"),
        "tiny": Decimal("0.000001"),
        "utc": moment,
        "shanghai": timezone.localtime(moment),
        "day": datetime.date(2024, 5, 1),
        "lazy": gettext_lazy("对象不存在或不在您的范围内"),
        "text": '含\u2028分隔符与引号"',
        "nested": [{"n": None, "b": True, 1: "int key"}],
        "big": 2**53 + 1,
    }
    ours = json.loads(JSONRenderer().render(data))
    drf = json.loads(DRFJSONRenderer().render(data))
    assert ours == drf
    assert ours["utc"] == "2024-05-01T08:30:15.120000Z"
    assert JSONRenderer().render(None) == b""


def test_indented_json_is_still_served_when_asked_for():
    rendered = JSONRenderer().render({"a": [1]}, "application/json; indent=2", {"indent": 2})
    assert rendered.decode() == '{\n  "a": [\n    1\n  ]\n}'


class Part(serializers.Serializer):
    name = serializers.CharField()
    share = serializers.DecimalField(max_digits=10, decimal_places=3)


class Row(serializers.Serializer):
    """Cells of every kind the compiled writer handles itself, and some it leaves to DRF."""

    id = serializers.IntegerField()
    when = serializers.DateTimeField()
    day = serializers.DateField()
    value = serializers.DecimalField(max_digits=24, decimal_places=6, allow_null=True)
    ratio = serializers.FloatField()
    flag = serializers.BooleanField()
    kind = serializers.ChoiceField(choices=[("a", "甲"), (1, "乙")])
    parts = Part(many=True)
    first = Part(allow_null=True)
    tags = serializers.ListField(child=serializers.CharField())
    optional = serializers.CharField(required=False)  # absent → left out (SkipField)
    label = serializers.CharField(source="meta.label")


def test_a_compiled_row_is_what_the_serializer_writes():
    moment = datetime.datetime(2024, 5, 1, 23, 30, tzinfo=datetime.UTC)
    rows = [
        {
            "id": 1, "when": moment, "day": datetime.date(2024, 5, 2),
            "value": Decimal("1.23456789"), "ratio": 2, "flag": True, "kind": 1,
            "parts": [{"name": "县", "share": Decimal("0.5")}], "first": None,
            "tags": ["x", 3], "optional": "有", "meta": {"label": 7},
        },
        {
            "id": 2, "when": timezone.localtime(moment), "day": "2024-05-03",
            "value": None, "ratio": 0.1, "flag": False, "kind": "a", "parts": [],
            "first": {"name": "市", "share": 2}, "tags": [], "meta": {"label": "标签"},
        },
    ]  # fmt: skip
    write = row_writer(Row(), mapping=True)
    assert [write(row) for row in rows] == Row(rows, many=True).data
    assert write(rows[0])["when"] == "2024-05-02T07:30:00+08:00"  # Asia/Shanghai
    assert "optional" not in write(rows[1])
