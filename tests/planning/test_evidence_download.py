"""Evidence files (佐证材料) leave the server only through /evidence/<id>/download/: stored
under MEDIA_ROOT with random names, found through the user's scope (outside it → 404),
answered as an attachment with the type of its extension and ``nosniff``; nothing serves
MEDIA_URL, and the pages and the API link to the download view."""

import re
from decimal import Decimal
from urllib.parse import quote

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from core.models import Evidence, Region
from planning import services as planning_services
from planning.models import Task
from targets import services
from targets.models import Target

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.7\n1 0 obj<<>>endobj\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 64
NAME = "南召县验收报告（第一批）.pdf"


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "uploads"
    return settings.MEDIA_ROOT


@pytest.fixture
def report(open_2024, liaison_nanzhao):
    """A 南召县 draft for 南阳's new stations, with one PDF attached."""
    target = Target.objects.get(plan__code="nanyang-2021-2025", code="tg-new-stations")
    return services.save_report(
        actor=liaison_nanzhao, target=target, region=Region.objects.get(name="南召县"),
        period="2024", value=Decimal(1),
        evidence=[SimpleUploadedFile(f"../../{NAME}", PDF, content_type="text/html")],
    )  # fmt: skip


@pytest.fixture
def evidence(report) -> Evidence:
    return report.evidence.get()


def download(client, user, evidence: Evidence):
    if user is not None:
        client.force_login(user)
    return client.get(reverse("core:evidence_download", args=[evidence.pk]))


def test_files_are_stored_under_random_names_outside_the_web_root(evidence, media):
    assert re.fullmatch(r"evidence/\d{4}/\d{2}/[0-9a-f]{32}\.pdf", evidence.file.name)
    assert evidence.original_name == NAME  # without the path the browser sent
    assert (media / evidence.file.name).read_bytes() == PDF


def test_the_default_upload_folder_is_not_served_as_static_files():
    from fireplan import settings as configured

    web_roots = [configured.STATIC_ROOT, *configured.STATICFILES_DIRS]
    assert not any(configured.MEDIA_ROOT.is_relative_to(root) for root in web_roots)


def test_an_unknown_extension_is_stored_as_bin():
    from core.models import evidence_upload_to

    assert evidence_upload_to(None, "x.php").endswith(".bin")
    assert evidence_upload_to(None, "报告.PDF").endswith(".pdf")
    assert evidence_upload_to(None, "a.pdf") != evidence_upload_to(None, "a.pdf")


@pytest.mark.parametrize("who", ["liaison_nanzhao", "staff_nanyang", "supervisor_nanyang"])
def test_in_scope_users_download_the_file_as_an_attachment(who, client, evidence, request):
    response = download(client, request.getfixturevalue(who), evidence)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF
    assert response["Content-Type"] == "application/pdf"  # from the extension, not the upload
    assert response["Content-Disposition"] == (
        f"attachment; filename=\"evidence-{evidence.pk}.pdf\"; filename*=UTF-8''{quote(NAME)}"
    )
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response["Content-Security-Policy"]
    assert "no-store" in response["Cache-Control"]


@pytest.mark.parametrize("who", ["liaison_xixia", "outsider"])
def test_out_of_scope_users_get_404(who, client, evidence, request):
    assert download(client, request.getfixturevalue(who), evidence).status_code == 404


def test_anonymous_users_are_sent_to_the_login_page(client, evidence):
    response = download(client, None, evidence)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_nothing_under_media_url_serves_the_files(client, evidence, staff_nanyang, settings):
    client.force_login(staff_nanyang)
    for url in (f"/{settings.MEDIA_URL}{evidence.file.name}", f"/media/{evidence.file.name}"):
        response = client.get(url)
        assert response.status_code == 404, url
        assert PDF not in response.content


def test_the_type_comes_from_the_stored_extension(client, report, liaison_nanzhao):
    services.attach_evidence(
        report,
        [SimpleUploadedFile("现场照片.png", PNG, content_type="text/html")],
        actor=liaison_nanzhao,
    )
    photo = report.evidence.get(original_name="现场照片.png")
    response = download(client, liaison_nanzhao, photo)
    assert response["Content-Type"] == "image/png"


def test_a_file_missing_on_disk_is_404_not_a_server_error(client, evidence, liaison_nanzhao):
    evidence.file.storage.delete(evidence.file.name)
    assert download(client, liaison_nanzhao, evidence).status_code == 404


def test_task_update_evidence_follows_the_task_scope(
    client, staff_nanyang, viewer_nanyang, outsider
):
    task = Task.objects.filter(plan__code="nanyang-2021-2025").order_by("pk").first()
    update = planning_services.post_task_update(
        task, actor=staff_nanyang, text="完成评定",
        evidence=[SimpleUploadedFile("评定通知.pdf", PDF + b"2")],
    )  # fmt: skip
    file = update.evidence.get()
    assert download(client, viewer_nanyang, file).status_code == 200
    assert download(client, outsider, file).status_code == 404
    client.force_login(viewer_nanyang)
    page = client.get(reverse("reports:task_detail", args=[task.pk])).content.decode()
    assert f'href="{reverse("core:evidence_download", args=[file.pk])}"' in page
    api = client.get(f"/api/v1/task-updates/{update.pk}/").json()
    assert api["evidence"][0]["download_url"] == reverse("core:evidence_download", args=[file.pk])


def test_the_report_pages_and_the_api_link_to_the_download(
    client, report, evidence, liaison_nanzhao, staff_nanyang
):
    link = f'href="{reverse("core:evidence_download", args=[evidence.pk])}"'
    client.force_login(liaison_nanzhao)
    form = reverse("targets:report_edit", args=[report.target_id, report.region_id, report.period])
    assert link in client.get(form).content.decode()
    client.force_login(staff_nanyang)
    assert (
        link
        in client.get(reverse("targets:target_detail", args=[report.target_id])).content.decode()
    )
    api = client.get(f"/api/v1/reports/{report.pk}/").json()
    assert api["evidence"][0]["download_url"] == reverse(
        "core:evidence_download", args=[evidence.pk]
    )


def test_the_admin_links_evidence_to_the_scoped_download_not_to_media(client, evidence):
    from django.contrib.auth.models import User
    from django.urls import reverse

    client.force_login(User.objects.create_superuser("evidence_admin", password=None))
    page = client.get(reverse("admin:core_evidence_change", args=[evidence.pk])).content
    assert reverse("core:evidence_download", args=[evidence.pk]).encode() in page
    assert b"/media/" not in page
    assert client.get(reverse("admin:core_evidence_add")).status_code == 403
