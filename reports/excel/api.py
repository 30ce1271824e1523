"""The Excel exports through the API (token or session), for the lead to route under
/api/v1/exports/ (see ``urlpatterns``). Same builders, forms, FilterSets and scope as the
pages; parameters as query strings; bad parameters are 400 in the API's error format.
"""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext as _
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import permissions, serializers
from rest_framework.exceptions import ValidationError
from rest_framework.views import APIView

from core.job_api import JobSerializer, queued_response
from core.scope import EXPORT, REPORT, VIEW, can
from planning.filtersets import TaskFilterSet
from planning.models import Task
from reports.excel import exporters, scoring
from reports.excel import jobs as excel_jobs
from reports.excel.forms import AssessmentForm, EvaluationForm, FiguresTemplateForm
from reports.excel.scoring import GROUP_BY_REGION, GROUP_BY_UNIT
from reports.excel.templates import figures_template, owed_rows, template_filename
from reports.excel_views import xlsx_response
from stations.filtersets import StationFilterSet
from stations.models import Station
from targets.filtersets import ProgressReportFilterSet
from targets.models import ProgressReport, ReportingPeriod

XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# Large exports run in the background: 202, ``Location`` = the job's status URL.
LEDGER_RESPONSES = {
    (200, XLSX_MEDIA_TYPE): OpenApiTypes.BINARY,
    202: OpenApiResponse(JobSerializer, description="已转入后台任务：轮询 Location / status_url"),
}


class RoleCan(permissions.BasePermission):
    """The view's ``action`` (export, report) for the user's role; scope is in the data."""

    def has_permission(self, request, view) -> bool:
        user = request.user
        return bool(user and user.is_authenticated and can(user, view.role_action))


# Every export answers an .xlsx workbook (documented so the schema names its body).
@extend_schema(responses={(200, XLSX_MEDIA_TYPE): OpenApiTypes.BINARY})
class XlsxView(APIView):
    permission_classes = [RoleCan]
    role_action = EXPORT

    def valid(self, form):
        if not form.is_valid():
            raise ValidationError({k: [str(e) for e in v] for k, v in form.errors.items()})
        return form.cleaned_data

    def filtered(self, filterset_class, queryset):
        filterset = filterset_class(self.request.GET, queryset=queryset, request=self.request)
        if filterset.is_bound and not filterset.is_valid():
            raise ValidationError({k: [str(e) for e in v] for k, v in filterset.errors.items()})
        return filterset.qs


class FilteredXlsxView(XlsxView):
    """A list page's rows in the user's scope, filtered by the page's FilterSet; its filters
    are the query parameters (``filter_backends`` and ``queryset`` name them for the schema:
    the rows come from ``rows``)."""

    filterset_class = None
    queryset = None
    filter_backends = [DjangoFilterBackend]

    ledger = ""  # reports.excel.jobs.LEDGERS

    def rows(self):
        model = self.queryset.model
        return self.filtered(self.filterset_class, model.objects.for_user(self.request.user, VIEW))

    @extend_schema(responses=LEDGER_RESPONSES)
    def get(self, request):
        """The workbook, or above ``JOB_EXPORT_THRESHOLD`` rows 202 and a job to poll."""
        ledger = excel_jobs.LEDGERS[self.ledger]
        rows = self.rows()
        job = excel_jobs.export_ledger_in_background(
            ledger, rows, user=request.user, query=request.GET
        )
        if job is not None:
            return queued_response(job, request)
        return _response(ledger.build(rows), ledger.filename())


# The forms' fields, as the schema's query parameters (the forms validate them).
class AssessmentQuery(serializers.Serializer):
    plan = serializers.IntegerField(help_text="规划 id（范围内）")
    year = serializers.IntegerField(
        min_value=1949, max_value=2100, help_text="考核年度（须在规划期内）"
    )
    by = serializers.ChoiceField(
        choices=[(GROUP_BY_REGION, "按区县"), (GROUP_BY_UNIT, "按牵头单位")],
        required=False,
        help_text="分表方式：region 按区县（默认，每个区县一张表）/ unit 按牵头单位",
    )


class EvaluationQuery(serializers.Serializer):
    plan = serializers.IntegerField(help_text="规划 id（范围内）")
    on = serializers.DateField(required=False, help_text="评估日期 YYYY-MM-DD（默认今天）")


