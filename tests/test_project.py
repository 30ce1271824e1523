"""The project starts cleanly: checks pass, migrations apply from zero, settings fail loudly."""

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection

ROOT = Path(settings.BASE_DIR)
GOOD_KEY = "k" * 40


def run_manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "DEBUG", "SECRET_KEY"}}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=base | env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_system_check_is_clean():
    call_command("check", fail_level="WARNING")


@pytest.mark.django_db
def test_models_and_migrations_agree():
    call_command("makemigrations", check=True, dry_run=True, verbosity=0)


def test_migrations_apply_from_zero_on_sqlite(tmp_path):
    result = run_manage(
        "migrate",
        "--no-input",
        env={"DATABASE_URL": f"sqlite:///{tmp_path / 'fresh.sqlite3'}", "SECRET_KEY": GOOD_KEY},
    )
    assert result.returncode == 0, result.stderr


@pytest.mark.django_db
def test_migrations_apply_from_zero_on_postgres(on_postgres):
    name = f"fireplan_fresh_{uuid.uuid4().hex[:8]}"
    url = settings.DATABASES["default"]
    base = f"postgres://{url['USER']}@{url['HOST'] or '127.0.0.1'}:{url['PORT'] or 5432}"
    with connection.cursor() as cursor:
        cursor.execute("select 1")  # the test database answers
    import psycopg2

    admin = psycopg2.connect(
        host=url["HOST"] or "127.0.0.1",
        port=url["PORT"] or 5432,
        user=url["USER"],
        dbname="postgres",
    )
    admin.autocommit = True
    try:
        admin.cursor().execute(f'CREATE DATABASE "{name}"')
        env = {"DATABASE_URL": f"{base}/{name}", "SECRET_KEY": GOOD_KEY}
        result = run_manage("migrate", "--no-input", env=env)
        assert result.returncode == 0, result.stderr
        result = run_manage("migrate", "planning", "zero", "--no-input", env=env)
        assert result.returncode == 0, result.stderr
    finally:
        admin.cursor().execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.close()


def test_production_refuses_to_start_without_a_secret_key(tmp_path):
    env = {"DEBUG": "0", "DATABASE_URL": f"sqlite:///{tmp_path / 'x.sqlite3'}"}
    result = run_manage("check", env=env)
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_production_refuses_the_public_development_key(tmp_path):
    env = {
        "DEBUG": "0",
        "SECRET_KEY": "dev-insecure-key-do-not-use-in-production",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'x.sqlite3'}",
    }
    result = run_manage("check", env=env)
    assert result.returncode != 0
    assert "public development key" in result.stderr


def test_bad_debug_value_fails_loudly():
    result = run_manage("check", env={"DEBUG": "maybe"})
    assert result.returncode != 0
    assert "DEBUG must be one of" in result.stderr


def test_with_nothing_set_it_runs_on_local_sqlite():
    code = "from django.conf import settings; print(settings.DATABASES['default']['ENGINE'])"
    result = run_manage("shell", "-c", code, env={})
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "django.db.backends.sqlite3"


def test_chinese_is_the_default_language_and_time_is_shanghai():
    assert settings.LANGUAGE_CODE == "zh-hans"
    assert ("en", "English") in settings.LANGUAGES
    assert settings.TIME_ZONE == "Asia/Shanghai"
    assert settings.USE_TZ is True


def test_bad_status_tolerances_fail_loudly():
    result = run_manage("check", env={"STATUS_CRITICAL_BELOW": "eighty"})
    assert result.returncode != 0
    assert "STATUS_CRITICAL_BELOW must be a number" in result.stderr
    result = run_manage("check", env={"STATUS_CRITICAL_BELOW": "1.2"})
    assert "must not exceed STATUS_LAGGING_BELOW" in result.stderr
