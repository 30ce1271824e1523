"""Excel pages (/excel/): the figures template, upload → preview → commit, the assessment
sheet (考核表) and its scoring rules, the evaluation table (中期评估) and the ledgers.

Views parse input, check the role (403) and the scope (404), and call the builders in
reports.excel; the import writes through reports.excel.importers, which calls
targets.services. Downloads stream the finished workbook from a temporary file (the exports
are written by XlsxWriter in constant-memory mode, the template by openpyxl write-only).
"""

from __future__ import annotations

from collections import OrderedDict
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import FileResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from core.once import once_per_form
from core.scope import CHANGE, EXPORT, REPORT, VIEW, can, require, scope_of
from core.services import NotAllowed, ServiceError
from planning.models import Plan
from reports.excel import exporters, importers, scoring
from reports.excel import jobs as excel_jobs
from reports.excel.forms import (
    AssessmentForm,
    CommitForm,
    EvaluationForm,
    FiguresTemplateForm,
    FiguresUploadForm,
    PenaltyForm,
    SchemeForm,
)
from reports.excel.templates import figures_template, owed_rows, template_filename
from reports.models import AssessmentScheme, Deduction, ImportBatch, ImportState, VetoItem
from targets.models import ReportingPeriod
from targets.owed import owed_items


def xlsx_response(workbook, filename: str) -> FileResponse:
    """Stream a finished workbook from a temporary file (memory stays flat)."""
    return FileResponse(
        exporters.save_workbook(workbook),
        as_attachment=True,
        filename=filename,
        content_type=exporters.XLSX_CONTENT_TYPE,
    )


def _stamp() -> str:
    return f"{timezone.localtime():%Y%m%d}"


# ------------------------------------------------------------------------------ home


def excel_home(request):
    user = request.user
    if not (can(user, REPORT) or can(user, EXPORT)):
        raise PermissionDenied(
            _("只有填报人员、委员会办公室工作人员和督查考核人员可以使用 Excel 导入导出")
        )
    return render(request, "reports/excel_home.html", _home_context(request))


def _home_context(request, **extra) -> dict:
    user = request.user
    context = {
        "can_report": can(user, REPORT),
        "can_export": can(user, EXPORT),
        "can_change": can(user, CHANGE),
        "template_form": FiguresTemplateForm(
            user=user, initial=_template_initial(user), auto_id="template_%s"
        ),
        "upload_form": FiguresUploadForm(
            user=user, initial=_template_initial(user), auto_id="upload_%s"
        ),
        "assessment_form": AssessmentForm(user=user, auto_id="assessment_%s"),
        "evaluation_form": EvaluationForm(user=user, auto_id="evaluation_%s"),
        "owed": _owed_templates(user) if can(user, REPORT) else [],
        "open_periods": list(
            ReportingPeriod.objects.filter(plan__in=Plan.objects.for_user(user, VIEW))
            .values_list("period", flat=True)
            .distinct()
            .order_by("-period")
        ),
        "batches": list(
            ImportBatch.objects.filter(uploaded_by=user)
            .select_related("plan", "region")
            .order_by("-uploaded_at")[:10]
        ),
        "plans": list(
            Plan.objects.for_user(user, VIEW).order_by("region__name", "-start_year", "pk")
        ),
    }
    context.update(extra)
    return context


def _template_initial(user) -> dict:
    region_id = scope_of(user).region_id
    return {"region": region_id} if region_id else {}


def _owed_templates(user) -> list[dict]:
    """What the user owes, one line per plan × region × period, with a template link."""
    groups: OrderedDict[tuple, dict] = OrderedDict()
    for item in owed_items(user):
        if item.locked:
            continue
        plan = item.target.plan
        key = (plan.pk, item.region_id, item.reporting_period.period)
        entry = groups.setdefault(
            key,
            {
                "plan": plan,
                "region_name": item.region_name,
                "period": item.reporting_period,
                "owed": 0,
                "done": 0,
                "query": urlencode({"plan": plan.pk, "region": item.region_id, "period": key[2]}),
            },
        )
        entry["owed"] += 1
        entry["done"] += item.state in ("submitted", "approved")
    return list(groups.values())


# ------------------------------------------------------------------------------ template


