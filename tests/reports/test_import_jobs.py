"""A large figures workbook is committed by a background job: nothing is written until the
worker runs it, then every row in one transaction — and a job cancelled mid-way writes
nothing (its transaction is rolled back)."""

import pytest
from django.urls import reverse

from core import jobs
from core.choices import JobState
from core.models import Job
from reports.excel.jobs import FIGURES_IMPORT
from reports.models import ImportState
from targets.models import ProgressReport
from tests.reports.test_excel_import import (
    KEY_TOWNS,
    NEW_STATIONS,
    commit,
    download,
    fill,
    snapshot,
    target,
    upload,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def large(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    settings.JOB_IMPORT_THRESHOLD = 1  # the template's rows count as a large import


@pytest.fixture
def previewed(client, open_2024, liaison_nanzhao):
    filled = fill(download(client, liaison_nanzhao), {NEW_STATIONS: 1, KEY_TOWNS: 2})
    return upload(client, liaison_nanzhao, filled).context["batch"]


def test_a_large_import_is_committed_by_its_job(client, previewed, liaison_nanzhao):
    before = snapshot()
    response = commit(client, previewed)
    job = Job.objects.get(owner=liaison_nanzhao, kind=FIGURES_IMPORT)
    assert response["Location"] == reverse("core:job_detail", args=[job.pk])
    assert snapshot() == before  # queued: nothing written yet

    assert jobs.execute(job.pk) == JobState.SUCCEEDED
    job.refresh_from_db()
    assert job.message.startswith("已导入“模板.xlsx”：写入 2 条")
    assert job.done == job.total == 2 and not job.result
    assert ProgressReport.objects.get(target=target("tg-new-stations")).value == 1
    previewed.refresh_from_db()
    assert previewed.state == ImportState.COMMITTED


def test_an_import_cancelled_mid_way_writes_nothing(
    client, previewed, liaison_nanzhao, monkeypatch
):
    before = snapshot()
    commit(client, previewed)
    job = Job.objects.get(owner=liaison_nanzhao, kind=FIGURES_IMPORT)
    real_call = jobs.Progress.__call__

    def cancelled_after_the_rows(progress, done, total):
        if done:  # the rows are saved, inside the transaction: the owner clicks 取消
            Job.objects.filter(pk=job.pk).update(state=JobState.CANCELLED)
            progress.flush()
        real_call(progress, done, total)

    monkeypatch.setattr(jobs.Progress, "__call__", cancelled_after_the_rows)
    assert jobs.execute(job.pk) == JobState.CANCELLED
    reports, history, evidence, _batches = snapshot()
    assert (reports, history, evidence) == before[:3]  # rolled back: all or nothing
    previewed.refresh_from_db()
    assert previewed.state != ImportState.COMMITTED


def test_a_small_import_is_still_committed_in_the_request(
    client, previewed, liaison_nanzhao, settings
):
    settings.JOB_IMPORT_THRESHOLD = 500
    response = commit(client, previewed)
    assert response["Location"] == reverse("reports:excel_home")
    assert not Job.objects.exists()
    assert ProgressReport.objects.filter(target=target("tg-new-stations")).exists()
