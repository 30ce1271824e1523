"""Status lights in templates, for targets and tasks alike (both carry a ``status`` code)."""

from django import template

from targets.choices import ProgressStatus
from targets.status import LIGHTS

register = template.Library()


@register.filter
def light(status: str | None) -> str:
    return LIGHTS.get(status, "grey") if status else "grey"


@register.filter
def status_label(status: str | None) -> str:
    if not status:
        return "不评价"
    try:
        return str(ProgressStatus(status).label)
    except ValueError:
        return status
