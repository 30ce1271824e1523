"""What every service module shares: the error a write path raises, and optimistic locking.

A service refuses bad input by raising ``ServiceError`` with a stable English ``code`` (for
the API) and a Chinese ``message`` (for pages and Excel previews); it has changed nothing,
because every service runs in one transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.scope import CHANGE, allows, require

M = TypeVar("M", bound=models.Model)

OUT_OF_SCOPE = gettext_lazy("该记录不在您的管理范围内")
# django-simple-history's ``history_change_reason`` is varchar(100).
MOVED_OUT = gettext_lazy("修改后该记录将不在您的管理范围内，未保存")


class ServiceError(Exception):
    status_code = 400

    def __init__(self, code: str, message: str, *, field: str | None = None):
        message = str(message)  # a lazy constant (OUT_OF_SCOPE …) in the active language
        super().__init__(message)
        self.code, self.message, self.field = code, message, field


class NotAllowed(ServiceError):
    status_code = 403


class StaleEdit(ServiceError):
    """Someone saved the object after this user loaded it (版本冲突)."""

    status_code = 412

    def __init__(self, obj: models.Model):
        who, when = last_change(obj)
        detail = (
            _("（%(who)s 于 %(when)s 修改）") % {"who": who, "when": f"{when:%Y-%m-%d %H:%M}"}
            if when
            else ""
        )
        super().__init__(
            "stale_edit", _("该记录已被他人修改，请刷新后重试%(detail)s") % {"detail": detail}
        )
        self.changed_by, self.changed_at = who, when


def last_change(obj: models.Model) -> tuple[str, object]:
    history = getattr(obj, "history", None)
    record = history.select_related("history_user").first() if history is not None else None
    if record is None:
        return "", None
    user = record.history_user
    who = (user.get_full_name() or user.username) if user else _("系统")
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


# Every history table keeps the reason of a change in a varchar(100)
# (django-simple-history's history_change_reason): a longer one would fail the write (a 500).
REASON_LIMIT = 100


def checked_reason(reason: str | None) -> str | None:
    """The reason of a change as the history keeps it, refused when longer than the history's
    column: ``InvalidInput`` on the field "reason", shown by forms under the field and by the
    API as code ``invalid``. The one check every write path passes (``save_versioned``,
    ``create_object``, ``edit_object``, ``attribute_change``)."""
    reason = (reason or "").strip()
    if len(reason) > REASON_LIMIT:
        raise InvalidInput(
            {
                "reason": [
                    _("修改原因最多 %(limit)s 个字，现为 %(count)s 个字")
                    % {"limit": REASON_LIMIT, "count": len(reason)}
                ]
            },
            {"reason": _("修改原因")},
        )
    return reason or None


def clip_reason(text: str) -> str:
    """A reason the system writes (a document number, a file name inside a fixed text): cut
    to the history's column rather than refused, as the user did not type it."""
    return text if len(text) <= REASON_LIMIT else text[: REASON_LIMIT - 1] + "…"


def attribute_change(obj: models.Model, *, actor, reason: str = "") -> None:
    """Name the actor and the reason of the history record the next save writes."""
    reason = checked_reason(reason)
    obj._history_user = actor
    obj._change_reason = reason


def save_versioned(obj: models.Model, fields: list[str], *, actor, reason: str = "") -> None:
    """Save the named fields, bump the version, and attribute the history record."""
    attribute_change(obj, actor=actor, reason=reason)
    obj.version += 1
    obj.save(update_fields=[*fields, "version"])


# ------------------------------------------------------------------ the shared write path


class InvalidInput(ServiceError):
    """The values break the model's rules. ``errors`` maps every wrong field to its messages
    (``None`` for the record as a whole); ``field`` is the first one, for single-field callers."""

    def __init__(self, errors: Mapping[str | None, list[str]], labels: Mapping[str, str]):
        self.errors = {field: [str(m) for m in messages] for field, messages in errors.items()}
        parts = [
            _("%(label)s：%(message)s") % {"label": labels.get(field, field), "message": message}
            if field
            else message
            for field, messages in self.errors.items()
            for message in messages
        ]
        super().__init__("invalid", "；".join(parts), field=next(iter(self.errors), None))

    @classmethod
    def for_model(cls, model: type[models.Model], errors: Mapping[str | None, list[str]]):
        return cls(errors, field_labels(model))

    @classmethod
    def from_validation_error(cls, model: type[models.Model], error: ValidationError):
        errors: dict[str | None, list[str]] = {}
        for name, messages in error.message_dict.items():
            key = None if name == NON_FIELD_ERRORS else name
            errors.setdefault(key, []).extend(str(m) for m in messages)
        return cls.for_model(model, errors)


