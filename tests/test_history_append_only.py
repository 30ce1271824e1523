"""History is append-only for the application, and written with the change it records.

- The database refuses UPDATE and DELETE on every history table (a trigger per table, from
  the apps' ``…_history_append_only`` migrations), except for a DBA who sets
  ``fireplan.allow_history_purge`` for one transaction.
- The admin shows history and old versions but cannot revert, change or delete them; history
  models have no admin pages; users (named in history) cannot be deleted, only deactivated.
- The API has no history endpoint.
- A service's history row is written in the same transaction as its change: when anything
  fails after the save, both are rolled back.
"""

import pytest
from django.apps import apps
from django.contrib import admin
from django.contrib.auth.models import User
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.test import RequestFactory
from django.urls import NoReverseMatch, reverse
from simple_history.admin import SimpleHistoryAdmin
from simple_history.models import HistoricalChanges
from simple_history.signals import post_create_historical_record

from core.admin import HistoryAdmin
from planning import services as planning_services
from planning.models import Plan
from stations import services as station_services
from stations.models import Station
from targets import services as target_services
from targets.models import ProgressReport, Target

TRIGGER = "history_append_only"


def tracked_models() -> list:
    """Every model with django-simple-history records."""
    return [
        model
        for model in apps.get_models()
        if getattr(model._meta, "simple_history_manager_attribute", None)
    ]


def history_models() -> list:
    return [model for model in apps.get_models() if issubclass(model, HistoricalChanges)]


@pytest.fixture
def superuser(seeded):
    return User.objects.create_superuser("root_history", password="Root-pass-2021")


@pytest.fixture
def nanyang_plan(seeded):
    return Plan.objects.get(code="nanyang-2021-2025")


def refused(sql: str, params=()) -> bool:
    """Whether PostgreSQL refuses ``sql`` (in a savepoint, so the test goes on)."""
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, params)
    except IntegrityError as error:
        assert "history is append-only" in str(error)
        return True
    return False


# ------------------------------------------------------------------------------ database


def test_the_history_models_are_the_tracked_models_history():
    assert len(history_models()) == len(tracked_models()) >= 20


@pytest.mark.usefixtures("on_postgres", "db")
def test_every_history_table_has_the_append_only_trigger():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
            "WHERE t.tgname = %s AND NOT t.tgisinternal",
            [TRIGGER],
        )
        guarded = {name for (name,) in cursor.fetchall()}
    tables = {model._meta.db_table for model in history_models()}
    missing = sorted(tables - guarded)
    assert not missing, (
        "history tables without the append-only trigger (add a migration like "
        f"planning/migrations/0005_history_append_only.py): {missing}"
    )


@pytest.mark.usefixtures("on_postgres")
def test_raw_update_and_delete_on_any_history_row_are_refused(seeded):
    """On every history table with rows after seeding (the trigger test above covers the
    empty ones): UPDATE and DELETE fail, the row stays."""
    checked = []
    for model in history_models():
        table = model._meta.db_table
        row = model.objects.order_by("history_id").values_list("history_id", flat=True).first()
        if row is None:
            continue
        update = f"UPDATE {table} SET history_change_reason = 'x' WHERE history_id = %s"
        delete = f"DELETE FROM {table} WHERE history_id = %s"
        assert refused(update, [row]), table
        assert refused(delete, [row]), table
        assert model.objects.filter(history_id=row).exists()
        checked.append(table)
    assert len(checked) >= 10, checked


@pytest.mark.usefixtures("on_postgres")
def test_the_orm_cannot_change_or_delete_history_either(nanyang_plan):
    record = nanyang_plan.history.earliest("history_date")
    with pytest.raises(IntegrityError), transaction.atomic():
        type(record).objects.filter(pk=record.pk).update(history_change_reason="改写")
    with pytest.raises(IntegrityError), transaction.atomic():
        record.delete()
    record.refresh_from_db()
    assert record.history_change_reason != "改写"


@pytest.mark.usefixtures("on_postgres")
def test_a_dba_can_purge_history_in_a_transaction_that_says_so(nanyang_plan):
    record = nanyang_plan.history.earliest("history_date")
    table = type(record)._meta.db_table
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL fireplan.allow_history_purge = on")
        cursor.execute(f"DELETE FROM {table} WHERE history_id = %s", [record.pk])
        cursor.execute("SET LOCAL fireplan.allow_history_purge = off")
    assert not type(record).objects.filter(pk=record.pk).exists()
    assert refused(f"DELETE FROM {table}")  # off again: refused


@pytest.mark.usefixtures("on_postgres")
def test_deleting_objects_keeps_their_history_and_adds_a_deletion_row(nanyang_plan, superuser):
    """Cascades do not reach history (its foreign keys are plain columns): deleting a report
    (seed_demo --clear does) writes a '-' row and keeps the earlier ones."""
    target = Target.objects.filter(plan=nanyang_plan, feed="reports").first()
    report = ProgressReport.objects.create(
        target=target, region=target.region, period="2022", value=1, is_demo=True
    )
    report_id = report.pk
    report.delete()
    kinds = list(
        ProgressReport.history.filter(id=report_id)
        .order_by("history_date")
        .values_list("history_type", flat=True)
    )
    assert kinds == ["+", "-"]


