"""Evidence files (佐证材料): checked for size and type, stored with their SHA-256; the same
content is stored once, each upload keeps its own record (name, uploader)."""

from __future__ import annotations

import hashlib
from pathlib import PurePath

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import connection
from django.utils.translation import gettext as _

from core.models import Evidence
from core.services import ServiceError
from core.text import clean_text

# The first bytes each allowed type must start with; a renamed executable is refused.
SIGNATURES = {
    "pdf": [b"%PDF"],
    "png": [b"\x89PNG\r\n\x1a\n"],
    "jpg": [b"\xff\xd8\xff"],
    "jpeg": [b"\xff\xd8\xff"],
    "docx": [b"PK\x03\x04"],
    "xlsx": [b"PK\x03\x04"],
    "zip": [b"PK\x03\x04"],
    "ofd": [b"PK\x03\x04"],
    "doc": [b"\xd0\xcf\x11\xe0"],
    "xls": [b"\xd0\xcf\x11\xe0"],
}


def _size(size: int) -> str:
    if size >= 1048576:
        return f"{size / 1048576:.1f}".rstrip("0").rstrip(".") + " MB"
    if size >= 1024:
        return f"{size / 1024:.0f} KB"
    return _("%(size)s 字节") % {"size": size}


def check_evidence_file(upload: UploadedFile) -> str:
    """Refuse files that are too big or not of an allowed type; return the SHA-256."""
    name = upload.name or ""
    extension = PurePath(name).suffix.lower().lstrip(".")
    allowed = settings.EVIDENCE_EXTENSIONS
    if extension not in allowed:
        raise ServiceError(
            "evidence_type",
            _("佐证材料“%(name)s”的类型不允许，应为 %(allowed)s 之一")
            % {"name": name, "allowed": "、".join(allowed)},
            field="evidence",
        )
    limit = settings.EVIDENCE_MAX_BYTES
    if upload.size > limit:
        raise ServiceError(
            "evidence_too_large",
            _("佐证材料“%(name)s”大小 %(size)s，超过上限 %(limit)s")
            % {"name": name, "size": _size(upload.size), "limit": _size(limit)},
            field="evidence",
        )
    upload.seek(0)
    head = upload.read(16)
    if not any(head.startswith(sig) for sig in SIGNATURES.get(extension, [b""])):
        raise ServiceError(
            "evidence_content",
            _("佐证材料“%(name)s”的内容与扩展名 .%(extension)s 不符")
            % {"name": name, "extension": extension},
            field="evidence",
        )
    digest = hashlib.sha256()
    upload.seek(0)
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    return digest.hexdigest()


def _lock_digest(sha256: str) -> None:
    """Two requests storing the same file at once (a double-clicked upload) would both miss
    the existing row and create two; a transaction-scoped advisory lock on the digest makes
    the second wait for the first and reuse its row."""
    if connection.vendor == "postgresql" and connection.in_atomic_block:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", [sha256])


def store_evidence(upload: UploadedFile, *, actor) -> Evidence:
    """Check and keep one uploaded file. Each uploader keeps their own record (their name of
    the file, themselves as uploader, the time), so a report never shows another region's
    uploader; only the bytes are shared: the same content is stored once and a new record
    points at the stored file. The same file uploaded again by the same person under the
    same name (a double-clicked upload) reuses that person's record."""
    sha256 = check_evidence_file(upload)
    name = clean_text(PurePath(upload.name).name)[:255]
    _lock_digest(sha256)
    same_content = Evidence.objects.filter(sha256=sha256).order_by("pk")
    own = same_content.filter(uploaded_by=actor, original_name=name).first()
    if own is not None:
        return own
    stored = same_content.values_list("file", flat=True).first()
    record = Evidence(
        original_name=name,
        content_type=getattr(upload, "content_type", "") or "",
        size_bytes=upload.size,
        sha256=sha256,
        uploaded_by=actor,
    )
    if stored:
        record.file.name = stored  # the bytes already kept under their random name
    else:
        record.file = upload
    record.save()
    return record
