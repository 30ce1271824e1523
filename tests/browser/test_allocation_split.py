"""The 「分解」 page adds the parts up as they are typed (static/targets/allocation_split.js):
under the whole it says what is left, over it that it cannot be saved; the server refuses the
same sum again (targets.allocations.split_allocation). No inline script, no other host."""

from __future__ import annotations

import pytest
from django.urls import reverse

from core.models import Region
from targets.models import Allocation, Target
from tests.conftest import make_user

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_split_page_sums_as_you_type_and_the_server_checks_again(seeded, open_session):
    target = Target.objects.get(plan__code="nanyang-2021-2025", code="tg-new-stations")
    Allocation.objects.filter(target=target).delete()
    make_user("staff_nanyang_split", "staff", "南阳市")
    session = open_session("staff_nanyang_split")
    page = session.page
    page.goto(reverse("targets:allocation_split", args=[target.pk]))
    total, state = page.get_by_test_id("split-total"), page.get_by_test_id("split-state")
    assert total.inner_text() == "0"

    page.get_by_label("内乡县", exact=True).fill("１０")  # full-width digits, as typed
    page.get_by_label("南召县", exact=True).fill("4")
    assert total.inner_text() == "14"
    assert "尚余 10" in state.inner_text()
    page.get_by_label("卧龙区", exact=True).fill("11")
    assert total.inner_text() == "25"
    assert "超过上级 1" in state.inner_text()

    page.fill("#id_reason", "按附件分解")
    page.get_by_role("button", name="保存分解").click()
    page.wait_for_load_state()
    assert "超过" in page.get_by_test_id("form-error-hint").inner_text() or "超过" in (
        page.content()
    )
    assert not Allocation.objects.filter(target=target).exists()

    page.get_by_label("卧龙区", exact=True).fill("10")
    assert "与上级相符" in state.inner_text()
    page.get_by_role("button", name="保存分解").click()
    page.wait_for_load_state()
    assert page.url.endswith(f"/targets/{target.pk}/#cascade")
    saved = dict(Allocation.objects.filter(target=target).values_list("region__name", "value"))
    assert saved == {"内乡县": 10, "南召县": 4, "卧龙区": 10}
    assert Region.objects.get(name="内乡县").pk in set(
        Allocation.objects.filter(target=target).values_list("region_id", flat=True)
    )
    session.shot("allocation-split")
    assert session.axe_violations() == []
