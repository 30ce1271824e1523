"""简报 (issue 21): one printable A4 page for a meeting — the overview's charts and the five
most lagging binding targets, for every plan in scope, a plan or a region, at a date
(``?on=YYYY-MM-DD``; ``?since=`` starts 「本月变化」). The browser prints it (print CSS in
static/reports/briefing.css); the numbers come from reports.charts, as the API's."""

from __future__ import annotations

import datetime
from urllib.parse import urlencode

from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from core.editing import visible_or_404
from core.models import Region
from planning.models import Plan
from reports import charts


def _dates(request) -> tuple[datetime.date, datetime.date | None, list[str]]:
    """``on`` (today when absent) and ``since`` from the query string; a bad one is said and
    left out (the page still answers)."""
    found, errors = {}, []
    for name in ("on", "since"):
        raw = request.GET.get(name, "").strip()
        if not raw:
            continue
        try:
            found[name] = datetime.date.fromisoformat(raw)
        except ValueError:
            errors.append(
                _("日期“%(value)s”无法识别，应为 YYYY-MM-DD，已改用默认日期") % {"value": raw}
            )
    return found.get("on") or timezone.localdate(), found.get("since"), errors


def _render(request, *, title, subject, data, api_url, on, since, errors):
    query = {"on": on.isoformat()}
    if since:
        query["since"] = since.isoformat()
    return render(
        request,
        "reports/briefing.html",
        {
            "title": title,
            "subject": subject,
            "charts": data,
            "charts_url": f"{api_url}?{urlencode(query)}",
            "on": on,
            "errors": errors,
            "open_tables": True,
            "printed_at": timezone.localtime(),
        },
    )


def overview_briefing(request):
    on, since, errors = _dates(request)
    data = charts.for_overview(request.user, on=on, since=since)
    return _render(
        request,
        title=_("简报：全部规划"),
        subject=_("范围内全部规划"),
        data=data,
        api_url=reverse("api_overview_charts"),
        on=on,
        since=since,
        errors=errors,
    )


def plan_briefing(request, pk: int):
    plan = visible_or_404(request, Plan.objects.select_related("region"), pk)
    on, since, errors = _dates(request)
    data = charts.for_plan(request.user, plan, on=on, since=since)
    return _render(
        request,
        title=_("简报：%(title)s") % {"title": plan.title},
        subject=plan.title,
        data=data,
        api_url=reverse("plan-charts", args=[plan.pk]),
        on=on,
        since=since,
        errors=errors,
    )


def region_briefing(request, pk: int):
    region = visible_or_404(request, Region.objects.select_related("parent"), pk)
    on, since, errors = _dates(request)
    data = charts.for_region(request.user, region, on=on, since=since)
    return _render(
        request,
        title=_("简报：%(name)s") % {"name": region.name},
        subject=region.name,
        data=data,
        api_url=reverse("region-charts", args=[region.pk]),
        on=on,
        since=since,
        errors=errors,
    )
