"""API endpoints for targets, milestones, allocations, reports, statistics and notices.

Querysets go through ``for_user`` (outside the scope → 404); the role check is
core.api.RoleAndScope; writes call targets.services, the same functions as the pages.
"""

from operator import itemgetter

from django.db import connections, router
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from accounts.models import Notice
from core.api import ETagMixin, FormParser, JSONParser, MultiPartParser
from core.api_rows import row_writer
from core.api_schema import IF_MATCH, IF_MATCH_REQUIRED
from core.api_views import LeanListMixin, ReadOnly, ServiceWriteViewSet, lean_lists
from core.evidence_views import download_url as evidence_download_url
from core.models import Evidence, Region
from core.scope import APPROVE, REPORT, VIEW
from core.services import ServiceError
from planning.api.views import LIFECYCLE_METHODS, LifecycleActions
from targets import bases, retire, services, upkeep
from targets.allocations import target_cascade
from targets.api.serializers import (
    AllocationSerializer,
    BaseFigureSerializer,
    BaseFigureWriteSerializer,
    EvidenceUploadSerializer,
    FireStatisticSerializer,
    FireStatisticWriteSerializer,
    MilestoneSerializer,
    MilestoneWriteSerializer,
    NoticeSerializer,
    ProgressReportSerializer,
    ProgressReportWriteSerializer,
    ReasonSerializer,
    ReportUpdateSerializer,
    StatusSerializer,
    TargetAdjustmentSerializer,
    TargetAdjustmentWriteSerializer,
    TargetCascadeSerializer,
    TargetSerializer,
    TargetSeriesSerializer,
    TargetWriteSerializer,
    VersionSerializer,
)
from targets.filtersets import (
    AllocationFilterSet,
    BaseFigureFilterSet,
    FireStatisticFilterSet,
    MilestoneFilterSet,
    ProgressReportFilterSet,
    TargetFilterSet,
)
from targets.formulas import FIRE_STATISTIC_FIELDS, normalize_name
from targets.judgement import Ask, judge
from targets.models import (
    Allocation,
    BaseFigure,
    FireStatistic,
    Milestone,
    ProgressReport,
    Target,
    TargetAdjustment,
)
from targets.scope_rules import sees_figures
from targets.series import target_series

# A review (approve, return) names the version the reviewer saw: If-Match, or ``version`` in
# the body; neither → 428 (documented by core.api_schema once the parameter is declared).
REVIEW_IF_MATCH = OpenApiParameter(
    "If-Match",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=False,
    description=IF_MATCH["description"] + "审核（通过、退回）必须给出其一；提交人本人审核 → 403"
    "（own_submission，FOUR_EYES 关闭时除外）。",
)


def progress_by_target(user, targets, *, on) -> dict:
    """The status engine's verdict for each target of a page (id → TargetProgress), in a
    fixed number of queries: the one place the API reads target statuses. Read from the
    stored judgement (``targets.judgement.judge``: current rows read in one query, the rest
    judged by the engine's batch path and stored), as the pages do.

    Each target is judged for its own region: no allocation is read (issue 9). A target set
    for a sibling region gets no progress (targets.scope_rules.sees_figures)."""
    targets = [t for t in targets if sees_figures(user, t.region_id)]
    asks = [Ask(target, on) for target in targets]
    judged = judge(asks)
    return {ask.target.pk: judged[ask.key] for ask in asks}


# StatusSerializer's representation of TargetProgress.as_dict(), compiled once.
status_row = row_writer(StatusSerializer(), mapping=True)


ON_PARAMETER = OpenApiParameter(
    "on", OpenApiTypes.DATE, description="状态引擎的判断日期 YYYY-MM-DD（默认今天）"
)


