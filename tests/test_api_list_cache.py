"""Issue 19: API list responses from the shared cache (core.api_cache), never stale.

Transactional tests: the cache is bypassed inside a transaction (pytest-django's ``db`` tests
run every request inside one), and it is what happens across commits that matters here.
Every list endpoint of the router: the second read is a hit with the first read's body; a
write statement on any table the list read (even one that changes no row) makes the next
read a miss that answers what the list answers with the cache off; real changes through the
services show at once; scopes never share an entry; a reader racing a writer never gets a
body older than the last commit it could see.
"""

from __future__ import annotations

import datetime
import threading
from unittest import mock

import pytest
from django.contrib.auth.models import User
from django.core.management.sql import emit_post_migrate_signal
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from accounts.models import Profile
from core import api_cache, table_clock
from core.models import Evidence, Region
from targets import services, upkeep
from targets.models import Target
from tests.api import client_for
from tests.conftest import make_user
from tests.test_list_query_counts import add_rows, list_urls

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("on_postgres")]

QUERY = "page_size=500"
NOT_CACHED = {"job-list"}  # not a lean list: a job's ``downloadable`` reads the time


class Spy:
    """Counts hits and keeps the entries stored, by key."""

    def __init__(self):
        self.hits = 0
        self.entries: dict[str, dict] = {}

    def __enter__(self):
        replay, keep = api_cache._replay, api_cache.keep

        def counted(entry):
            self.hits += 1
            return replay(entry)

        def kept(key, entry):
            self.entries[key] = entry
            return keep(key, entry)

        self._patches = [
            mock.patch.object(api_cache, "_replay", counted),
            mock.patch.object(api_cache, "keep", kept),
        ]
        for patch in self._patches:
            patch.start()
        return self

    def __exit__(self, *exc):
        for patch in self._patches:
            patch.stop()


def get(user, url: str):
    client = client_for(User.objects.select_related("profile").get(pk=user.pk))
    response = client.get(url)
    assert response.status_code == 200, (url, response.content[:300])
    return response


def uncached(settings, user, url: str) -> bytes:
    settings.API_LIST_CACHE = False
    try:
        return get(user, url).content
    finally:
        settings.API_LIST_CACHE = True


def touch_one_row(table: str) -> None:
    """An UPDATE of one row that changes no column (the trigger ticks all the same)."""
    with connection.cursor() as cursor:
        pk = next(
            c.name
            for c in connection.introspection.get_table_description(cursor, table)
            if c.name in ("id", "history_id")
        )
        cursor.execute(
            f'UPDATE "{table}" SET {pk} = {pk} WHERE {pk} = (SELECT min({pk}) FROM "{table}")'
        )


@pytest.fixture
def lists_world(seeded):
    city = Region.objects.get(name="连州市")
    user = make_user("staff_lianzhou_cache", "staff", "连州市")
    add_rows(user, city, 2, "cache")
    return user


def test_every_list_is_a_hit_until_a_table_it_read_is_written(settings, lists_world):
    user = lists_world
    urls = {name: f"{url}?{QUERY}" for name, url in list_urls().items()}
    assert len(urls) >= 12
    checked_tables = 0
    for name, url in urls.items():
        with Spy() as spy:
            first = get(user, url)
            second = get(user, url)
            if name == "target-list" and not spy.hits:
                # The first read stored the day's judgements (a write to a table it read):
                # the second rendered again, the third is the hit.
                first, second = second, get(user, url)
        if name in NOT_CACHED:
            assert not spy.entries and spy.hits == 0, name
            continue
        assert spy.hits == 1 and len(spy.entries) == 1, name
        assert second.content == first.content == uncached(settings, user, url), name
        assert second["Content-Type"] == first["Content-Type"] == "application/json"
        entry = list(spy.entries.values())[-1]
        tables = sorted(entry["tables"])
        assert tables, name
        for table in tables:
            touch_one_row(table)
            with Spy() as spy:
                again = get(user, url)
                hit = get(user, url)
            assert spy.hits == 1, (name, table, "a write to a table read must be a miss")
            assert again.content == hit.content == uncached(settings, user, url), (name, table)
            checked_tables += 1
    assert checked_tables > 25  # not vacuous: every list read several tables