class FiguresTemplateQuery(serializers.Serializer):
    plan = serializers.IntegerField(help_text="规划 id（范围内）")
    region = serializers.IntegerField(help_text="填报区划 id（您的填报范围内）")
    period = serializers.CharField(
        max_length=6, help_text="填报期间（须已开放）：年度 2024，半年 2024H1，季度 2024Q3"
    )


def _stamp() -> str:
    return f"{timezone.localtime():%Y%m%d}"


def _response(workbook, filename):
    return xlsx_response(workbook, filename)


@extend_schema(parameters=[AssessmentQuery])
class AssessmentExport(XlsxView):
    """GET ?plan=&year=&by=region|unit → the 考核表 workbook."""

    @extend_schema(responses=LEDGER_RESPONSES)
    def get(self, request):
        data = self.valid(AssessmentForm(request.GET, user=request.user))
        job = excel_jobs.export_assessment_in_background(
            data["plan"], data["year"], data["by"], user=request.user
        )
        if job is not None:
            return queued_response(job, request)
        result = scoring.build_assessment(
            data["plan"], data["year"], user=request.user, by=data["by"]
        )
        name = excel_jobs.assessment_filename(data["plan"], data["year"])
        return _response(exporters.assessment_workbook(result), name)


@extend_schema(parameters=[EvaluationQuery])
class EvaluationExport(XlsxView):
    """GET ?plan=&on=YYYY-MM-DD → the evaluation table (中期评估)."""

    def get(self, request):
        data = self.valid(EvaluationForm(request.GET, user=request.user))
        on = data["on"] or timezone.localdate()
        rows = scoring.build_evaluation(data["plan"], user=request.user, on=on)
        workbook = exporters.evaluation_workbook(data["plan"], rows, on=on)
        return _response(workbook, f"{data['plan'].title}_实施评估_{on:%Y%m%d}.xlsx")


@extend_schema(filters=True)
class TaskLedgerExport(FilteredXlsxView):
    """GET with the task list's filters → 任务台账."""

    filterset_class = TaskFilterSet
    queryset = Task.objects.none()

    ledger = "tasks"


@extend_schema(filters=True)
class StationRegisterExport(FilteredXlsxView):
    """GET with the station register's filters → 消防站台账."""

    filterset_class = StationFilterSet
    queryset = Station.objects.none()

    ledger = "stations"


@extend_schema(filters=True)
class ReportLedgerExport(FilteredXlsxView):
    """GET with the report list's filters → 填报记录."""

    filterset_class = ProgressReportFilterSet
    queryset = ProgressReport.objects.none()

    ledger = "reports"


@extend_schema(parameters=[FiguresTemplateQuery])
class FiguresTemplateExport(XlsxView):
    """GET ?plan=&region=&period= → the yearly figures template (liaisons and staff)."""

    role_action = REPORT

    def get(self, request):
        data = self.valid(FiguresTemplateForm(request.GET, user=request.user))
        plan, region, period = data["plan"], data["region"], data["period"]
        reporting_period = ReportingPeriod.objects.filter(plan=plan, period=period).first()
        if reporting_period is None:
            message = _("%(plan)s 的 %(period)s 期间尚未开放填报")
            raise ValidationError({"period": [message % {"plan": plan.title, "period": period}]})
        rows = owed_rows(request.user, plan, region, period)
        if not rows:
            message = _("%(region)s 在 %(period)s 期间没有需要您填报的指标")
            raise ValidationError({"region": [message % {"region": region.name, "period": period}]})
        workbook = figures_template(
            rows, plan=plan, region=region, period=period, user=request.user,
            reporting_period=reporting_period,
        )  # fmt: skip
        return _response(workbook, template_filename(plan, region, period))


def urlpatterns_for_api():
    """Paths to include under /api/v1/ (``path("v1/exports/", include(...))``)."""
    from django.urls import path

    return [
        path("assessment/", AssessmentExport.as_view(), name="api_export_assessment"),
        path("evaluation/", EvaluationExport.as_view(), name="api_export_evaluation"),
        path("tasks/", TaskLedgerExport.as_view(), name="api_export_tasks"),
        path("stations/", StationRegisterExport.as_view(), name="api_export_stations"),
        path("reports/", ReportLedgerExport.as_view(), name="api_export_reports"),
        path("figures-template/", FiguresTemplateExport.as_view(), name="api_export_template"),
    ]


urlpatterns = urlpatterns_for_api()
