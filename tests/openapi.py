"""The OpenAPI document as /api/schema/ serves it, for the schemathesis and generated-client
tests: generated without a request (no database needed), the WSGI app to call in process,
what every response must satisfy, and the rows the seeds lack for every read to find one."""

from __future__ import annotations

import copy
import datetime
import json
from contextlib import contextmanager

import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.utils import timezone
from drf_spectacular.generators import SchemaGenerator
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from accounts.models import Notice
from core.models import Evidence, Job, Region
from fireplan.wsgi import application
from planning.models import Plan, Task, TaskUpdate
from targets.models import FireStatistic, ProgressReport, Target

DOCUMENT = json.loads(json.dumps(SchemaGenerator().get_schema(public=True), default=str))
READS = sorted(path for path, operations in DOCUMENT["paths"].items() if "get" in operations)
NANYANG = "nanyang-2021-2025"

# Operations a role may not use: answered (and checked) with the documented refusal.
# Liaisons export nothing but their figures template (core.scope: EXPORT).
REFUSED = {
    ("liaison", f"/api/v1/exports/{name}/"): 403
    for name in ("assessment", "evaluation", "reports", "stations", "tasks")
} | {("liaison", "/api/v1/plans/{id}/evaluation-report/"): 403}

# What must always hold. Not "schema-valid data is accepted": a well-typed id of a plan
# outside the user's scope, or a period not yet open, is rightly refused with 400/404.
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


def closed(document: dict) -> dict:
    """The document with every object that lists its properties closed to others
    (``additionalProperties: false``): a response field the schema does not name fails."""
    document = copy.deepcopy(document)

    def close(node):
        if isinstance(node, dict):
            if "properties" in node and "additionalProperties" not in node:
                node["additionalProperties"] = False
            for value in node.values():
                close(value)
        elif isinstance(node, list):
            for value in node:
                close(value)

    close(document)
    return document


def schema_for_app(document: dict = DOCUMENT):
    schema = schemathesis.openapi.from_dict(document)
    schema.app = application
    return schema


@contextmanager
def wsgi_in_process(settings):
    """Call the WSGI app inside the test's transaction, unthrottled."""
    settings.ALLOWED_HOSTS = ["*"]
    settings.REST_FRAMEWORK = settings.REST_FRAMEWORK | {
        "DEFAULT_THROTTLE_RATES": {"anon": "100000/min", "token": "100000/min"}
    }
    # The WSGI handler would close the test's database connection after each request (as
    # Django's test client avoids too): keep it open for the test's transaction.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def export_queries(user, path: str) -> list[dict]:
    """Query strings for an export: what its form requires, or none and one filter."""
    plan = Plan.objects.get(code=NANYANG).pk
    return {
        "/api/v1/exports/assessment/": [{"plan": plan, "year": 2024}],
        "/api/v1/exports/evaluation/": [{"plan": plan}, {"plan": plan, "on": "2022-06-30"}],
        "/api/v1/exports/figures-template/": [
            {"plan": plan, "region": user.profile.region_id, "period": "2024"}
        ],
    }.get(path, [{}, {"plan": plan}])


def add_activity(staff, liaison) -> None:
    """What the seeds lack, for 南阳 (staff) and 南召县 (liaison): reports (approved with
    evidence, a draft without a value), task updates (with and without author, percent,
    evidence), notices (read and unread), fire statistics (with and without figures) and
    background jobs (queued, failed, succeeded)."""
    nanzhao = Region.objects.get(name="南召县")
    for region, fires in ((nanzhao.parent, 120), (nanzhao, None)):
        FireStatistic.objects.create(region=region, year=2020, fires=fires, deaths=0)
    new_stations = Target.objects.get(plan__code=NANYANG, code="tg-new-stations")
    key_towns = Target.objects.get(plan__code=NANYANG, code="tg-b3-key-town")
    now = timezone.now()
    evidence = Evidence.objects.create(
        file="evidence/2024/01/conformance.pdf",
        original_name="验收报告.pdf",
        content_type="application/pdf",
        size_bytes=13,
        sha256="0" * 64,
        uploaded_by=liaison,
    )
    approved = ProgressReport.objects.create(
        target=new_stations, region=nanzhao, period="2024", value=1, note="已建成",
        status="approved", submitted_by=liaison, submitted_at=now,
        reviewed_by=staff, reviewed_at=now,
    )  # fmt: skip
    approved.evidence.add(evidence)
    ProgressReport.objects.create(target=key_towns, region=nanzhao, period="2023", value=None)
    task = Task.objects.filter(plan__code=NANYANG).order_by("pk").first()
    noted = TaskUpdate.objects.create(task=task, author=staff, text="已选址", percent=30)
    noted.evidence.add(evidence)
    TaskUpdate.objects.create(task=task, author=None, text="进展", percent=None)
    for user in (staff, liaison):
        Notice.objects.create(user=user, level="warning", key="a", text="进度滞后", url="/x/")
        Notice.objects.create(user=user, level="info", key="b", text="临近期限", read_at=now)
        # background jobs: queued (no total yet), failed with its message, succeeded with a file
        Job.objects.create(owner=user, kind="ledger_export", title="台账导出")
        Job.objects.create(
            owner=user, kind="ledger_export", title="台账导出", state="failed", done=3,
            total=10, started_at=now, finished_at=now, message="任务中断：工作进程已停止",
        )  # fmt: skip
        Job.objects.create(
            owner=user, kind="ledger_export", title="台账导出", state="succeeded", done=10,
            total=10, started_at=now, finished_at=now, result="jobs/2024/01/conformance.xlsx",
            result_name="台账.xlsx", expires_at=now + datetime.timedelta(days=7),
        )  # fmt: skip
