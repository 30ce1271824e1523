"""Shared fixtures: the database with the five seed plans, and a named cast of users."""

import os

import pytest
from django.contrib.auth.models import Permission, User
from django.core.management import call_command
from django.db import connection

from planning.models import Plan

SEED_APPS = ["planning", "targets", "stations", "reports"]


def pytest_sessionstart(session):
    if os.environ.get("REQUIRE_POSTGRES") == "1":
        from django.conf import settings

        engine = settings.DATABASES["default"]["ENGINE"]
        if "postgresql" not in engine:
            raise pytest.UsageError(f"REQUIRE_POSTGRES=1 but the database engine is {engine}")


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """Load the seed plans once per test session; each test then runs in a rolled-back
    transaction on top of them."""
    with django_db_blocker.unblock():
        call_command("load_seed_plans", verbosity=0)


@pytest.fixture
def seeded(db):
    """The five seed plans are in the database (reloaded if a transactional test flushed it)."""
    if not Plan.objects.filter(code="nanjing-2021-2023").exists():
        call_command("load_seed_plans", verbosity=0)


@pytest.fixture
def on_postgres():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL")


@pytest.fixture
def staff_user(db) -> User:
    """Committee staff working in the admin: staff flag and every permission of our apps."""
    user = User.objects.create_user("staff_nanjing", password="Staff-pass-2021", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(content_type__app_label__in=SEED_APPS))
    return user