@extend_schema_view(
    list=extend_schema(parameters=[ON_PARAMETER]),
    retrieve=extend_schema(parameters=[ON_PARAMETER]),
)
class TargetViewSet(LifecycleActions, mixins.DestroyModelMixin, ServiceWriteViewSet):
    """主要指标：含年度节点与状态引擎结果。?on=YYYY-MM-DD 可指定判断日期。"""

    model = Target
    lifecycle = {
        "retire": retire.retire_target,
        "restore": retire.restore_target,
        "delete": retire.delete_target,
    }
    http_method_names = LIFECYCLE_METHODS
    serializer_class = TargetSerializer
    write_serializer_class = TargetWriteSerializer
    filterset_class = TargetFilterSet
    related = ("plan",)  # the status engine takes the plans from the targets
    prefetch = ("milestones",)  # the serializer's and the engine's milestones
    ordering = ("plan_id", "order", "pk")
    ordering_fields = ["order", "name", "target_year", "code"]

    def _on(self):
        raw = self.request.query_params.get("on")
        if not raw:
            return timezone.localdate()
        try:
            import datetime

            return datetime.date.fromisoformat(raw)
        except ValueError:
            raise ServiceError("invalid", _("on 应为 YYYY-MM-DD 格式的日期"), field="on") from None

    def _with_progress(self, targets):
        return progress_by_target(self.request.user, targets, on=self._on())

    def render_list(self, request, *args, **kwargs):
        if not lean_lists():
            queryset = self.filter_queryset(self.get_queryset())
            page = self.paginate_queryset(queryset)
            context = self.get_serializer_context() | {"progress": self._with_progress(page)}
            data = TargetSerializer(page, many=True, context=context).data
            return self.get_paginated_response(data)
        return super().render_list(request, *args, **kwargs)

    def lean_overrides(self, rows):
        progress = self._with_progress(rows)

        def judged(target):
            verdict = progress.get(target.pk)
            return status_row(verdict.as_dict()) if verdict else None

        return {"progress": judged}

    def retrieve(self, request, *args, **kwargs):
        target = self.get_object()
        context = self.get_serializer_context() | {"progress": self._with_progress([target])}
        response = Response(TargetSerializer(target, context=context).data)
        response["ETag"] = self.etag_of(target)
        return response

    def _respond(self, obj, code=status.HTTP_200_OK):
        obj = self.get_queryset().get(pk=obj.pk)
        context = self.get_serializer_context() | {"progress": self._with_progress([obj])}
        response = Response(TargetSerializer(obj, context=context).data, status=code)
        response["ETag"] = self.etag_of(obj)
        return response

    def create_with_service(self, values):
        plan, reason = values.pop("plan"), values.pop("reason", None)
        return upkeep.create_target(plan, actor=self.request.user, values=values, reason=reason)

    def update_with_service(self, obj, values, version):
        values.pop("plan", None)
        reason = values.pop("reason", None)
        if values.get("code") == obj.code:
            values.pop("code")
        return upkeep.update_target(
            obj, actor=self.request.user, version=version, changes=values, reason=reason
        )

    @extend_schema(
        summary="计划值、实际值与趋势（按期间，分解到各地时分地区）",
        parameters=[ON_PARAMETER],
        responses={200: TargetSeriesSerializer},
    )
    @action(detail=True, methods=["get"])
    def series(self, request, pk=None):
        target = self.get_object()
        return Response(target_series(target, user=request.user, on=self._on()))

    @extend_schema(
        summary="指标分解：上级指标、下级指标与分解树（各级的值、实际值与状态）",
        parameters=[ON_PARAMETER],
        responses={200: TargetCascadeSerializer},
    )
    @action(detail=True, methods=["get"], pagination_class=None)
    def cascade(self, request, pk=None):
        target = self.get_object()
        data = target_cascade(target, user=request.user, on=self._on())
        return Response(TargetCascadeSerializer(data).data)

    @extend_schema(
        methods=["get"],
        responses=TargetAdjustmentSerializer(many=True),
        summary="指标调整记录（按生效先后）",
    )
    @extend_schema(
        methods=["post"],
        request=TargetAdjustmentWriteSerializer,
        responses={201: TargetAdjustmentSerializer},
        parameters=[IF_MATCH_REQUIRED],
        summary="登记指标调整（委员会办公室；须带目标指标的 If-Match）",
        description=(
            "自印发日期起，判断、导出均按调整后的目标值和年度；目标指标本身保留规划原定值。"
            "调整登记后不能修改或删除，如有错误请再登记一次调整予以更正。"
            "响应头 ETag 为目标指标的新版本。"
        ),
    )
    @action(detail=True, methods=["get", "post"], pagination_class=None)  # a few per target
    def adjustments(self, request, pk=None):
        target = self.get_object()
        if request.method == "GET":
            rows = (
                TargetAdjustment.objects.filter(target=target)
                .select_related("actor")
                .order_by("adopted_on", "pk")
            )
            return Response(TargetAdjustmentSerializer(rows, many=True).data)
        data = TargetAdjustmentWriteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        version = self.check_if_match(request, target, required=True)
        adjustment = upkeep.adjust_target(
            target,
            actor=request.user,
            version=version,
            new_value=values["new_value"],
            new_year=values.get("new_year"),
            doc_number=values["doc_number"],
            adopted_on=values["adopted_on"],
            reason=values["reason"],
        )
        adjustment = TargetAdjustment.objects.select_related("actor", "target").get(
            pk=adjustment.pk
        )
        response = Response(
            TargetAdjustmentSerializer(adjustment).data, status=status.HTTP_201_CREATED
        )
        response["ETag"] = self.etag_of(adjustment.target)
        return response


