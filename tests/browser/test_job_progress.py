"""A large export started from the page runs in the background (a real db_worker) while the
page shows its progress bar moving, then the download appears in place and in 我的下载 — with
no Content-Security-Policy violation (htmx polls; no inline script)."""

import pytest
from django.urls import reverse

from core.models import Job, Region
from stations.models import Station
from tests.core.test_job_worker import start_worker, worker_env

pytestmark = pytest.mark.django_db(transaction=True)

ROWS = 20_000


def test_the_progress_bar_moves_and_the_download_appears(
    open_session, supervisor_nanyang, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    settings.JOB_EXPORT_THRESHOLD = 1000
    region = Region.objects.get(name="南召县")
    Station.objects.bulk_create(
        (Station(name=f"测试站{n}", region=region, status="planned") for n in range(ROWS)),
        batch_size=5000,
    )
    session = open_session("supervisor_nanyang")
    page = session.page
    page.set_default_timeout(30_000)  # a busy machine: the worker shares it
    worker = start_worker(worker_env(tmp_path))
    try:
        page.goto(reverse("stations:station_list") + "?export=xlsx")
        assert "/downloads/" in page.url
        page.wait_for_selector("[data-testid=job-progress]")
        seen = set()
        for _ in range(600):  # up to 60 s
            state = page.get_attribute("[data-testid=job-progress]", "data-state")
            seen.add(int(page.inner_text("[data-testid=job-done]")))
            if state not in ("queued", "running"):
                break
            page.wait_for_timeout(100)
        assert state == "succeeded", page.content()[:2000]
        total = Job.objects.get(owner=supervisor_nanyang).total
        # The bar moved: the page showed rows done between none and all.
        assert any(0 < done < total for done in seen), sorted(seen)
        session.shot("job-progress-done")
        with page.expect_download() as download:
            page.click("[data-testid=job-download]")
        assert download.value.suggested_filename.startswith("消防站台账_")

        page.goto(reverse("core:job_list"))
        assert page.locator("[data-testid=job-row]").count() == 1
        assert page.locator("text=消防站台账_").count() == 1
    finally:
        worker.terminate()
        worker.wait(timeout=30)
