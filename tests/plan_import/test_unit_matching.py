"""The matcher of unit and region names (plan_import.unit_matching): exact, then normalised,
then similar; on plain objects, no database — names of any city, not the seeds' only."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from plan_import.unit_matching import (
    EXACT,
    NORMALISED,
    SIMILAR,
    region_key,
    region_matcher,
    unit_key,
    unit_matcher,
)


def named(*names):
    return [SimpleNamespace(name=name) for name in names]


UNITS = named(
    "市应急局",
    "市消防救援支队",
    "市规资局",
    "市卫健委",
    "市发改委",
    "市委编办",
    "市住建局",
    "市政府",
    "市公安局",
    "市市场监管局",
    "各区政府、管委会",
)
MATCHER = unit_matcher(UNITS, ["杭州市", "浙江省", "西湖区"])


def best(name):
    found = MATCHER.best(name)
    return (found.item.name, found.how) if found else None


@pytest.mark.parametrize(
    ("name", "unit"),
    [
        ("市应急管理局", "市应急局"),  # 全称 vs 简称
        ("应急管理局", "市应急局"),  # without the level word
        ("杭州市应急管理局", "市应急局"),  # the city's name in front
        ("杭州消防救援支队", "市消防救援支队"),  # its short name in front
        ("消防救援支队", "市消防救援支队"),
        ("市消防支队", "市消防救援支队"),
        ("市规划和自然资源局", "市规资局"),
        ("市自然资源和规划局", "市规资局"),
        ("市卫生健康委员会", "市卫健委"),
        ("杭州市发展和改革委员会", "市发改委"),
        ("市委机构编制委员会办公室", "市委编办"),
        ("市住房和城乡建设局", "市住建局"),
        ("杭州市人民政府", "市政府"),
        ("市场监督管理局", "市市场监管局"),  # 市场 is not the level word 市
        ("各区政府、管委会等", "各区政府、管委会"),  # 等 at the end
        ("“市公安局”", "市公安局"),  # quotes and full-width forms
    ],
)
def test_normalised_names_find_their_unit(name, unit):
    assert best(name) == (unit, NORMALISED)


def test_an_exact_name_is_certain():
    found = MATCHER.best("市公安局")
    assert (found.item.name, found.how, found.confidence, found.preselected) == (
        "市公安局",
        EXACT,
        1.0,
        True,
    )


def test_a_similar_name_is_proposed_but_not_preselected():
    found = MATCHER.match("市公安分局")
    assert [m.item.name for m in found][:1] == ["市公安局"]
    assert found[0].how == SIMILAR
    assert 0.6 < found[0].confidence < 0.9 and not found[0].preselected


def test_a_name_unlike_every_unit_finds_nothing():
    assert MATCHER.match("市水务局") == []
    assert MATCHER.match("") == []


def test_a_collective_is_not_taken_for_one_government():
    """各区政府 (every district's government) must not become 市政府 without a look."""
    found = MATCHER.best("各区政府")
    assert found is None or not found.preselected


def test_among_equal_matches_the_first_candidate_wins():
    """Candidates come nearest region first: the plan's city before the province."""
    city, province = SimpleNamespace(name="市应急局"), SimpleNamespace(name="省应急管理厅")
    twin = SimpleNamespace(name="应急局")
    matcher = unit_matcher([city, twin, province], ["某市"])
    assert matcher.best("应急管理局").item is city


def test_similar_matches_are_ranked_best_first_and_limited():
    matcher = unit_matcher(named("市教育局", "市教育体育局", "市体育局", "市财政局"), [])
    found = matcher.match("市教育和体育局", limit=2)
    assert len(found) == 2
    assert found[0].item.name == "市教育体育局"
    assert found[0].confidence >= found[1].confidence


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("南召县", "南召"),
        ("卧龙区", "卧龙"),
        ("沛县", "沛县"),
        ("邓州市", "邓州"),
        ("九陂镇", "九陂"),
    ],
)
def test_region_keys_drop_the_level_word(name, key):
    assert region_key(name) == key


def test_station_regions_match_the_region_tree():
    regions = named("南阳市", "卧龙区", "宛城区", "南召县", "邓州市", "沛县")
    matcher = region_matcher(regions)
    assert (matcher.best("南召").item.name, matcher.best("南召").how) == ("南召县", NORMALISED)
    assert matcher.best("卧龙区").how == EXACT
    assert matcher.best("邓州").item.name == "邓州市"
    assert matcher.best("城区") is None


def test_unit_key_is_stable_for_both_sides():
    """The same office written two ways gives one key, whichever side is the document's."""
    names = ["杭州市"]
    assert unit_key("杭州市城市管理局", names) == unit_key("市城管局", names) == "城管局"
