"""What every service module shares: the error a write path raises, and optimistic locking.

A service refuses bad input by raising ``ServiceError`` with a stable English ``code`` (for
the API) and a Chinese ``message`` (for pages and Excel previews); it has changed nothing,
because every service runs in one transaction.
"""

from __future__ import annotations

from django.db import models, transaction
from django.utils import timezone


class ServiceError(Exception):
    status_code = 400

    def __init__(self, code: str, message: str, *, field: str | None = None):
        super().__init__(message)
        self.code, self.message, self.field = code, message, field


class NotAllowed(ServiceError):
    status_code = 403


class StaleEdit(ServiceError):
    """Someone saved the object after this user loaded it (版本冲突)."""

    status_code = 412

    def __init__(self, obj: models.Model):
        who, when = last_change(obj)
        detail = f"（{who} 于 {when:%Y-%m-%d %H:%M} 修改）" if when else ""
        super().__init__("stale_edit", f"该记录已被他人修改，请刷新后重试{detail}")
        self.changed_by, self.changed_at = who, when


def last_change(obj: models.Model) -> tuple[str, object]:
    history = getattr(obj, "history", None)
    record = history.select_related("history_user").first() if history is not None else None
    if record is None:
        return "", None
    user = record.history_user
    who = (user.get_full_name() or user.username) if user else "系统"
    return who, timezone.localtime(record.history_date)


def lock_for_edit(model: type[models.Model], pk: int, version: int | None) -> models.Model:
    """Lock the row for this transaction and check the version the user saw.

    The row lock (SELECT … FOR UPDATE) serialises two concurrent saves; the version check
    then refuses the second one instead of letting it overwrite the first.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("lock_for_edit must run inside transaction.atomic()")
    obj = model._default_manager.select_for_update().get(pk=pk)
    if version is not None and obj.version != version:
        raise StaleEdit(obj)
    return obj


def save_versioned(obj: models.Model, fields: list[str], *, actor, reason: str = "") -> None:
    """Save the named fields, bump the version, and attribute the history record."""
    obj.version += 1
    obj._history_user = actor
    obj._change_reason = reason or None
    obj.save(update_fields=[*fields, "version"])