class MilestoneViewSet(LifecycleActions, mixins.DestroyModelMixin, ServiceWriteViewSet):
    model = Milestone
    lifecycle = {
        "retire": retire.retire_milestone,
        "restore": retire.restore_milestone,
        "delete": retire.delete_milestone,
    }
    http_method_names = LIFECYCLE_METHODS
    serializer_class = MilestoneSerializer
    write_serializer_class = MilestoneWriteSerializer
    filterset_class = MilestoneFilterSet
    lean_values = True
    ordering = ("due_on", "pk")
    ordering_fields = ["due_on", "code"]

    def create_with_service(self, values):
        reason = values.pop("reason", None)
        return upkeep.create_milestone(actor=self.request.user, values=values, reason=reason)

    def update_with_service(self, obj, values, version):
        for fixed in ("plan", "target", "task", "code"):
            values.pop(fixed, None)
        reason = values.pop("reason", None)
        return upkeep.update_milestone(
            obj, actor=self.request.user, version=version, changes=values, reason=reason
        )


class AllocationViewSet(LifecycleActions, mixins.DestroyModelMixin, ETagMixin, ReadOnly):
    """目标分解：可停用、恢复；没有填报时可删除（无版本号，不需 If-Match）。"""

    model = Allocation
    lifecycle = {
        "retire": retire.retire_allocation,
        "restore": retire.restore_allocation,
        "delete": retire.delete_allocation,
    }
    versioned = False
    write_action = "change"
    http_method_names = ["get", "post", "delete", "head", "options"]

    def _respond(self, obj, code=status.HTTP_200_OK):
        obj = self.get_queryset().get(pk=obj.pk)
        return Response(self.serializer_class(obj).data, status=code)

    serializer_class = AllocationSerializer
    filterset_class = AllocationFilterSet
    related = ("region",)
    lean_values = True
    lean_lookups = ("region__name",)

    def lean_overrides(self, rows):
        return {"region_name": itemgetter("region__name")}

    ordering = ("target_id", "region__name", "pk")
    ordering_fields = ["value"]


class RowExists(ServiceError):
    status_code = 409

    def __init__(self, obj):
        super().__init__(
            "exists",
            f"该区划该年度已有记录（编号 {obj.pk}，版本 {obj.version}），"
            "请用 PATCH 并带 If-Match 修改",
        )


class _BasesWriteViewSet(ServiceWriteViewSet):
    """Writes through targets.bases.save_base_figures (the page's and the workbook's path):
    liaisons and staff of the region (the report role; the service checks the region is in
    the user's scope), numbers as typed, a reason in the history row, If-Match on updates."""

    write_action = REPORT

    def _region(self, pk: int) -> Region:
        return get_object_or_404(Region.objects.for_user(self.request.user, VIEW), pk=pk)

    def _save(self, region, year, values, *, reason, versions, names=None):
        return bases.save_base_figures(
            region,
            year,
            actor=self.request.user,
            values=values,
            reason=reason,
            versions=versions,
            names=names,
        )


class FireStatisticViewSet(_BasesWriteViewSet):
    """火灾统计：区划的联络员或委员会办公室工作人员可录入、修改（修改须带 If-Match）。"""

    model = FireStatistic
    serializer_class = FireStatisticSerializer
    write_serializer_class = FireStatisticWriteSerializer
    filterset_class = FireStatisticFilterSet
    lean_values = True
    ordering = ("region_id", "year")
    ordering_fields = ["year", "fires", "deaths"]

    def _values(self, values: dict) -> dict:
        return {name: values[name] for name in FIRE_STATISTIC_FIELDS if name in values}

    def create_with_service(self, values):
        region = self._region(values["region"])
        existing = FireStatistic.objects.filter(region=region, year=values["year"]).first()
        if existing is not None:
            raise RowExists(existing)
        saved = self._save(
            region,
            values["year"],
            self._values(values),
            reason=values.get("reason", ""),
            versions={bases.FIRE_VERSION: 0},
        )
        if saved.fire_statistic is None:
            raise ServiceError("empty", _("请至少填写一项火灾统计数值"))
        return saved.fire_statistic

    def update_with_service(self, obj, values, version):
        saved = self._save(
            obj.region,
            obj.year,
            self._values(values),
            reason=values.get("reason", ""),
            versions={bases.FIRE_VERSION: version} if version is not None else None,
        )
        return saved.fire_statistic or obj


