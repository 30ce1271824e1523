"""Schemathesis against the live OpenAPI schema, in process (WSGI), as a staff user and as a
liaison: whatever it sends, no 500 and every response matches the schema.

Bounded: a few examples per operation (FUZZ_EXAMPLES, default 5), so CI stays fast. Random
ids mostly meet a 404: tests/test_api_conformance.py reads every operation with real ids.
"""

import os

import pytest
from hypothesis import HealthCheck, settings

from accounts.services import issue_api_token
from tests.openapi import CHECKS, schema_for_app, wsgi_in_process

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "5"))

schema = schema_for_app()

FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)


@pytest.fixture(autouse=True)
def in_process(settings, db):
    with wsgi_in_process(settings):
        yield


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
