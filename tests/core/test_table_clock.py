"""Table clocks (core.table_clock): every project table has the tick trigger, a commit that
wrote a table raises its version by one and a rollback by nothing, compaction keeps the sum,
and writers committing to the same tables at once never wait on each other for the clock."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, transaction

from core import table_clock

pytestmark = pytest.mark.usefixtures("on_postgres")

# Tables of no model: Django's own bookkeeping, and the shared cache (core.checks).
NOT_CLOCKED = {"django_migrations", table_clock.TABLE}


def touch(table: str, cursor=None) -> None:
    """A write statement that changes nothing: the statement-level trigger ticks anyway."""
    sql = f'UPDATE "{table}" SET id = id WHERE false'
    if cursor is not None:
        cursor.execute(sql)
        return
    with connection.cursor() as own:
        own.execute(sql)


def rows_of(table: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {table_clock.TABLE} WHERE table_name = %s", [table])
        return cursor.fetchone()[0]


@pytest.mark.django_db
def test_every_project_table_has_the_tick_trigger(settings):
    with connection.cursor() as cursor:
        tables = set(connection.introspection.table_names(cursor))
    clocked = table_clock.tables_with_trigger()
    missing = tables - clocked - NOT_CLOCKED - {settings.SHARED_CACHE_TABLE}
    assert not missing, f"tables without the table clock's trigger: {sorted(missing)}"
    assert table_clock.TABLE not in clocked
    # Not vacuous: M2M and history tables are among them, and models' tables all are.
    assert {"targets_progressreport_evidence", "planning_historicaltask"} <= clocked
    assert table_clock.clocked_tables() <= clocked


@pytest.mark.django_db
def test_the_installer_adds_the_trigger_to_a_table_that_lacks_it():
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TRIGGER {table_clock.TRIGGER} ON planning_region")
    assert "planning_region" not in table_clock.tables_with_trigger()
    assert table_clock.install_triggers() == ["planning_region"]
    assert table_clock.install_triggers() == []  # idempotent


@pytest.mark.django_db
def test_migrate_installs_the_functions_the_module_installs_today():
    def definitions():
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT p.proname, pg_get_functiondef(p.oid) FROM pg_proc p "
                "WHERE p.proname IN (%s, %s)",
                [table_clock.TICK_FUNCTION, table_clock.COMPACT_FUNCTION],
            )
            return dict(cursor.fetchall())

    migrated = definitions()
    assert len(migrated) == 2
    with connection.cursor() as cursor:
        for statement in table_clock.FUNCTIONS_SQL:
            cursor.execute(statement)
    assert definitions() == migrated, "the clock's SQL changed: add a migration installing it"


@pytest.mark.django_db(transaction=True)
def test_a_commit_ticks_once_a_rollback_never():
    before = table_clock.versions(["planning_region", "planning_unit"])
    with transaction.atomic():
        touch("planning_region")
        touch("planning_region")  # the same transaction: one tick
        touch("planning_unit")
    with pytest.raises(RuntimeError), transaction.atomic():
        touch("planning_region")
        raise RuntimeError
    touch("planning_region")  # autocommit: a transaction of its own
    after = table_clock.versions(["planning_region", "planning_unit"])
    assert after == {
        "planning_region": before["planning_region"] + 2,
        "planning_unit": before["planning_unit"] + 1,
    }
    assert table_clock.versions(["no_such_table"]) == {"no_such_table": 0}


@pytest.mark.django_db(transaction=True)
def test_compaction_keeps_the_sum_and_folds_the_rows():
    for _ in range(10):
        touch("planning_stage")
    before = table_clock.versions(["planning_stage"])
    assert rows_of("planning_stage") >= 2
    table_clock.compact("planning_stage")
    assert rows_of("planning_stage") == 1  # the base row alone
    assert table_clock.versions(["planning_stage"]) == before
    touch("planning_stage")
    table_clock.compact("planning_stage")
    assert table_clock.versions(["planning_stage"]) == {
        "planning_stage": before["planning_stage"] + 1
    }


@pytest.mark.django_db(transaction=True)
def test_compaction_leaves_uncommitted_ticks_alone_and_never_waits():
    """A compaction in another session folds only committed ticks; an open writer's tick
    counts once it commits. Two compactions at once: the second returns at once."""
    touch("planning_section")
    before = table_clock.versions(["planning_section"])["planning_section"]
    opened, done = threading.Event(), threading.Event()

    def writer():
        try:
            with transaction.atomic():
                touch("planning_section")
                table_clock.compact("planning_section")  # holds the table's compaction lock
                opened.set()
                done.wait(10)
        finally:
            connection.close()

    thread = threading.Thread(target=writer)
    thread.start()
    assert opened.wait(10)
    assert table_clock.compact("planning_section") == 0  # the writer holds the lock
    assert table_clock.versions(["planning_section"])["planning_section"] == before
    done.set()
    thread.join(10)
    assert table_clock.versions(["planning_section"])["planning_section"] == before + 1
    table_clock.compact("planning_section")
    assert table_clock.versions(["planning_section"])["planning_section"] == before + 1


WRITERS = 8


@pytest.mark.django_db(transaction=True)
def test_writers_on_the_same_tables_never_wait_for_the_clock_nor_deadlock():
    """Eight transactions tick the same two tables in opposite orders and compact, all open at
    once (a barrier inside the transactions: a writer waiting on another's clock row would
    break it). Each commit counts once."""
    tables = ["planning_plan", "planning_task"]
    before = table_clock.versions(tables)
    barrier = threading.Barrier(WRITERS, timeout=15)
    failures: list[BaseException] = []

    def write(i: int) -> None:
        order = tables if i % 2 else tables[::-1]
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute("SET LOCAL lock_timeout = '5s'")
                touch(order[0], cursor)
                barrier.wait()
                touch(order[1], cursor)
                table_clock.compact(order[1])
                barrier.wait()
                touch(order[0], cursor)
        except BaseException as error:
            failures.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=write, args=(i,)) for i in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not failures, failures
    after = table_clock.versions(tables)
    assert after == {table: before[table] + WRITERS for table in tables}


def test_tables_are_found_in_sql_quoted_or_not():
    found = table_clock.tables_in(
        'SELECT "planning_region"."id" FROM "planning_region" '
        "JOIN planning_regionx ON true, targets_progressreport_evidence e, planning_unit"
    )
    assert found == {"planning_region", "targets_progressreport_evidence", "planning_unit"}