def figures_template_download(request):
    require(request.user, REPORT)
    form = FiguresTemplateForm(request.GET or None, user=request.user, auto_id="template_%s")
    if not form.is_valid():
        context = _home_context(request, template_form=form)
        return render(request, "reports/excel_home.html", context, status=400)
    plan, region, period = (form.cleaned_data[k] for k in ("plan", "region", "period"))
    reporting_period = ReportingPeriod.objects.filter(plan=plan, period=period).first()
    if reporting_period is None:
        form.add_error(
            "period",
            _("%(plan)s 的 %(period)s 期间尚未开放填报") % {"plan": plan.title, "period": period},
        )
        context = _home_context(request, template_form=form)
        return render(request, "reports/excel_home.html", context, status=400)
    rows = owed_rows(request.user, plan, region, period)
    if not rows:
        form.add_error(
            None,
            _("%(region)s 在 %(period)s 期间没有需要您填报的指标")
            % {"region": region.name, "period": period},
        )
        context = _home_context(request, template_form=form)
        return render(request, "reports/excel_home.html", context, status=400)
    workbook = figures_template(
        rows,
        plan=plan,
        region=region,
        period=period,
        user=request.user,
        reporting_period=reporting_period,
    )
    return xlsx_response(workbook, template_filename(plan, region, period))


# ------------------------------------------------------------------------------ import


def figures_upload(request):
    require(request.user, REPORT)
    if request.method != "POST":
        return redirect("reports:excel_home")
    form = FiguresUploadForm(request.POST, request.FILES, user=request.user, auto_id="upload_%s")
    if not form.is_valid():
        context = _home_context(request, upload_form=form)
        return render(request, "reports/excel_home.html", context, status=400)
    data = form.cleaned_data
    upload = data["file"]
    if upload.size > importers.MAX_BYTES:
        # Refused before the content is read into memory.
        form.add_error(
            "file",
            _("文件大小 %(size)s MB，超过上限 %(limit)s MB")
            % {
                "size": f"{upload.size / importers.MiB:.1f}",
                "limit": f"{importers.MAX_BYTES / importers.MiB:.0f}",
            },
        )
        context = _home_context(request, upload_form=form)
        return render(request, "reports/excel_home.html", context, status=400)
    content = upload.read()
    try:
        preview = importers.preview_upload(
            content,
            upload.name,
            actor=request.user,
            plan=data["plan"],
            region=data["region"],
            period=data["period"],
            mode=data["mode"],
        )
        batch = (
            None
            if preview.errors
            else importers.create_batch(preview, content, upload.name, actor=request.user)
        )
    except ServiceError as error:
        form.add_error("file", error.message)
        context = _home_context(request, upload_form=form)
        status = 403 if isinstance(error, NotAllowed) else 400
        return render(request, "reports/excel_home.html", context, status=status)
    return _render_preview(request, preview, batch, upload.name)


def _render_preview(request, preview, batch, name, *, form=None, status=None):
    context = {
        "preview": preview,
        "batch": batch,
        "name": name,
        "form": form or CommitForm(),
        "mode_label": _("提交审核") if preview.mode == importers.SUBMIT else _("保存为草稿"),
    }
    if status is None:
        status = 400 if preview.errors else 200
    return render(request, "reports/excel_preview.html", context, status=status)


def _own_batch(request, pk: int) -> ImportBatch:
    return get_object_or_404(
        ImportBatch.objects.select_related("plan", "region"), pk=pk, uploaded_by=request.user
    )


def figures_preview(request, pk: int):
    """A stored upload, previewed again against the database as it is now."""
    require(request.user, REPORT)
    batch = _own_batch(request, pk)
    if batch.state == ImportState.COMMITTED:
        messages.info(request, _("“%(name)s”已于导入完成") % {"name": batch.original_name})
        return redirect("reports:excel_home")
    with batch.file.open("rb") as handle:
        content = handle.read()
    try:
        preview = importers.preview_upload(
            content,
            batch.original_name,
            actor=request.user,
            plan=batch.plan,
            region=batch.region,
            period=batch.period,
            mode=batch.summary.get("mode", importers.SUBMIT),
        )
    except ServiceError as error:
        messages.error(request, error.message)
        return redirect("reports:excel_home")
    return _render_preview(request, preview, batch, batch.original_name)


