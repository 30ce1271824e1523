"""Shared fixtures: the database with the five seed plans, and a named cast of users."""

import os
import shutil
import tempfile
from pathlib import Path

import pytest
from django.contrib.auth.models import Permission, User
from django.core.management import call_command
from django.db import connection
from django.db.backends.base.creation import TEST_DATABASE_PREFIX

from planning.models import Plan

SEED_APPS = ["core", "planning", "targets", "stations", "reports"]


def pytest_configure(config):
    """Tests speak plain HTTP (the test client, the browser's live server), while DEBUG is off
    and so production's redirect to HTTPS on; tests/test_security.py tests the redirect."""
    from django.conf import settings

    settings.SECURE_SSL_REDIRECT = False
    # Uploads and job files go to a folder of this test process, not the checkout's var/:
    # under pytest-xdist each worker has its own (tests that look at files set tmp_path).
    settings.MEDIA_ROOT = Path(tempfile.mkdtemp(prefix="fireplan-test-media-"))


def pytest_unconfigure(config):
    from django.conf import settings

    if settings.MEDIA_ROOT.name.startswith("fireplan-test-media-"):
        shutil.rmtree(settings.MEDIA_ROOT, ignore_errors=True)


def pytest_collection_modifyitems(session, config, items):
    """Tests on the live server run after the others: they are transactional (the server needs
    committed data), so the database is flushed when they end (tests/browser: the same)."""
    _one_node_id_per_operation(items)
    items.sort(key=lambda item: "live_server" in getattr(item, "fixturenames", ()))


def _one_node_id_per_operation(items) -> None:
    """Schemathesis 4 on pytest 9.2 gives the test of every API operation the function's node
    id (tests/test_api_fuzz.py: 99 tests, one id). pytest-xdist hands tests out by node id, so
    all but one operation would never run; the operation joins the id as a parameter would:
    ``test_…[GET /api/v1/plans/]``. pytest has no public way to set a node id."""
    for item in items:
        label = getattr(item, "operation_label", None)
        if not label or item.nodeid.endswith("]"):
            continue
        if hasattr(getattr(item, "_id", None), "with_params"):  # pytest 9.2+
            item._id = item._id.with_params(label)
        else:
            item._nodeid = f"{item._nodeid}[{label}]"


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
        # pytest-django sets up the test database only when a collected test asks for it
        # (a django_db mark); without one the seeds would go into DATABASE_URL's database.
        name = str(connection.settings_dict["NAME"])
        if not (name.startswith(TEST_DATABASE_PREFIX) or "memorydb" in name):
            raise pytest.UsageError(
                f"no test database was set up (connected to {name!r}): mark the tests that use"
                " the seeds with django_db"
            )
        call_command("load_seed_plans", verbosity=0)


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    """The cast's passwords are hashed on creation; a fast hasher keeps the suite quick."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


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


# --------------------------------------------------------------------------- the cast
# Named users on the seed regions (STYLE §17). Passwords are irrelevant: tests force_login.


def make_user(username: str, role: str, region_name: str, unit_name: str | None = None, **kw):
    from accounts.models import Profile
    from core.models import Region, Unit

    region = Region.objects.get(name=region_name)
    user = User.objects.create_user(username, password="Pass-word-2021", **kw)
    unit = Unit.objects.get(name=unit_name, region=region) if unit_name else None
    Profile.objects.create(user=user, role=role, region=region, unit=unit)
    return user


@pytest.fixture
def admin_jiangsu(seeded):
    """Admin for 江苏省: manages users of 南京 and 海门."""
    return make_user("admin_jiangsu", "admin", "江苏省")


@pytest.fixture
def staff_nanjing(seeded):
    return make_user("staff_nanjing_office", "staff", "南京市")


@pytest.fixture
def staff_nanyang(seeded):
    return make_user("staff_nanyang", "staff", "南阳市")


@pytest.fixture
def staff_lianzhou(seeded):
    return make_user("staff_lianzhou", "staff", "连州市")


@pytest.fixture
def liaison_lianzhou(seeded):
    """连州 city liaison: owes the city's targets and the towns' allocations."""
    return make_user("liaison_lianzhou", "liaison", "连州市")


@pytest.fixture
def liaison_nanzhao(seeded):
    """南召县 liaison: owes 南阳's targets allocated to 南召县 (附件1: 3 new stations)."""
    return make_user("liaison_nanzhao", "liaison", "南召县")


@pytest.fixture
def liaison_xixia(seeded):
    """Another 南阳 county: must not see 南召县's figures."""
    return make_user("liaison_xixia", "liaison", "西峡县")


@pytest.fixture
def supervisor_nanyang(seeded):
    return make_user("supervisor_nanyang", "supervisor", "南阳市")


@pytest.fixture
def viewer_nanyang(seeded):
    return make_user("viewer_nanyang", "viewer", "南阳市")


@pytest.fixture
def outsider(seeded):
    """Staff of another city (阜新): everything of 南阳 and 连州 is outside their scope."""
    return make_user("outsider_fuxin", "staff", "阜新市")


def open_period(plan_code: str, period: str, *, due_in_days: int = 10, locks_in_days: int = 30):
    """Open a reporting period whose deadline and lock lie ahead of today."""
    import datetime

    from django.utils import timezone

    from planning.models import Plan
    from targets.models import ReportingPeriod

    today = timezone.localdate()
    return ReportingPeriod.objects.create(
        plan=Plan.objects.get(code=plan_code),
        period=period,
        due_on=today + datetime.timedelta(days=due_in_days),
        locks_on=today + datetime.timedelta(days=locks_in_days),
    )


@pytest.fixture
def open_2024(seeded):
    """Reporting period 2024 open on the 南阳 and 连州 plans (deadline ahead of today)."""
    return {code: open_period(code, "2024") for code in ["nanyang-2021-2025", "lianzhou-2021-2025"]}
