"""History timelines (who, when, before → after) for an object's page, from
django-simple-history records: one query per object, users joined."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from decimal import Decimal

from django.utils import timezone

TYPE_LABELS = {"+": "创建", "~": "修改", "-": "删除"}
HIDDEN_FIELDS = {"version", "updated_at"}


@dataclass
class Change:
    field: str
    label: str
    old: str
    new: str


@dataclass
class HistoryEntry:
    when: object
    who: str
    action: str
    reason: str
    changes: list[Change] = field(default_factory=list)


def _display(record, name: str) -> str:
    value = getattr(record, name, None)
    if value is None or value == "":
        return "—"
    choices_display = getattr(record, f"get_{name}_display", None)
    if callable(choices_display):
        return str(choices_display())
    if isinstance(value, Decimal):
        return f"{value.normalize():f}"
    if isinstance(value, datetime.datetime):
        return f"{timezone.localtime(value):%Y-%m-%d %H:%M}"
    if isinstance(value, bool):
        return "是" if value else "否"
    return str(value)


def history_entries(obj, limit: int = 50) -> list[HistoryEntry]:
    records = list(
        obj.history.select_related("history_user").order_by("-history_date")[: limit + 1]
    )
    model = obj._meta
    entries = []
    for newer, older in zip(records, [*records[1:], None], strict=False):
        if len(entries) == limit:
            break
        user = newer.history_user
        entry = HistoryEntry(
            when=timezone.localtime(newer.history_date),
            who=(user.get_full_name() or user.username) if user else "系统",
            action=TYPE_LABELS.get(newer.history_type, newer.history_type),
            reason=newer.history_change_reason or "",
        )
        if older is not None and newer.history_type == "~":
            delta = newer.diff_against(older)
            for change in delta.changes:
                if change.field in HIDDEN_FIELDS:
                    continue
                try:
                    label = str(model.get_field(change.field).verbose_name)
                except Exception:
                    label = change.field
                entry.changes.append(
                    Change(
                        change.field,
                        label,
                        _display(older, change.field),
                        _display(newer, change.field),
                    )
                )
        entries.append(entry)
    return entries