@require_POST
@once_per_form
def figures_commit(request, pk: int):
    require(request.user, REPORT)
    batch = _own_batch(request, pk)
    form = CommitForm(request.POST)
    if not form.is_valid():
        return redirect("reports:excel_preview", pk=batch.pk)
    job = (
        excel_jobs.commit_in_background(
            batch, user=request.user, confirm_note=form.cleaned_data["confirm_note"]
        )
        if batch.state != ImportState.COMMITTED
        else None
    )
    if job is not None:  # a large workbook: all rows or none, in the worker
        return redirect("core:job_detail", pk=job.pk)
    try:
        result = importers.commit_batch(
            batch.pk, actor=request.user, confirm_note=form.cleaned_data["confirm_note"]
        )
    except ServiceError as error:
        messages.error(request, error.message)
        return redirect("reports:excel_preview", pk=batch.pk)
    verb = _("提交") if batch.summary.get("mode") == importers.SUBMIT else _("保存")
    bases_note = (
        _("基础数据 %(count)s 项，") % {"count": len(result.bases_written)}
        if result.bases_written
        else ""
    )
    messages.success(
        request,
        _(
            "已导入“%(name)s”：%(verb)s %(written)s 条，"
            "%(bases)s未变 %(unchanged)s 条。文件已作为佐证材料保存。"
        )
        % {
            "name": batch.original_name,
            "verb": verb,
            "written": len(result.written),
            "bases": bases_note,
            "unchanged": result.unchanged,
        },
    )
    return redirect("reports:excel_home")


# ------------------------------------------------------------------------------ 考核表


def assessment(request):
    """The 考核表 on a page; ``?export=xlsx`` downloads it."""
    require(request.user, EXPORT)
    form = AssessmentForm(request.GET or None, user=request.user)
    if not form.is_bound or not form.is_valid():
        status = 400 if form.is_bound else 200
        return render(request, "reports/excel_assessment.html", {"form": form}, status=status)
    plan = form.cleaned_data["plan"]  # offered from the user's scope only
    year, by = form.cleaned_data["year"], form.cleaned_data["by"]
    if request.GET.get("export") == "xlsx":
        job = excel_jobs.export_assessment_in_background(plan, year, by, user=request.user)
        if job is not None:
            return redirect("core:job_detail", pk=job.pk)
    result = scoring.build_assessment(plan, year, user=request.user, by=by)
    if request.GET.get("export") == "xlsx":
        workbook = exporters.assessment_workbook(result)
        return xlsx_response(workbook, excel_jobs.assessment_filename(plan, year))
    context = {
        "form": form,
        "assessment": result,
        "groups": [result.overall, *result.groups],
        "export_query": urlencode({"plan": plan.pk, "year": year, "by": by, "export": "xlsx"}),
        "can_edit_rules": can(request.user, CHANGE) and _may_change(request.user, plan),
    }
    return render(request, "reports/excel_assessment.html", context)


def _may_change(user, plan: Plan) -> bool:
    return Plan.objects.for_user(user, CHANGE).filter(pk=plan.pk).exists()


def scheme_edit(request, plan_id: int, year: int):
    """The scoring rules of a plan and year: points, basis, deductions, veto items."""
    require(request.user, CHANGE)
    plan = get_object_or_404(Plan.objects.for_user(request.user, VIEW), pk=plan_id)
    if not _may_change(request.user, plan):
        raise PermissionDenied(_("该规划在您的管理范围之外，只能查看"))
    if request.method == "POST":
        return _scheme_post(request, plan, year)
    scheme = AssessmentScheme.objects.filter(plan=plan, year=year).first()
    return _render_scheme(request, plan, year, scheme)


def _render_scheme(request, plan, year, scheme, *, form=None, penalty_form=None, status=200):
    if form is None and scheme is not None:
        form = SchemeForm(
            initial={
                "version": scheme.version,
                **{name: getattr(scheme, name) for name in scoring.SCHEME_FIELDS},
                "basis": scheme.basis,
                "note": scheme.note,
            }
        )
    context = {
        "plan": plan,
        "year": year,
        "scheme": scheme,
        "form": form,
        "penalty_form": penalty_form or PenaltyForm(user=request.user, plan=plan),
        "deductions": (
            Deduction.objects.filter(scheme=scheme).select_related("region", "unit")
            if scheme
            else []
        ),
        "vetoes": (
            VetoItem.objects.filter(scheme=scheme).select_related("region", "unit")
            if scheme
            else []
        ),
        "bands": scheme.bands.all() if scheme else [],
        "assessment_query": urlencode({"plan": plan.pk, "year": year}),
    }
    return render(request, "reports/excel_scheme.html", context, status=status)


