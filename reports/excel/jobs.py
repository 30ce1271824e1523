"""The Excel work that runs as a background job (core.jobs) when it is large: the ledgers
(任务台账, 消防站台账, 填报记录) above ``JOB_EXPORT_THRESHOLD`` rows, the 考核表 of a plan
with more than that many items, and the commit of a figures workbook above
``JOB_IMPORT_THRESHOLD`` rows. Pages and the API call the same entry points; below the
thresholds they answer in the request as before.

A job keeps what the request said (the query string, the plan and year, the batch), not the
rows: the worker builds them again as the owner, with the same FilterSet and scope, so the
file holds what the owner may see when it is built. Registered in ``ReportsConfig.ready``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from types import SimpleNamespace

from django.conf import settings
from django.db.models import Model, QuerySet
from django.http import QueryDict
from django.utils import timezone
from django.utils.translation import gettext as _

from core.jobs import JobOutput, Progress, register, start_job
from core.models import Job
from core.scope import VIEW
from core.services import ServiceError
from planning.filtersets import TaskFilterSet
from planning.models import Plan, Task
from reports.excel import exporters, importers, scoring
from stations.filtersets import StationFilterSet
from stations.models import Station
from targets.filtersets import ProgressReportFilterSet
from targets.models import Allocation, ProgressReport, Target

LEDGER_EXPORT = "ledger_export"
ASSESSMENT_EXPORT = "assessment_export"
FIGURES_IMPORT = "figures_import"


@dataclass(frozen=True)
class Ledger:
    key: str
    label: str
    model: type[Model]
    filterset: type
    build: Callable[..., object]

    def filename(self) -> str:
        return f"{self.label}_{timezone.localtime():%Y%m%d}.xlsx"


LEDGERS = {
    ledger.key: ledger
    for ledger in (
        Ledger("tasks", "任务台账", Task, TaskFilterSet, exporters.task_ledger_workbook),
        Ledger(
            "stations", "消防站台账", Station, StationFilterSet, exporters.station_register_workbook
        ),
        Ledger(
            "reports",
            "填报记录",
            ProgressReport,
            ProgressReportFilterSet,
            exporters.report_ledger_workbook,
        ),
    )
}


def ledger_rows(ledger: Ledger, user, query: QueryDict) -> tuple[QuerySet | None, object]:
    """The list's FilterSet over the user's scope; (None, filterset) when a filter is
    invalid (an export must not ignore a filter and hand out more than asked for)."""
    request = SimpleNamespace(user=user, GET=query)
    scoped = ledger.model.objects.for_user(user, VIEW)
    filterset = ledger.filterset(query, queryset=scoped, request=request)
    if filterset.is_bound and not filterset.is_valid():
        return None, filterset
    return filterset.qs, filterset


def _query(query: QueryDict) -> str:
    query = query.copy()
    query.pop("export", None)
    return query.urlencode()


def export_ledger_in_background(ledger: Ledger, queryset: QuerySet, *, user, query: QueryDict):
    """A job when the ledger has more rows than ``JOB_EXPORT_THRESHOLD``, else None (the
    caller builds it in the request). One count query decides."""
    total = queryset.count()
    if total <= settings.JOB_EXPORT_THRESHOLD:
        return None
    return start_job(
        owner=user,
        kind=LEDGER_EXPORT,
        title=_("%(label)s导出（%(rows)s 行）") % {"label": ledger.label, "rows": total},
        parameters={"ledger": ledger.key, "query": _query(query)},
        total=total,
    )


def _run_ledger_export(job: Job, progress: Progress) -> JobOutput:
    ledger = LEDGERS[job.parameters["ledger"]]
    query = QueryDict(job.parameters.get("query", ""))
    queryset, _filterset = ledger_rows(ledger, job.owner, query)
    if queryset is None:
        raise ServiceError("bad_filter", _("筛选条件已无效，请重新导出"))
    workbook = ledger.build(queryset, progress=progress)
    return JobOutput(exporters.save_workbook(workbook), ledger.filename())


def assessment_size(plan: Plan) -> int:
    """Items of a 考核表, estimated without scoring: the plan's targets × (its regions with
    an allocation + the plan itself) — what decides background or not."""
    regions = Allocation.objects.filter(target__plan=plan).values("region").distinct().count()
    return Target.objects.filter(plan=plan).count() * (1 + regions)


def assessment_filename(plan: Plan, year: int) -> str:
    return f"{plan.title}_{year}年度考核表_{timezone.localtime():%Y%m%d}.xlsx"


def export_assessment_in_background(plan: Plan, year: int, by: str, *, user):
    size = assessment_size(plan)
    if size <= settings.JOB_EXPORT_THRESHOLD:
        return None
    return start_job(
        owner=user,
        kind=ASSESSMENT_EXPORT,
        title=_("%(plan)s %(year)s 年度考核表导出") % {"plan": plan.title, "year": year},
        parameters={"plan": plan.pk, "year": year, "by": by},
        total=size,
    )


def _run_assessment_export(job: Job, progress: Progress) -> JobOutput:
    params = job.parameters
    plan = Plan.objects.for_user(job.owner, VIEW).filter(pk=params["plan"]).first()
    if plan is None:
        raise ServiceError("not_found", _("规划不存在或已不在您的范围内"))
    result = scoring.build_assessment(plan, params["year"], user=job.owner, by=params["by"])
    workbook = exporters.assessment_workbook(result, progress=progress)
    return JobOutput(exporters.save_workbook(workbook), assessment_filename(plan, params["year"]))


def batch_rows(batch) -> int:
    return sum(int(count) for count in (batch.summary.get("counts") or {}).values())


def commit_in_background(batch, *, user, confirm_note: str):
    """A job when the previewed workbook has more rows than ``JOB_IMPORT_THRESHOLD``."""
    rows = batch_rows(batch)
    if rows <= settings.JOB_IMPORT_THRESHOLD:
        return None
    return start_job(
        owner=user,
        kind=FIGURES_IMPORT,
        title=_("导入“%(name)s”（%(rows)s 行）") % {"name": batch.original_name, "rows": rows},
        parameters={"batch": batch.pk, "confirm_note": confirm_note},
        total=rows,
    )


def _run_figures_import(job: Job, progress: Progress) -> JobOutput:
    """The commit's one transaction holds inside the job: all rows or none."""
    result = importers.commit_batch(
        job.parameters["batch"],
        actor=job.owner,
        confirm_note=job.parameters.get("confirm_note", ""),
        progress=progress,
    )
    return JobOutput(
        message=_("已导入“%(name)s”：写入 %(written)s 条，未变 %(unchanged)s 条")
        % {
            "name": result.batch.original_name,
            "written": len(result.written),
            "unchanged": result.unchanged,
        }
    )


def register_jobs() -> None:
    register(LEDGER_EXPORT, _run_ledger_export, idempotent=True)
    register(ASSESSMENT_EXPORT, _run_assessment_export, idempotent=True)
    # Not re-run behind the user's back after a lost worker: its transaction was rolled back,
    # and the user decides (the batch is still there to commit again).
    register(FIGURES_IMPORT, _run_figures_import, idempotent=False)