@pytest.mark.usefixtures("on_postgres")
def test_a_user_named_in_history_cannot_be_deleted_by_the_database(nanyang_plan, staff_nanyang):
    planning_services.update_plan(
        nanyang_plan, actor=staff_nanyang, version=nanyang_plan.version, changes={"issuer": "改"}
    )
    with pytest.raises(DatabaseError), transaction.atomic():
        staff_nanyang.delete()  # would set history_user to NULL
    assert User.objects.filter(pk=staff_nanyang.pk).exists()


# ------------------------------------------------------------------------------ admin


def test_no_history_model_has_an_admin_page():
    registered = [m for m in admin.site._registry if issubclass(m, HistoricalChanges)]
    assert registered == []
    for model in history_models():
        opts = model._meta
        for page in ("changelist", "change", "delete"):
            with pytest.raises(NoReverseMatch):
                reverse(f"admin:{opts.app_label}_{opts.model_name}_{page}", args=[1])


def test_every_history_admin_is_read_only(superuser):
    request = RequestFactory().get("/admin/")
    request.user = superuser
    history_admins = [
        (model, model_admin)
        for model, model_admin in admin.site._registry.items()
        if isinstance(model_admin, SimpleHistoryAdmin)
    ]
    assert len(history_admins) >= 15
    for model, model_admin in history_admins:
        assert isinstance(model_admin, HistoryAdmin), model
        assert model_admin.revert_disabled(request)
        assert not model_admin.has_change_history_permission(request)


def test_the_admin_shows_an_old_version_but_refuses_to_revert_it(client, nanyang_plan, superuser):
    planning_services.update_plan(
        nanyang_plan, actor=superuser, version=nanyang_plan.version, changes={"issuer": "新发文"}
    )
    old = nanyang_plan.history.earliest("history_date")
    url = reverse("admin:planning_plan_simple_history", args=[nanyang_plan.pk, old.history_id])
    client.force_login(superuser)
    rows = nanyang_plan.history.count()

    shown = client.get(url)
    reverted = client.post(url, {"title": nanyang_plan.title, "issuer": old.issuer})

    assert shown.status_code == 200
    assert 'name="_save"' not in shown.content.decode()  # no save (revert) button
    assert reverted.status_code == 403
    nanyang_plan.refresh_from_db()
    assert nanyang_plan.issuer == "新发文"
    assert nanyang_plan.history.count() == rows


def test_the_admin_cannot_delete_users(client, superuser, staff_nanyang):
    client.force_login(superuser)
    url = reverse("admin:auth_user_delete", args=[staff_nanyang.pk])

    assert client.get(url).status_code == 403
    assert client.post(url, {"post": "yes"}).status_code == 403
    assert User.objects.filter(pk=staff_nanyang.pk).exists()


# ------------------------------------------------------------------------------ API


def test_the_api_has_no_history_endpoint(client, seeded):
    paths = client.get("/api/schema/", {"format": "json"}).json()["paths"]
    assert not [path for path in paths if "histor" in path]


# ------------------------------------------------------------------------------ same transaction


class HistoryFailure(Exception):
    pass


@pytest.fixture
def failing_history():
    """Every history row fails right after it is written (as a full disk or a bug would)."""

    def fail(**kwargs):
        raise HistoryFailure

    post_create_historical_record.connect(fail, dispatch_uid="test-failing-history")
    yield
    post_create_historical_record.disconnect(dispatch_uid="test-failing-history")


def test_a_plan_edit_and_its_history_row_commit_together(
    nanyang_plan, staff_nanyang, failing_history
):
    rows, version = nanyang_plan.history.count(), nanyang_plan.version
    with pytest.raises(HistoryFailure):
        planning_services.update_plan(
            nanyang_plan, actor=staff_nanyang, version=version, changes={"issuer": "不应保存"}
        )
    nanyang_plan.refresh_from_db()
    assert (nanyang_plan.issuer, nanyang_plan.version) != ("不应保存", version + 1)
    assert nanyang_plan.history.count() == rows


def test_a_station_edit_and_its_history_row_commit_together(staff_nanyang, failing_history):
    station = (
        Station.objects.filter(region__name="南召县").first()
        or Station.objects.filter(plan__code="nanyang-2021-2025").first()
    )
    rows, address = station.history.count(), station.address
    with pytest.raises(HistoryFailure):
        station_services.update_station(
            station, actor=staff_nanyang, version=station.version, changes={"address": "不应保存"}
        )
    station.refresh_from_db()
    assert (station.address, station.history.count()) == (address, rows)


def test_a_report_and_its_history_row_commit_together(liaison_nanzhao, open_2024, failing_history):
    target = Target.objects.get(plan__code="nanyang-2021-2025", code="tg-new-stations")
    region = target.allocations.get(region__name="南召县").region
    with pytest.raises(HistoryFailure):
        target_services.save_report(
            actor=liaison_nanzhao, target=target, region=region, period="2024", value=1
        )
    assert not ProgressReport.objects.filter(target=target, region=region).exists()
    assert not ProgressReport.history.filter(target_id=target.pk, region_id=region.pk).exists()


def test_every_seeded_row_has_its_creation_in_history(seeded):
    """The seed loader (and every service) writes history for what it creates."""
    without = {}
    for model in tracked_models():
        history = getattr(model, model._meta.simple_history_manager_attribute)
        recorded = history.values("id") if "id" in [f.name for f in model._meta.fields] else None
        if recorded is None:
            continue
        missing = model.objects.exclude(pk__in=recorded).count()
        if missing:
            without[model._meta.label] = missing
    assert not without, f"rows without any history row: {without}"