def _scheme_post(request, plan, year):
    action = request.POST.get("action", "")
    back = reverse("reports:excel_scheme", args=[plan.pk, year])
    try:
        if action == "create":
            scoring.ensure_scheme(plan, year, actor=request.user)
            messages.success(
                request, _("已建立 %(year)s 年度考核方案（默认分值和等级）") % {"year": year}
            )
            return redirect(back)
        scheme = get_object_or_404(AssessmentScheme, plan=plan, year=year)
        if action == "update":
            form = SchemeForm(request.POST)
            if not form.is_valid():
                return _render_scheme(request, plan, year, scheme, form=form, status=400)
            data = form.cleaned_data
            scoring.update_scheme(
                scheme, actor=request.user, version=data.pop("version"), changes=data
            )
            messages.success(request, _("已保存考核方案"))
        elif action in ("deduction", "veto"):
            penalty = PenaltyForm(request.POST, user=request.user, plan=plan)
            if not penalty.is_valid():
                return _render_scheme(request, plan, year, scheme, penalty_form=penalty, status=400)
            data = penalty.cleaned_data
            owner = {"region": data["region"], "unit": data["unit"]}
            if action == "deduction":
                if data["points"] is None:
                    penalty.add_error("points", _("扣分项请填写扣分"))
                    return _render_scheme(
                        request, plan, year, scheme, penalty_form=penalty, status=400
                    )
                scoring.add_deduction(
                    scheme, actor=request.user, reason=data["text"], points=data["points"], **owner
                )
                messages.success(request, _("已登记扣分项"))
            else:
                scoring.add_veto(
                    scheme,
                    actor=request.user,
                    title=data["text"],
                    occurred_on=data["occurred_on"],
                    **owner,
                )
                messages.success(request, _("已登记一票否决事项"))
        elif action in ("remove_deduction", "remove_veto"):
            model = Deduction if action == "remove_deduction" else VetoItem
            raw = request.POST.get("pk", "")
            row = get_object_or_404(model, scheme=scheme, pk=int(raw) if raw.isdigit() else 0)
            scoring.remove_penalty(row, actor=request.user)
            messages.success(request, _("已删除"))
        else:
            messages.error(request, _("未知操作"))
    except NotAllowed as error:
        raise PermissionDenied(error.message) from None
    except ServiceError as error:
        messages.error(request, error.message)
    return redirect(back)


# ------------------------------------------------------------------------------ 中期评估


def evaluation(request):
    """The evaluation table on a page; ``?export=xlsx`` downloads it."""
    require(request.user, EXPORT)
    form = EvaluationForm(request.GET or None, user=request.user)
    if not form.is_bound or not form.is_valid():
        status = 400 if form.is_bound else 200
        return render(request, "reports/excel_evaluation.html", {"form": form}, status=status)
    plan = form.cleaned_data["plan"]  # offered from the user's scope only
    on = form.cleaned_data["on"] or timezone.localdate()
    rows = scoring.build_evaluation(plan, user=request.user, on=on)
    if request.GET.get("export") == "xlsx":
        workbook = exporters.evaluation_workbook(plan, rows, on=on)
        return xlsx_response(workbook, f"{plan.title}_实施评估_{on:%Y%m%d}.xlsx")
    context = {
        "form": form,
        "plan": plan,
        "on": on,
        "rows": rows,
        "export_query": urlencode({"plan": plan.pk, "on": on.isoformat(), "export": "xlsx"}),
    }
    return render(request, "reports/excel_evaluation.html", context)


# ------------------------------------------------------------------------------ ledgers
# Each ledger takes the same query parameters, FilterSet and scope as the page (or API list)
# it comes from; ``*_export`` helpers let those pages answer ``?export=xlsx`` themselves.


def _bad_filter(request, filterset):
    fields = filterset.form.fields
    problems = [
        _("%(label)s：%(errors)s")
        % {"label": fields[name].label if name in fields else name, "errors": "；".join(errors)}
        for name, errors in filterset.errors.items()
    ]
    context = {"problems": problems}
    return render(request, "reports/excel_bad_filter.html", context, status=400)


def _ledger_export(request, key: str, queryset=None):
    """The ledger in the request, or — above ``JOB_EXPORT_THRESHOLD`` rows — a background
    job, whose page (progress, 取消, then the download) the browser is sent to."""
    require(request.user, EXPORT)
    ledger = excel_jobs.LEDGERS[key]
    if queryset is None:
        queryset, filterset = excel_jobs.ledger_rows(ledger, request.user, request.GET)
        if queryset is None:
            return _bad_filter(request, filterset)
    job = excel_jobs.export_ledger_in_background(
        ledger, queryset, user=request.user, query=request.GET
    )
    if job is not None:
        return redirect("core:job_detail", pk=job.pk)
    return xlsx_response(ledger.build(queryset), ledger.filename())


def task_ledger_export(request, queryset=None):
    return _ledger_export(request, "tasks", queryset)


def station_register_export(request, queryset=None):
    return _ledger_export(request, "stations", queryset)


def report_ledger_export(request, queryset=None):
    return _ledger_export(request, "reports", queryset)
