"""API endpoints for regions, units, plans (with summary and integrity), sections, tasks and
task updates. Writes go through planning.services, as the pages do."""

import datetime

from django.db.models import Prefetch
from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response

from core.api_views import ReadOnly, ServiceWriteViewSet
from core.models import Region, Unit
from core.scope import REPORT, VIEW
from core.services import ServiceError
from planning import services
from planning.api.serializers import (
    PlanSerializer,
    PlanWriteSerializer,
    RegionSerializer,
    SectionSerializer,
    SectionWriteSerializer,
    TaskSerializer,
    TaskUpdateSerializer,
    TaskUpdateWriteSerializer,
    TaskWriteSerializer,
    UnitSerializer,
)
from planning.filtersets import (
    PlanFilterSet,
    RegionFilterSet,
    SectionFilterSet,
    TaskFilterSet,
    TaskUpdateFilterSet,
    UnitFilterSet,
)
from planning.models import Plan, Section, Task, TaskAssignment, TaskUpdate
from targets.integrity import check_plan_integrity
from targets.rollups import StatusBoard

ON_PARAMETER = OpenApiParameter("on", str, description="判断日期 YYYY-MM-DD（默认今天）")


def date_param(request) -> datetime.date:
    raw = request.query_params.get("on")
    if not raw:
        return timezone.localdate()
    try:
        return datetime.date.fromisoformat(raw)
    except ValueError:
        raise ServiceError("invalid", "on 应为 YYYY-MM-DD 格式的日期", field="on") from None


def summary_data(parts: dict, board: StatusBoard) -> dict:
    data = {name: part.as_dict() for name, part in parts.items()}
    data["on"] = board.on.isoformat()
    return data


class RegionViewSet(ReadOnly):
    """行政区划（含上级与下级，范围内可见）。"""

    model = Region
    serializer_class = RegionSerializer
    filterset_class = RegionFilterSet
    ordering = ("level", "name", "pk")
    ordering_fields = ["name", "level"]

    @extend_schema(
        parameters=[ON_PARAMETER],
        summary="区划汇总：本区划及下级的指标状态与分解",
        responses={200: OpenApiTypes.OBJECT},
    )
    @action(detail=True, methods=["get"])
    def summary(self, request, pk=None):
        region = self.get_object()
        plans = Plan.objects.for_user(request.user, VIEW).exclude(status="reference")
        board = StatusBoard(plans, on=date_param(request))
        return Response(summary_data(board.region_summary(region.pk), board))


class UnitViewSet(ReadOnly):
    model = Unit
    serializer_class = UnitSerializer
    filterset_class = UnitFilterSet
    ordering = ("region_id", "name", "pk")
    ordering_fields = ["name"]


class PlanViewSet(ServiceWriteViewSet):
    """规划：委员会办公室工作人员可新建、修改；含状态汇总与一致性检查。"""

    model = Plan
    serializer_class = PlanSerializer
    write_serializer_class = PlanWriteSerializer
    filterset_class = PlanFilterSet
    ordering = ("-start_year", "title", "pk")
    ordering_fields = ["start_year", "title", "issued_on"]

    def create_with_service(self, values):
        return services.create_plan(actor=self.request.user, values=values)

    def update_with_service(self, obj, values, version):
        return services.update_plan(obj, actor=self.request.user, version=version, changes=values)

    @extend_schema(
        parameters=[ON_PARAMETER], summary="规划汇总：按状态计数、约束性指标滞后、填报完整率"
    )
    @action(detail=True, methods=["get"])
    def summary(self, request, pk=None):
        plan = self.get_object()
        board = StatusBoard([plan], on=date_param(request))
        return Response(summary_data(board.plan_summary(plan), board))

    @extend_schema(
        summary="规划一致性检查结果（节点合计、分解合计、重复表述、日期）",
        responses={
            200: inline_serializer(
                name="IntegrityFinding",
                many=True,
                fields={
                    "level": serializers.CharField(help_text="error 错误 / warning 提示"),
                    "code": serializers.CharField(help_text="检查项代码"),
                    "message": serializers.CharField(help_text="中文说明"),
                    "items": serializers.ListField(
                        child=serializers.DictField(), help_text="涉及的条目及原文依据"
                    ),
                },
            )
        },
    )
    @action(detail=True, methods=["get"])
    def integrity(self, request, pk=None):
        plan = self.get_object()
        findings = check_plan_integrity(Plan.objects.filter(pk=plan.pk))
        return Response(
            [
                {
                    "level": f.level,
                    "code": f.code,
                    "message": f.message,
                    "items": [
                        {
                            "kind": i.kind,
                            "code": i.code,
                            "label": i.label,
                            "source_text": i.source_text,
                        }
                        for i in f.items
                    ],
                }
                for f in findings
            ]
        )


class SectionViewSet(ServiceWriteViewSet):
    model = Section
    serializer_class = SectionSerializer
    write_serializer_class = SectionWriteSerializer
    filterset_class = SectionFilterSet
    ordering = ("plan_id", "order", "pk")
    ordering_fields = ["order", "code"]

    def create_with_service(self, values):
        plan = values.pop("plan")
        return services.create_section(plan, actor=self.request.user, values=values)

    def update_with_service(self, obj, values, version):
        values.pop("plan", None)
        return services.update_section(
            obj, actor=self.request.user, version=version, changes=values
        )


class TaskViewSet(ServiceWriteViewSet):
    """重点任务：含牵头/配合单位。"""

    model = Task
    serializer_class = TaskSerializer
    write_serializer_class = TaskWriteSerializer
    filterset_class = TaskFilterSet
    # The assignments with their units in one query (not one for each).
    prefetch = (Prefetch("assignments", queryset=TaskAssignment.objects.select_related("unit")),)
    ordering = ("plan_id", "order", "pk")
    ordering_fields = ["order", "due_on", "code"]

    def create_with_service(self, values):
        plan = values.pop("plan")
        lead, support = values.pop("lead_units", []), values.pop("support_units", [])
        return services.create_task(
            plan, actor=self.request.user, values=values, lead_units=lead, support_units=support
        )

    def update_with_service(self, obj, values, version):
        values.pop("plan", None)
        lead, support = values.pop("lead_units", None), values.pop("support_units", None)
        return services.update_task(
            obj,
            actor=self.request.user,
            version=version,
            changes=values,
            lead_units=lead,
            support_units=support,
        )


class TaskUpdateViewSet(mixins.CreateModelMixin, ReadOnly):
    """任务进展：只增不改的时间线，可附佐证材料。"""

    model = TaskUpdate
    serializer_class = TaskUpdateSerializer
    filterset_class = TaskUpdateFilterSet
    related = ("task",)
    prefetch = ("evidence",)
    ordering = ("-created_at", "-pk")
    write_action = REPORT
    parser_classes = [JSONParser, MultiPartParser, FormParser]

    @extend_schema(
        request={
            "multipart/form-data": TaskUpdateWriteSerializer,
            "application/json": TaskUpdateWriteSerializer,
        },
        responses=TaskUpdateSerializer,
    )
    def create(self, request, *args, **kwargs):
        data = TaskUpdateWriteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        task = get_object_or_404(Task.objects.for_user(request.user, VIEW), pk=values["task"])
        update = services.post_task_update(
            task,
            actor=request.user,
            text=values["text"],
            percent=values.get("percent"),
            evidence=values.get("evidence", []),
        )
        update = self.get_queryset().get(pk=update.pk)
        return Response(TaskUpdateSerializer(update).data, status=status.HTTP_201_CREATED)
