"""Downloading an evidence file (佐证材料): the only way a stored upload leaves the server.

Evidence lives under MEDIA_ROOT with random names and no URL serves MEDIA_ROOT; this view
finds the file through the user's scope (``core.scope``: the reports and task updates it
belongs to; outside the scope it does not exist → 404) and answers it as an attachment with
the type its extension stands for, never one the uploader claimed, and ``nosniff``, so a
browser never renders an uploaded file as a page of this site.
"""

from __future__ import annotations

from pathlib import PurePath
from urllib.parse import quote

from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from core.models import Evidence
from core.scope import VIEW

CONTENT_TYPES = {
    "pdf": "application/pdf",
    "png": "image/png",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "doc": "application/msword",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xls": "application/vnd.ms-excel",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "ofd": "application/ofd",
    "zip": "application/zip",
}
FALLBACK_TYPE = "application/octet-stream"


def download_url(evidence: Evidence) -> str:
    return reverse("core:evidence_download", args=[evidence.pk])


def content_disposition(name: str, fallback: str) -> str:
    """``attachment`` with an ASCII fallback name and the real (often Chinese) name in
    RFC 5987 form, which every current browser prefers."""
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"


@require_GET
def evidence_download(request, pk: int):
    evidence = get_object_or_404(Evidence.objects.for_user(request.user, VIEW), pk=pk)
    extension = PurePath(evidence.file.name or "").suffix.lower().lstrip(".")
    try:
        handle = evidence.file.open("rb")
    except (FileNotFoundError, ValueError):
        raise Http404(_("佐证材料文件已不在服务器上，请联系管理员从备份恢复")) from None
    response = FileResponse(handle, content_type=CONTENT_TYPES.get(extension, FALLBACK_TYPE))
    name = PurePath(evidence.original_name or "").name or f"evidence-{evidence.pk}"
    safe_extension = extension if extension in CONTENT_TYPES else "bin"
    response["Content-Disposition"] = content_disposition(
        name, f"evidence-{evidence.pk}.{safe_extension}"
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "private, no-store"
    return response