def field_labels(model: type[models.Model]) -> dict[str, str]:
    return {f.name: str(f.verbose_name) for f in model._meta.get_fields() if hasattr(f, "attname")}


def invalid(model: type[models.Model], field: str | None, message: str) -> InvalidInput:
    return InvalidInput.for_model(model, {field: [message]})


# ------------------------------------------------------------------------------ shared path


def check_may_change(actor, obj: models.Model) -> None:
    require(actor, CHANGE)
    if not allows(actor, obj, CHANGE):
        raise NotAllowed("out_of_scope", OUT_OF_SCOPE)


def _related_checks(
    actor, model: type[models.Model], values: Mapping[str, Any], actions: Mapping[str, str]
) -> None:
    """Objects the record is pointed at must be in the actor's reach (``actions`` says which
    action each foreign key needs: a region to change, a plan to see …)."""
    for name, action in actions.items():
        value = values.get(name)
        if isinstance(value, models.Model) and not allows(actor, value, action):
            label = field_labels(model).get(name, name)
            raise NotAllowed(
                "related_out_of_scope",
                _("所选%(label)s“%(value)s”不在您的范围内") % {"label": label, "value": value},
            )


def _differs(obj: models.Model, name: str, value: Any) -> bool:
    field = obj._meta.get_field(name)
    current = getattr(obj, field.attname)
    if isinstance(field, models.ForeignKey):
        value = value.pk if isinstance(value, models.Model) else value
    return current != value


def _check_fields(model: type[models.Model], values: Mapping[str, Any], allowed: Sequence[str]):
    unknown = sorted(set(values) - set(allowed))
    if unknown:
        raise ServiceError(
            "unknown_field",
            _("不能通过此操作修改的字段：%(fields)s") % {"fields": "、".join(unknown)},
            field=unknown[0],
        )


def validate(obj: models.Model) -> None:
    """The model's own rules (field validators, ``clean``, unique keys, constraints)."""
    try:
        obj.full_clean()
    except ValidationError as error:
        raise InvalidInput.from_validation_error(type(obj), error) from None


def edit_object(
    model: type[M],
    obj: M,
    *,
    actor,
    version: int | None,
    changes: Mapping[str, Any],
    allowed: Sequence[str],
    related: Mapping[str, str] | None = None,
    rules: Callable[[M], None] | None = None,
    reason: str = "",
    extra: Callable[[M], str] | None = None,
) -> M:
    """Change some fields of ``obj`` (call inside ``transaction.atomic``).

    ``rules(obj)`` checks what the model cannot (raising ``InvalidInput``); ``extra(obj)``
    writes related rows in the same transaction and returns a note for the history record
    (a change of units bumps the task's version even when no field of the task changed).
    """
    check_may_change(actor, obj)
    reason = checked_reason(reason) or ""
    _check_fields(model, changes, allowed)
    obj = lock_for_edit(model, obj.pk, version)
    changed = [name for name, value in changes.items() if _differs(obj, name, value)]
    # Only what the actor points the record at anew must be in reach; a value it already had
    # (a region set by the plan's authors) stays allowed.
    _related_checks(actor, model, {name: changes[name] for name in changed}, related or {})
    for name in changed:
        setattr(obj, name, changes[name])
    if rules is not None:
        rules(obj)
    validate(obj)
    note = extra(obj) if extra is not None else ""
    if changed or note:
        joined = clip_reason("；".join(filter(None, [reason, note])))
        save_versioned(obj, changed, actor=actor, reason=joined)
        if not allows(actor, obj, CHANGE):
            raise NotAllowed("moved_out_of_scope", MOVED_OUT)
    return obj


def create_object(
    model: type[M],
    *,
    actor,
    values: Mapping[str, Any],
    allowed: Sequence[str],
    within: models.Model,
    related: Mapping[str, str] | None = None,
    rules: Callable[[M], None] | None = None,
    reason: str = "",
) -> M:
    """Create a row inside ``within`` (the plan or region the actor must be able to change)."""
    require(actor, CHANGE)
    if not allows(actor, within, CHANGE):
        raise NotAllowed("out_of_scope", OUT_OF_SCOPE)
    reason = checked_reason(reason)
    _check_fields(model, values, allowed)
    _related_checks(actor, model, values, related or {})
    obj = model(**values)
    if rules is not None:
        rules(obj)
    validate(obj)
    attribute_change(obj, actor=actor, reason=reason or "")
    obj.save()
    if not allows(actor, obj, CHANGE):
        raise NotAllowed("moved_out_of_scope", MOVED_OUT)
    return obj
