"""The region tree kept per process (core.regions) and the one-parameter id filter
(core.lookups): a warm read is one query of one row, never a tree another state of the
table had; scopes filter by thousands of regions with one parameter and the same rows."""

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from core.models import Region
from core.regions import RegionTree
from core.scope import scope_of
from planning.models import Plan

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("seeded", "on_postgres")]


def as_rows(tree: RegionTree) -> dict:
    return {"parent": tree.parent, "children": dict(tree.children), "names": tree.names}


def read_afresh() -> dict:
    tree = RegionTree.from_rows(Region.objects.values_list("pk", "parent_id", "name"))
    return as_rows(tree)


def test_a_warm_read_is_one_row_and_the_tree_of_now():
    first = RegionTree.load()
    with CaptureQueriesContext(connection) as queries:
        again = RegionTree.load()
    assert again is first
    assert len(queries) == 1
    assert as_rows(again) == read_afresh()  # children in the ORM's order too


@pytest.mark.parametrize(
    "change",
    [
        lambda nanyang: Region.objects.create(name="新区", level="district", parent=nanyang),
        lambda nanyang: Region.objects.filter(name="南召县").update(name="南召县（改名）"),
        lambda nanyang: Region.objects.filter(name="南召县").update(parent=nanyang.parent),
        lambda nanyang: Region.objects.create(name="新区", level="district").delete(),
    ],
    ids=["insert", "rename", "move", "delete"],
)
def test_every_change_is_in_the_next_read(change):
    nanyang = Region.objects.get(name="南阳市")
    before = RegionTree.load()
    change(nanyang)
    after = RegionTree.load()
    assert after is not before
    assert as_rows(after) == read_afresh()


def test_a_tree_read_in_a_rolled_back_transaction_is_never_served_again():
    committed = as_rows(RegionTree.load())
    try:
        with transaction.atomic():
            Region.objects.create(name="回滚区", level="district")
            assert "回滚区" in RegionTree.load().names.values()
            raise RuntimeError
    except RuntimeError:
        pass
    assert as_rows(RegionTree.load()) == committed
    # Another change in its own transaction takes a new number, not the rolled-back one.
    Region.objects.create(name="另一区", level="district")
    assert "回滚区" not in RegionTree.load().names.values()
    assert "另一区" in RegionTree.load().names.values()


def test_the_subtrees_are_walked_once_per_tree():
    tree = RegionTree.load()
    nanyang = Region.objects.get(name="南阳市").pk
    assert tree.subtree_ids(nanyang) is tree.subtree_ids(nanyang)
    assert tree.subtree(nanyang) == set(tree.subtree_ids(nanyang))
    assert "南召县" in {tree.names[pk] for pk in tree.subtree(nanyang)}


def test_a_read_after_writing_the_regions_in_the_same_transaction_is_never_kept():
    """The transaction's own ticks are in the version it sees: a rollback takes them back."""
    committed = RegionTree.load()
    with transaction.atomic():
        Region.objects.filter(name="南召县").update(name="南召县（未提交）")
        inside = RegionTree.load()
        assert "南召县（未提交）" in inside.names.values()
        assert RegionTree.load() is not inside  # read afresh each time, never kept
        transaction.set_rollback(True)
    again = RegionTree.load()
    assert "南召县（未提交）" not in again.names.values()
    assert as_rows(again) == as_rows(committed)


# ------------------------------------------------------------------ the one-parameter filter


def test_in_ids_finds_what_in_finds_with_one_parameter():
    ids = frozenset(Region.objects.filter(name__endswith="市").values_list("pk", flat=True))
    assert ids
    many = ids | frozenset(range(10**6, 10**6 + 3000))  # a national scope's size
    rows = Plan.objects.filter(region_id__in_ids=many)
    found = set(rows.values_list("pk", flat=True))
    assert found == set(Plan.objects.filter(region_id__in=ids).values_list("pk", flat=True))
    assert found
    assert len(rows.query.sql_with_params()[1]) == 1  # not one parameter per id
    # Across a relation, with None, and empty: as ``__in``.
    assert Plan.objects.filter(region__parent_id__in_ids={None}).count() == 0
    assert Plan.objects.filter(region_id__in_ids=frozenset()).count() == 0
    assert set(Region.objects.filter(pk__in_ids=ids).values_list("pk", flat=True)) == ids


def test_a_scope_of_thousands_of_regions_sends_one_parameter(staff_nanyang):
    nanyang = Region.objects.get(name="南阳市")
    Region.objects.bulk_create(
        Region(name=f"乡镇{n}", level="town", parent=nanyang) for n in range(1500)
    )
    user = type(staff_nanyang).objects.get(pk=staff_nanyang.pk)
    assert len(scope_of(user).region_ids) > 1500
    plans = Plan.objects.for_user(user)
    assert {p.code for p in plans} >= {"nanyang-2021-2025"}
    assert len(plans.query.sql_with_params()[1]) < 5
