"""Old page addresses keep working (fireplan/moved_urls.py, README 页面地址 URLs): every old
pattern answers 301 to the page's new address, with the same path parameters and query
string, for anyone (the new page asks for the login); other methods get 308, so a form sent
from a page opened before the move still arrives."""

import pytest
from django.urls import resolve

from targets.choices import ReportStatus
from tests import url_map
from tests.test_url_walk import lianzhou  # noqa: F401 (fixture)

QUERY = "plan=3&period=2024&page=2"


def expected(objects) -> dict[str, str]:
    """Old address → new address, written out (the scheme of the README's table)."""
    target, region, report = objects.target.pk, objects.region.pk, objects.report.pk
    period, unit = objects.period.pk, objects.unit.pk
    return {
        "/reports/my/": "/reporting/my/",
        "/reports/review/": "/reporting/review/",
        "/reports/review/approve/": "/reporting/review/approve/",
        f"/reports/{target}/{region}/2024/": f"/reporting/{target}/{region}/2024/",
        f"/reports/{report}/submit/": f"/reporting/{report}/submit/",
        f"/reports/{report}/approve/": f"/reporting/{report}/approve/",
        f"/reports/{report}/return/": f"/reporting/{report}/return/",
        f"/reports/{report}/reopen/": f"/reporting/{report}/reopen/",
        "/planning-office/completeness/": "/reporting/completeness/",
        "/planning-office/periods/": "/reporting/periods/",
        "/planning-office/periods/open/": "/reporting/periods/open/",
        f"/planning-office/periods/{period}/exception/": f"/reporting/periods/{period}/exception/",
        f"/plans/regions/{region}/": f"/regions/{region}/",
        f"/plans/units/{unit}/": f"/units/{unit}/",
    }


def moved(objects) -> list[tuple[url_map.Pattern, str]]:
    return [
        (pattern, url_map.url_of(pattern, objects))
        for pattern in url_map.patterns()
        if pattern.kind == "moved"
    ]


def test_every_old_pattern_is_in_the_table(lianzhou):  # noqa: F811
    assert sorted(url for _, url in moved(lianzhou)) == sorted(expected(lianzhou))


@pytest.mark.parametrize("who", ["anonymous", "staff_lianzhou"])
def test_every_old_address_answers_301_to_the_new_one(request, client, lianzhou, who):  # noqa: F811
    if who != "anonymous":
        client.force_login(request.getfixturevalue(who))
    table = expected(lianzhou)
    wrong = []
    for pattern, old in moved(lianzhou):
        new = table[old]
        # The new address is the page the old pattern names, with the same parameters.
        match = resolve(new)
        assert match.view_name == pattern.moved_to, (old, new)
        assert match.kwargs == resolve(old).kwargs, (old, new)
        for method, query, status, location in [
            ("get", "", 301, new),
            ("get", QUERY, 301, f"{new}?{QUERY}"),
            ("head", QUERY, 301, f"{new}?{QUERY}"),
            ("post", "", 308, new),
        ]:
            url = f"{old}?{query}" if query else old
            response = getattr(client, method)(url)
            if (response.status_code, response.get("Location")) != (status, location):
                got = (response.status_code, response.get("Location"))
                wrong.append(f"{method.upper()} {url} → {got}, not {(status, location)}")
    assert not wrong, "\n".join(wrong)


def test_new_addresses_answer_where_the_old_ones_did(client, lianzhou, staff_lianzhou):  # noqa: F811
    """Following the redirect lands on the page itself (GET pages answer 200)."""
    client.force_login(staff_lianzhou)
    for old in ["/reports/my/", "/reports/review/", "/planning-office/completeness/"]:
        response = client.get(old, follow=True)
        assert response.status_code == 200, old
        assert response.redirect_chain == [(expected(lianzhou)[old], 301)]


def test_a_form_sent_to_an_old_address_still_acts(client, lianzhou, staff_lianzhou):  # noqa: F811
    report = lianzhou.report
    assert report.status == ReportStatus.SUBMITTED
    client.force_login(staff_lianzhou)
    response = client.post(
        f"/reports/{report.pk}/approve/", {"version": report.version}, follow=True
    )
    assert response.status_code == 200
    assert response.redirect_chain[0] == (f"/reporting/{report.pk}/approve/", 308)
    report.refresh_from_db()
    assert report.status == ReportStatus.APPROVED
