"""The completeness page (填报完整性): figures owed against figures in, region (or lead unit)
× reporting period, for one plan. Staff, admins and supervisors only (``approve`` or
``export``); the numbers come from reports.completeness."""

from django.core.exceptions import PermissionDenied
from django.shortcuts import render
from django.utils.translation import gettext as _

from core.scope import APPROVE, CHANGE, EXPORT, can
from reports.completeness import BY_REGION, completeness
from reports.forms import CompletenessFilterForm
from targets.models import ReportingPeriod


def completeness_page(request):
    user = request.user
    if not (can(user, APPROVE) or can(user, EXPORT)):
        raise PermissionDenied(_("只有委员会办公室工作人员和督查考核人员可以查看填报完整性"))
    form = CompletenessFilterForm(request.GET or None, user=user)
    if form.is_bound and not form.is_valid():
        return _render(request, form, None, [], status=400)
    data = form.cleaned_data if form.is_bound else {}
    plan = data.get("plan") or _default_plan(form.fields["plan"].queryset)
    if not form.is_bound and plan is not None:
        form = CompletenessFilterForm(initial={"plan": plan.pk}, user=user)
    matrix, all_periods = None, []
    if plan is not None:
        all_periods = list(ReportingPeriod.objects.filter(plan=plan).order_by("period"))
        periods = all_periods
        code = data.get("period")
        if code:
            periods = [p for p in all_periods if p.period == code]
            if not periods:
                choices = "、".join(p.period for p in all_periods) or _("（尚未开放任何期间）")
                form.add_error(
                    "period",
                    _("该规划没有 %(code)s 期间，可选：%(choices)s")
                    % {"code": code, "choices": choices},
                )
                return _render(request, form, None, all_periods, status=400)
        matrix = completeness(user, plan, periods=periods, by=data.get("by") or BY_REGION)
    return _render(request, form, matrix, all_periods)


def _default_plan(plans):
    """The first plan in scope with a reporting period, else the first plan."""
    return plans.filter(reporting_periods__isnull=False).first() or plans.first()


def _render(request, form, matrix, all_periods, status: int = 200):
    context = {
        "form": form,
        "matrix": matrix,
        "all_periods": all_periods,
        "can_review": can(request.user, APPROVE),
        "can_open": can(request.user, CHANGE),
    }
    return render(request, "reports/completeness.html", context, status=status)