class BaseFigureViewSet(_BasesWriteViewSet):
    """基数（常住人口及公式引用的其他基数）：区划的联络员或委员会办公室工作人员可录入、修改
    （修改须带 If-Match）。key 为公式变量名，可为中文。"""

    model = BaseFigure
    serializer_class = BaseFigureSerializer
    write_serializer_class = BaseFigureWriteSerializer
    filterset_class = BaseFigureFilterSet
    lean_values = True
    ordering = ("region_id", "name", "year")
    ordering_fields = ["year", "name"]

    def create_with_service(self, values):
        region = self._region(values["region"])
        key = normalize_name(values["key"])
        existing = BaseFigure.objects.filter(region=region, year=values["year"], key=key).first()
        if existing is not None:
            raise RowExists(existing)
        saved = self._save(
            region,
            values["year"],
            {key: values.get("value")},
            reason=values.get("reason", ""),
            versions={key: 0},
            names={key: values["name"]} if values.get("name") else None,
        )
        if key not in saved.figures:
            raise ServiceError("invalid", _("请填写数值"), field="value")
        return saved.figures[key]

    def update_with_service(self, obj, values, version):
        if not obj.key:
            raise ServiceError("no_key", _("该基数没有公式变量名，不能通过此接口修改"), field="key")
        if "value" not in values:
            return obj
        saved = self._save(
            obj.region,
            obj.year,
            {obj.key: values["value"]},
            reason=values.get("reason", ""),
            versions={obj.key: version} if version is not None else None,
        )
        return saved.figures.get(obj.key, obj)


def evidence_by_report(ids: list[int]) -> dict[int, list[dict]]:
    """The evidence of a page of reports (report id → its files as the serializer lists them,
    newest upload first), in one query.

    Plain SQL with the ids as one array parameter (``= ANY(%s)``), on the database the router
    reads reports from: the ORM's ``IN (…100 parameters…)`` with its join cost ≈ 2 ms of
    CPU and several ms of PostgreSQL's parsing a request, most pages having no evidence at
    all (issue 19); ``tests/test_api_lean_lists.py`` compares the result with the
    serializer's ``report.evidence.all()``."""
    if not ids:
        return {}
    link_table = ProgressReport.evidence.through._meta.db_table
    evidence_table = Evidence._meta.db_table
    sql = (
        f"SELECT l.progressreport_id, e.id, e.original_name, e.sha256, e.size_bytes"
        f" FROM {link_table} l JOIN {evidence_table} e ON e.id = l.evidence_id"
        " WHERE l.progressreport_id = ANY(%s) ORDER BY e.uploaded_at DESC, e.id"
    )
    files: dict[int, list[dict]] = {}
    with connections[router.db_for_read(ProgressReport)].cursor() as cursor:
        cursor.execute(sql, [list(ids)])
        for report_id, evidence_id, name, sha256, size_bytes in cursor.fetchall():
            files.setdefault(report_id, []).append(
                {
                    "id": evidence_id,
                    "name": name,
                    "sha256": sha256,
                    "size_bytes": size_bytes,
                    "download_url": evidence_download_url(Evidence(pk=evidence_id)),
                }
            )
    return files


