"""Reporting periods and locks (填报期间): the list per plan, opening a period (or changing its
dates), and re-opening a locked period for one region.

Views parse input and call targets.services. Everyone may read the deadlines of the plans
in their scope; opening periods and granting exceptions needs ``change`` on the plan (403
without the role, 404 for a period outside the scope).
"""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from core.scope import CHANGE, VIEW, can, require
from core.services import NotAllowed, ServiceError
from planning.choices import PlanStatus
from planning.models import Plan
from reports.forms import LockExceptionForm, PeriodOpenForm
from targets import services
from targets.models import LockException, ReportingPeriod
from targets.owed import past_lock_date


def _add_error(form, error: ServiceError) -> None:
    form.add_error(error.field if error.field in form.fields else None, error.message)


def period_list(request):
    require(request.user, VIEW)
    today = timezone.localdate()
    # Queries: the plans in scope; their periods; the lock exceptions in scope (with region
    # and granting user); the ids of the plans the user may change.
    exceptions = (
        LockException.objects.for_user(request.user)
        .select_related("region", "granted_by")
        .order_by("region__name")
    )
    periods = ReportingPeriod.objects.order_by("-period").prefetch_related(
        Prefetch("exceptions", queryset=exceptions)
    )
    plans = (
        Plan.objects.for_user(request.user)
        .exclude(status=PlanStatus.REFERENCE)
        .select_related("region")
        .prefetch_related(Prefetch("reporting_periods", queryset=periods))
        .order_by("region__name", "-start_year", "title")
    )
    selected = request.GET.get("plan", "")
    if selected.isdigit():
        plans = plans.filter(pk=int(selected))
    changeable = (
        set(Plan.objects.for_user(request.user, CHANGE).values_list("pk", flat=True))
        if can(request.user, CHANGE)
        else set()
    )
    rows = [
        {
            "plan": plan,
            "changeable": plan.pk in changeable,
            "periods": [
                {
                    "period": period,
                    "state": _state(period, today),
                    "exceptions": [(e, e.until >= today) for e in period.exceptions.all()],
                }
                for period in plan.reporting_periods.all()
            ],
        }
        for plan in plans
    ]
    return render(request, "reports/period_list.html", {"rows": rows, "today": today})


def _state(period: ReportingPeriod, today) -> tuple[str, str]:
    """(label, Bootstrap colour) of a period at ``today``."""
    if today <= period.due_on:
        days = (period.due_on - today).days
        if not days:
            return (_("填报中（今日截止）"), "success")
        return (_("填报中（%(days)s 天后截止）") % {"days": days}, "success")
    if not past_lock_date(period, today):  # the lock date: targets.owed, the one rule
        return (_("已过截止，锁定前可补报"), "warning")
    return (_("已锁定"), "secondary")


def period_open(request):
    """Open a period on a plan, or change the dates of one already open."""
    require(request.user, CHANGE)
    if request.method == "POST":
        form = PeriodOpenForm(request.POST, actor=request.user)
    else:
        initial = {key: request.GET[key] for key in ("plan", "period") if key in request.GET}
        existing = None
        if initial.get("plan", "").isdigit() and "period" in initial:
            existing = (
                ReportingPeriod.objects.for_user(request.user, CHANGE)
                .filter(plan_id=int(initial["plan"]), period=initial["period"])
                .first()
            )
        if existing is not None:
            initial |= {"due_on": existing.due_on, "locks_on": existing.locks_on}
        form = PeriodOpenForm(initial=initial, actor=request.user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        existed = ReportingPeriod.objects.filter(plan=data["plan"], period=data["period"]).exists()
        try:
            found = services.open_period(
                actor=request.user,
                plan=data["plan"],
                period=data["period"],
                due_on=data["due_on"],
                locks_on=data["locks_on"],
            )
        except NotAllowed as error:
            raise PermissionDenied(error.message) from None
        except ServiceError as error:
            _add_error(form, error)
        else:
            verb = _("已修改") if existed else _("已开放")
            messages.success(
                request,
                _("%(verb)s %(period)s 期间：%(due_on)s 截止，%(locks_on)s 后锁定")
                % {
                    "verb": verb,
                    "period": found.period,
                    "due_on": f"{found.due_on:%Y-%m-%d}",
                    "locks_on": f"{found.locks_on:%Y-%m-%d}",
                },
            )
            return redirect(f"{reverse('reports:period_list')}?plan={found.plan_id}")
    return render(
        request, "reports/period_form.html", {"form": form}, status=400 if form.errors else 200
    )


def lock_exception_grant(request, pk: int):
    """Re-open a locked period for one region until a date."""
    require(request.user, CHANGE)
    reporting_period = get_object_or_404(
        ReportingPeriod.objects.for_user(request.user, CHANGE).select_related("plan"), pk=pk
    )
    form = LockExceptionForm(
        request.POST or None, actor=request.user, reporting_period=reporting_period
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            exception = services.grant_lock_exception(
                actor=request.user,
                reporting_period=reporting_period,
                region=data["region"],
                until=data["until"],
                reason=data["reason"],
            )
        except NotAllowed as error:
            raise PermissionDenied(error.message) from None
        except ServiceError as error:
            _add_error(form, error)
        else:
            messages.success(
                request,
                _("已为%(region)s开放 %(period)s 期间填报，至 %(until)s")
                % {
                    "region": exception.region.name,
                    "period": reporting_period.period,
                    "until": f"{exception.until:%Y-%m-%d}",
                },
            )
            return redirect(f"{reverse('reports:period_list')}?plan={reporting_period.plan_id}")
    context = {"form": form, "reporting_period": reporting_period}
    return render(
        request,
        "reports/period_exception_form.html",
        context,
        status=400 if form.errors else 200,
    )