def test_real_changes_through_the_services_show_at_once(
    settings, seeded, staff_nanyang, liaison_nanzhao, open_2024
):
    nanzhao = Region.objects.get(name="南召县")
    target = Target.objects.get(plan__code="nanyang-2021-2025", code="tg-new-stations")
    report = services.save_report(
        actor=liaison_nanzhao, target=target, region=nanzhao, period="2024", value=2, submit=True
    )
    urls = {
        "reports": "/api/v1/reports/?page_size=500",
        "targets": "/api/v1/targets/?page_size=500",
        "regions": "/api/v1/regions/?page_size=500",
        "units": "/api/v1/units/?page_size=500",
    }

    def read_all() -> dict[str, bytes]:
        for url in urls.values():
            # warm: the targets list's first read after a change stores the judgements
            get(staff_nanyang, url)
            get(staff_nanyang, url)
        with Spy() as spy:
            bodies = {name: get(staff_nanyang, url).content for name, url in urls.items()}
        fresh = {name: uncached(settings, staff_nanyang, url) for name, url in urls.items()}
        assert bodies == fresh
        return bodies, spy.hits

    bodies, hits = read_all()
    assert hits == len(urls)

    services.approve_report(report, actor=staff_nanyang, version=report.version)
    after, _ = read_all()
    assert after["reports"] != bodies["reports"] and b'"approved"' in after["reports"]
    assert after["targets"] != bodies["targets"]  # the figure moves the target's status

    target.refresh_from_db()
    upkeep.update_target(
        target, actor=staff_nanyang, version=target.version, changes={"name": "新建消防站（改）"}
    )
    edited, _ = read_all()
    assert "新建消防站（改）".encode() in edited["targets"]

    Region.objects.filter(pk=nanzhao.pk).update(name="南召县（改）")
    renamed, _ = read_all()
    assert "南召县（改）".encode() in renamed["regions"]

    evidence = Evidence.objects.create(
        file="evidence/2024/01/cache.pdf", original_name="缓存佐证.pdf", sha256="1" * 64
    )
    report.refresh_from_db()
    report.evidence.add(evidence)
    attached, _ = read_all()
    assert "缓存佐证.pdf".encode() in attached["reports"]


def test_a_hit_runs_a_constant_small_number_of_queries(lists_world):
    user = lists_world
    counts = {}
    for name, url in list_urls().items():
        if name in NOT_CACHED:
            continue
        get(user, f"{url}?{QUERY}")
        get(user, f"{url}?{QUERY}")  # the targets list stored its judgements on the first
        client = client_for(User.objects.select_related("profile").get(pk=user.pk))
        with CaptureQueriesContext(connection) as queries:
            response = client.get(f"{url}?{QUERY}")
        assert response.status_code == 200
        counts[name] = len(queries)
    # the scope's region tree and the versions of the entry's tables (the entry is this
    # process's copy: no read of the shared cache)
    assert set(counts.values()) == {2}, counts


def test_a_process_copy_is_checked_like_the_shared_entry(settings, seeded, staff_nanyang):
    """The copy kept in the process is served only while its tables are unchanged; after a
    write another process rendered (the shared entry is newer), that entry is served, not
    the copy; with neither current, the list renders."""
    url = "/api/v1/regions/?page_size=500"
    copies = api_cache.caches[api_cache.LOCAL]
    with Spy() as spy:
        get(staff_nanyang, url)
    [key] = spy.entries
    client = client_for(User.objects.select_related("profile").get(pk=staff_nanyang.pk))
    with Spy() as spy, CaptureQueriesContext(connection) as queries:
        copy = client.get(url)
    assert spy.hits == 1 and len(queries) == 2
    kept = copies.get(key)
    assert kept["body"] == copy.content

    # Another process renders after a rename: its entry goes to the shared cache only.
    Region.objects.filter(name="南召县").update(name="南召县（改）")
    copies.clear()
    renamed = get(staff_nanyang, url).content
    copies.set(key, kept)  # this process: the old copy
    with Spy() as spy:
        served = client.get(url).content
    assert spy.hits == 1 and served == renamed != copy.content
    assert "南召县（改）".encode() in served

    # Neither current: rendered, never the old copy.
    Region.objects.filter(name="南召县（改）").update(name="南召县")
    with Spy() as spy:
        again = client.get(url).content
    assert spy.hits == 0 and again == uncached(settings, staff_nanyang, url)


def test_a_flush_drops_the_process_copies(seeded, staff_nanyang):
    """A flush empties the clocks (their sums start again): the copies go with it."""
    url = "/api/v1/regions/?page_size=500"
    with Spy() as spy:
        get(staff_nanyang, url)
    [key] = spy.entries
    assert api_cache.caches[api_cache.LOCAL].get(key) is not None
    emit_post_migrate_signal(verbosity=0, interactive=False, db="default")  # as flush does
    assert api_cache.caches[api_cache.LOCAL].get(key) is None


def test_users_with_different_scopes_never_share_an_entry(
    settings, seeded, liaison_nanzhao, liaison_lianzhou
):
    url = "/api/v1/targets/?page_size=500"
    get(liaison_nanzhao, url)  # the first reads store the day's judgements
    get(liaison_lianzhou, url)
    with Spy() as spy:
        nanzhao = get(liaison_nanzhao, url).content
        lianzhou = get(liaison_lianzhou, url).content
        assert get(liaison_nanzhao, url).content == nanzhao
        assert get(liaison_lianzhou, url).content == lianzhou
    assert nanzhao != lianzhou and len(spy.entries) == 2 and spy.hits == 2

    # The same user moved to another region: a new scope, a new entry.
    Profile.objects.filter(user=liaison_nanzhao).update(region=liaison_lianzhou.profile.region)
    with Spy() as spy:
        moved = get(liaison_nanzhao, url).content
    assert spy.hits == 0
    assert moved == uncached(settings, liaison_nanzhao, url) == lianzhou != nanzhao