class ProgressReportViewSet(ETagMixin, mixins.CreateModelMixin, mixins.UpdateModelMixin, ReadOnly):
    """进度填报：联络员在范围内新建、修改、提交；委员会办公室审核、退回、重新打开。"""

    model = ProgressReport
    serializer_class = ProgressReportSerializer
    filterset_class = ProgressReportFilterSet
    prefetch = ("evidence",)
    ordering = ("target_id", "region_id", "period")
    ordering_fields = ["period", "submitted_at", "updated_at"]
    parser_classes = [JSONParser, MultiPartParser, FormParser]
    write_actions = {
        "create": REPORT,
        "update": REPORT,
        "partial_update": REPORT,
        "submit": REPORT,
        "evidence": REPORT,
        "approve": APPROVE,
        "return_": APPROVE,
        "reopen": APPROVE,
    }
    http_method_names = ["get", "post", "put", "patch", "head", "options"]
    lean_values = True  # a page of reports is read as values() rows (issue 19)

    def lean_overrides(self, rows):
        files = evidence_by_report([row["id"] for row in rows])
        return {"evidence": lambda row: files.get(row["id"], [])}

    def _done(self, report, code=status.HTTP_200_OK):
        report = self.get_queryset().get(pk=report.pk)
        response = Response(ProgressReportSerializer(report).data, status=code)
        response["ETag"] = self.etag_of(report)
        return response

    @extend_schema(request=ProgressReportWriteSerializer, responses=ProgressReportSerializer)
    def create(self, request, *args, **kwargs):
        data = ProgressReportWriteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        target = get_object_or_404(Target.objects.for_user(request.user, VIEW), pk=values["target"])
        region = get_object_or_404(Region.objects.for_user(request.user, VIEW), pk=values["region"])
        # Without a version a create is a new figure (version 0): one that exists already —
        # or is created by a concurrent request — is 409 report_exists, never overwritten
        # (the service decides, inside its transaction). With a version it edits that one.
        version = values.get("version")
        report = services.save_report(
            actor=request.user,
            target=target,
            region=region,
            period=values["period"],
            value=values.get("value"),
            note=values.get("note", ""),
            confirm_note=values.get("confirm_note", ""),
            version=0 if version is None else version,
            submit=values.get("submit", False),
        )
        return self._done(report, status.HTTP_201_CREATED)

    @extend_schema(request=ReportUpdateSerializer, responses=ProgressReportSerializer)
    def update(self, request, *args, **kwargs):
        report = self.get_object()
        data = ReportUpdateSerializer(data=request.data, partial=kwargs.get("partial", False))
        data.is_valid(raise_exception=True)
        values = data.validated_data
        version = self.check_if_match(request, report)
        report = services.save_report(
            actor=request.user,
            target=report.target,
            region=report.region,
            period=report.period,
            value=values.get("value", report.value),
            note=values.get("note", report.note),
            confirm_note=values.get("confirm_note", report.confirm_note),
            version=version if version is not None else values.get("version"),
        )
        return self._done(report)

    def _act(self, request, func, *, required: bool = False, **kwargs):
        """A workflow action on the report; a review (``required``) must say which version the
        reviewer saw (If-Match or ``version``: else 428), so a figure changed since is refused
        (412) rather than approved unseen."""
        report = self.get_object()
        version = self.check_if_match(request, report, required=required)
        return self._done(func(report, actor=request.user, version=version, **kwargs))

    @extend_schema(
        request=VersionSerializer, responses=ProgressReportSerializer, summary="提交审核"
    )
    @action(detail=True, methods=["post"])
    def submit(self, request, pk=None):
        return self._act(request, services.submit_report)

    @extend_schema(
        request=VersionSerializer,
        responses=ProgressReportSerializer,
        parameters=[REVIEW_IF_MATCH],
        summary="审核通过（须带所见版本）",
    )
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        return self._act(request, services.approve_report, required=True)

    @extend_schema(
        request=ReasonSerializer,
        responses=ProgressReportSerializer,
        parameters=[REVIEW_IF_MATCH],
        summary="退回（须填理由，须带所见版本）",
    )
    @action(detail=True, methods=["post"], url_path="return", url_name="return")
    def return_(self, request, pk=None):
        data = ReasonSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        reason = data.validated_data["reason"]
        return self._act(request, services.return_report, required=True, reason=reason)

    @extend_schema(
        request=ReasonSerializer, responses=ProgressReportSerializer, summary="重新打开已审核的报送"
    )
    @action(detail=True, methods=["post"])
    def reopen(self, request, pk=None):
        data = ReasonSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return self._act(request, services.reopen_report, reason=data.validated_data["reason"])

    @extend_schema(
        request={"multipart/form-data": EvidenceUploadSerializer},
        responses=ProgressReportSerializer,
        summary="上传佐证材料",
    )
    @action(detail=True, methods=["post"], parser_classes=[MultiPartParser, FormParser])
    def evidence(self, request, pk=None):
        report = self.get_object()
        data = EvidenceUploadSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.attach_evidence(report, [data.validated_data["file"]], actor=request.user)
        return self._done(report)


class NoticeViewSet(LeanListMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    """当前用户的提醒。"""

    serializer_class = NoticeSerializer
    queryset = Notice.objects.none()
    lean_values = True

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Notice.objects.none()
        return Notice.objects.filter(user=self.request.user).order_by("-created_at")
