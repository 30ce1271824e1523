"""The backup and restore the README documents, run for real: ``pg_dump -Fc`` of the test
database (the five seed plans, committed once per session by ``django_db_setup``),
``createdb`` a fresh database, ``pg_restore`` into it, and every table must come back with
the same number of rows — and a few key tables with the same content, row for row.

PostgreSQL only: on SQLite there is no pg_dump to test (the backup there is a file copy).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg2
import pytest
from django.db import connection
from psycopg2 import sql

# Whole rows compared (md5 of every row in key order): the plans and what hangs off them.
KEY_TABLES = [
    "planning_region",
    "planning_plan",
    "planning_task",
    "targets_target",
    "targets_milestone",
    "targets_allocation",
    "stations_station",
]


@pytest.fixture
def postgres(db) -> dict:
    """The test database's connection settings (the seeds are committed in it; this test
    writes nothing, so its own open transaction holds nothing pg_dump would wait for)."""
    if connection.vendor != "postgresql":
        pytest.skip(
            "backup and restore with pg_dump/pg_restore need PostgreSQL (SQLite: copy the file)"
        )
    missing = [t for t in ("pg_dump", "pg_restore", "createdb", "dropdb") if not shutil.which(t)]
    if missing:
        pytest.skip(f"PostgreSQL client tools not installed: {', '.join(missing)}")
    return connection.settings_dict


def _tool_args(db: dict) -> tuple[list[str], dict]:
    """Host, port and user of the test connection, as the client tools take them."""
    args = []
    for flag, key in (("-h", "HOST"), ("-p", "PORT"), ("-U", "USER")):
        if db.get(key):
            args += [flag, str(db[key])]
    env = {**os.environ}
    if db.get("PASSWORD"):
        env["PGPASSWORD"] = db["PASSWORD"]
    return args, env


def _run(command: list[str], env: dict) -> None:
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, f"{' '.join(command)}\n{result.stderr}"


@contextmanager
def _connect(db: dict, name: str) -> Iterator:
    conn = psycopg2.connect(
        dbname=name,
        host=db.get("HOST") or None,
        port=db.get("PORT") or None,
        user=db.get("USER") or None,
        password=db.get("PASSWORD") or None,
    )
    try:
        yield conn.cursor()
    finally:
        conn.close()


def _contents(db: dict, name: str) -> tuple[dict[str, int], dict[str, str]]:
    """Row counts of every table, and a checksum of every row of the key tables (committed
    data only: a separate connection, outside the test's transaction)."""
    with _connect(db, name) as cursor:
        cursor.execute(
            "SELECT table_name FROM information_schema.tables "
            "WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY table_name"
        )
        tables = [row[0] for row in cursor.fetchall()]
        counts = {}
        for table in tables:
            cursor.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table)))
            counts[table] = cursor.fetchone()[0]
        checksums = {}
        for table in KEY_TABLES:
            cursor.execute(
                sql.SQL("SELECT md5(string_agg(t::text, '|' ORDER BY t.id)) FROM {} AS t").format(
                    sql.Identifier(table)
                )
            )
            checksums[table] = cursor.fetchone()[0]
    return counts, checksums


def test_a_dump_restored_into_a_fresh_database_has_every_row(postgres, tmp_path):
    args, env = _tool_args(postgres)
    source = postgres["NAME"]
    fresh = f"{source}_restore_{uuid.uuid4().hex[:8]}"
    dump = tmp_path / "fireplan.dump"

    _run(["pg_dump", "-Fc", "--no-owner", *args, "-f", str(dump), source], env)
    _run(["createdb", *args, fresh], env)
    try:
        _run(["pg_restore", "--no-owner", "--exit-on-error", *args, "-d", fresh, str(dump)], env)
        counts, checksums = _contents(postgres, source)
        restored_counts, restored_checksums = _contents(postgres, fresh)
    finally:
        _run(["dropdb", "--if-exists", *args, fresh], env)

    assert counts["planning_plan"] >= 5 and counts["targets_target"] > 100  # the seed plans
    assert restored_counts == counts
    assert all(checksums.values())
    assert restored_checksums == checksums