def test_a_request_inside_a_transaction_is_not_cached(seeded, staff_nanyang):
    """Inside a transaction that has written, nothing is stored nor served (its uncommitted
    rows and ticks would be; a rollback takes them back). One that has not written reads
    what autocommit reads."""
    url = "/api/v1/regions/"
    with Spy() as spy, transaction.atomic():
        Region.objects.filter(name="南召县").update(name="南召县（未提交）")
        first = get(staff_nanyang, url)
        assert "南召县（未提交）".encode() in first.content
        get(staff_nanyang, url)
        transaction.set_rollback(True)
    assert spy.hits == 0 and not spy.entries
    get(staff_nanyang, url)  # stored outside any transaction
    with Spy() as spy, transaction.atomic():
        served = get(staff_nanyang, url)
    assert spy.hits == 1 and "南召县（未提交）".encode() not in served.content


def test_a_reader_racing_a_writer_never_gets_an_older_body(seeded, staff_nanyang):
    """A writer renames a region again and again; a reader reads the regions list in a loop.
    Each read started after the k-th commit shows the k-th name or a later one."""
    region = Region.objects.get(name="南召县")
    rounds = 25
    committed = {"k": -1}
    failures: list = []
    stop = threading.Event()

    def write():
        try:
            for k in range(rounds):
                Region.objects.filter(pk=region.pk).update(name=f"南召县{k:02d}")
                committed["k"] = k
        finally:
            connection.close()
            stop.set()

    def read():
        try:
            client = client_for(User.objects.select_related("profile").get(pk=staff_nanyang.pk))
            while not stop.is_set():
                seen_before = committed["k"]
                body = client.get("/api/v1/regions/?page_size=500").json()
                names = [r["name"] for r in body["results"] if r["id"] == region.pk]
                shown = int(names[0].removeprefix("南召县") or -1) if names[0] != "南召县" else -1
                if shown < seen_before:
                    failures.append((seen_before, names[0]))
        finally:
            connection.close()

    readers = [threading.Thread(target=read) for _ in range(2)]
    for thread in readers:
        thread.start()
    writer = threading.Thread(target=write)
    writer.start()
    writer.join(60)
    for thread in readers:
        thread.join(60)
    assert not failures, failures[:5]
    final = get(staff_nanyang, "/api/v1/regions/?page_size=500").json()
    assert any(r["name"] == f"南召县{rounds - 1:02d}" for r in final["results"])


def test_the_clock_of_a_table_nobody_lists_does_not_evict(seeded, staff_nanyang):
    url = "/api/v1/regions/?page_size=500"
    get(staff_nanyang, url)
    table_clock.versions(["planning_region"])  # read only
    touch_one_row("stations_station")
    with Spy() as spy:
        get(staff_nanyang, url)
    assert spy.hits == 1


def test_a_miss_stores_the_versions_read_before_the_render(seeded, staff_nanyang):
    """A commit landing while the list renders leaves the entry under the older versions:
    the next reader, who sees that commit, misses instead of getting the older body."""
    url = "/api/v1/units/?page_size=500"
    real_render = api_cache.table_clock.recording

    def commit_meanwhile():
        def run():
            touch_one_row("planning_unit")
            connection.close()

        thread = threading.Thread(target=run)
        thread.start()
        thread.join(10)
        return real_render()

    with mock.patch.object(api_cache.table_clock, "recording", commit_meanwhile), Spy() as spy:
        get(staff_nanyang, url)
    (entry,) = spy.entries.values()
    assert (
        entry["tables"]["planning_unit"] < table_clock.versions(["planning_unit"])["planning_unit"]
    )
    with Spy() as spy:
        get(staff_nanyang, url)
    assert spy.hits == 0


@pytest.fixture
def on_day(monkeypatch):
    def set_day(day: datetime.date):
        monkeypatch.setattr(api_cache.timezone, "localdate", lambda: day)

    return set_day


def test_the_next_day_is_a_new_entry(seeded, staff_nanyang, on_day):
    url = "/api/v1/targets/?page_size=500"
    on_day(datetime.date(2026, 12, 6))
    get(staff_nanyang, url)
    on_day(datetime.date(2026, 12, 7))
    with Spy() as spy:
        get(staff_nanyang, url)
    assert spy.hits == 0 and len(spy.entries) == 1


def test_the_browsable_api_and_another_scheme_get_their_own_answers(seeded, staff_nanyang):
    url = "/api/v1/regions/?page_size=2"
    plain = get(staff_nanyang, url)
    assert plain.json()["next"].startswith("http://")
    client = client_for(User.objects.select_related("profile").get(pk=staff_nanyang.pk))
    with Spy() as spy:
        page = client.get(url, HTTP_ACCEPT="text/html")
        secure = client.get(url, secure=True)
        again = client.get(url)
    assert page.status_code == 200 and page["Content-Type"].startswith("text/html")
    assert secure.json()["next"].startswith("https://")
    assert again.content == plain.content
    assert spy.hits == 1 and len(spy.entries) == 1  # the page is never stored
