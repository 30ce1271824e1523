"""Schemathesis against the live OpenAPI schema, in process (WSGI), as a staff user and as a
liaison: whatever it sends, no 500 and every response matches the schema.

Bounded: a few examples per operation (FUZZ_EXAMPLES, default 5), so CI stays fast.
"""

import json
import os

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from accounts.services import issue_api_token
from fireplan.wsgi import application

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "5"))

# The schema as /api/schema/ serves it, generated without a request (no database needed).
_document = json.loads(json.dumps(SchemaGenerator().get_schema(public=True), default=str))
schema = schemathesis.openapi.from_dict(_document)
schema.app = application

# What must always hold. Not "schema-valid data is accepted": a well-typed id of a plan
# outside the user's scope, or a period not yet open, is rightly refused with 400/404.
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]

FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)


@pytest.fixture(autouse=True)
def in_process(settings, db):
    settings.ALLOWED_HOSTS = ["*"]
    settings.REST_FRAMEWORK = settings.REST_FRAMEWORK | {
        "DEFAULT_THROTTLE_RATES": {"anon": "100000/min", "token": "100000/min"}
    }
    # The WSGI handler would close the test's database connection after each request (as
    # Django's test client avoids too): keep it open for the test's transaction.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def staff_token(staff_nanyang, open_2024):
    return issue_api_token(staff_nanyang).key


@pytest.fixture
def liaison_token(liaison_nanzhao, open_2024):
    return issue_api_token(liaison_nanzhao).key


@schema.parametrize()
@FUZZ
def test_staff_requests_never_cause_a_server_error(case, staff_token):
    case.call_and_validate(headers={"Authorization": f"Token {staff_token}"}, checks=CHECKS)


@schema.parametrize()
@FUZZ
def test_liaison_requests_never_cause_a_server_error(case, liaison_token):
    case.call_and_validate(headers={"Authorization": f"Token {liaison_token}"}, checks=CHECKS)
