"""API endpoints for regions, units, plans, sections, tasks and task updates. Writes go
through planning.services, as the pages do. The summary and integrity actions, which read
targets, are added by reports.api."""

from django.db.models import Prefetch
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from core.api import FormParser, JSONParser, MultiPartParser
from core.api_views import ReadOnly, ServiceWriteViewSet
from core.models import Region, Unit
from core.scope import REPORT, VIEW
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


class ReasonOnly(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, max_length=200)
    version = serializers.IntegerField(required=False, min_value=0)


class LifecycleActions:
    """``POST …/{id}/retire/`` (停用), ``POST …/{id}/restore/`` (恢复) and ``DELETE …/{id}/``
    through the services' ``retire_X`` / ``restore_X`` / ``delete_X`` (``services`` maps the
    three to functions taking the object, ``actor``, ``version`` and ``reason``). The version
    comes from If-Match or a ``version`` field, required for DELETE; a refused delete answers
    400 with code ``has_attachments`` (and the message offering 停用), an archived plan
    ``plan_archived``. Mixed into a ``ServiceWriteViewSet``."""

    lifecycle: dict = {}
    versioned = True  # the model has a ``version`` (allocations do not)

    def _lifecycle_call(self, request, name: str):
        obj = self.get_object()
        data = ReasonOnly(data=request.data)
        data.is_valid(raise_exception=True)
        version = self.check_if_match(request, obj) if self.versioned else None
        kwargs = {"version": version} if self.versioned else {}
        return obj, type(self).lifecycle[name](
            obj, actor=request.user, reason=data.validated_data.get("reason", ""), **kwargs
        )

    @extend_schema(request=ReasonOnly, summary="停用（保留历史和数据，不再填报，不计入统计）")
    @action(detail=True, methods=["post"])
    def retire(self, request, pk=None):
        _, obj = self._lifecycle_call(request, "retire")
        return self._respond(obj)

    @extend_schema(request=ReasonOnly, summary="恢复（取消停用）")
    @action(detail=True, methods=["post"])
    def restore(self, request, pk=None):
        _, obj = self._lifecycle_call(request, "restore")
        return self._respond(obj)

    @extend_schema(
        request=ReasonOnly,
        responses={204: None},
        summary="删除（仅当没有任何关联数据时；否则 400 has_attachments，请改用停用）",
    )
    def destroy(self, request, *args, **kwargs):
        self._lifecycle_call(request, "delete")
        return Response(status=status.HTTP_204_NO_CONTENT)


LIFECYCLE_METHODS = ["get", "post", "put", "patch", "delete", "head", "options"]


class RegionViewSet(ReadOnly):
    """行政区划（含上级与下级，范围内可见）。"""

    model = Region
    serializer_class = RegionSerializer
    filterset_class = RegionFilterSet
    lean_values = True  # every field a column: values() rows (issue 19)
    ordering = ("level", "name", "pk")
    ordering_fields = ["name", "level"]


class UnitViewSet(ReadOnly):
    model = Unit
    serializer_class = UnitSerializer
    filterset_class = UnitFilterSet
    lean_values = True  # every field a column: values() rows (issue 19)
    ordering = ("region_id", "name", "pk")
    ordering_fields = ["name"]


class PlanViewSet(ServiceWriteViewSet):
    """规划：委员会办公室工作人员可新建、修改（状态汇总与一致性检查见 reports.api）。"""

    model = Plan
    serializer_class = PlanSerializer
    related = ("successor",)  # the reverse link the serializer shows, in the same query
    write_serializer_class = PlanWriteSerializer
    filterset_class = PlanFilterSet
    ordering = ("-start_year", "title", "pk")
    ordering_fields = ["start_year", "title", "issued_on"]

    def create_with_service(self, values):
        reason = values.pop("reason", "")
        return services.create_plan(actor=self.request.user, values=values, reason=reason)

    def update_with_service(self, obj, values, version):
        reason = values.pop("reason", "")
        return services.update_plan(
            obj, actor=self.request.user, version=version, changes=values, reason=reason
        )

    @extend_schema(request=ReasonOnly, summary="归档（规划期结束后；归档后只读）")
    @action(detail=True, methods=["post"])
    def archive(self, request, pk=None):
        plan = self.get_object()
        data = ReasonOnly(data=request.data)
        data.is_valid(raise_exception=True)
        version = self.check_if_match(request, plan)
        reason = data.validated_data.get("reason", "")
        return self._respond(
            services.archive_plan(plan, actor=request.user, version=version, reason=reason)
        )

    @extend_schema(request=ReasonOnly, summary="取消归档（系统管理员）")
    @action(detail=True, methods=["post"])
    def unarchive(self, request, pk=None):
        plan = self.get_object()
        data = ReasonOnly(data=request.data)
        data.is_valid(raise_exception=True)
        version = self.check_if_match(request, plan)
        reason = data.validated_data.get("reason", "")
        return self._respond(
            services.unarchive_plan(plan, actor=request.user, version=version, reason=reason)
        )


class SectionViewSet(LifecycleActions, mixins.DestroyModelMixin, ServiceWriteViewSet):
    model = Section
    lifecycle = {
        "retire": services.retire_section,
        "restore": services.restore_section,
        "delete": services.delete_section,
    }
    http_method_names = LIFECYCLE_METHODS
    serializer_class = SectionSerializer
    write_serializer_class = SectionWriteSerializer
    filterset_class = SectionFilterSet
    lean_values = True  # every field a column: values() rows (issue 19)
    ordering = ("plan_id", "order", "pk")
    ordering_fields = ["order", "code"]

    def create_with_service(self, values):
        plan, reason = values.pop("plan"), values.pop("reason", "")
        return services.create_section(plan, actor=self.request.user, values=values, reason=reason)

    def update_with_service(self, obj, values, version):
        values.pop("plan", None)
        reason = values.pop("reason", "")
        return services.update_section(
            obj, actor=self.request.user, version=version, changes=values, reason=reason
        )


class TaskViewSet(LifecycleActions, mixins.DestroyModelMixin, ServiceWriteViewSet):
    """重点任务：含牵头/配合单位。"""

    model = Task
    lifecycle = {
        "retire": services.retire_task,
        "restore": services.restore_task,
        "delete": services.delete_task,
    }
    http_method_names = LIFECYCLE_METHODS
    serializer_class = TaskSerializer
    write_serializer_class = TaskWriteSerializer
    filterset_class = TaskFilterSet
    # The assignments with their units in one query (not one for each).
    prefetch = (Prefetch("assignments", queryset=TaskAssignment.objects.select_related("unit")),)
    ordering = ("plan_id", "order", "pk")
    ordering_fields = ["order", "due_on", "code"]

    def create_with_service(self, values):
        plan, reason = values.pop("plan"), values.pop("reason", "")
        lead, support = values.pop("lead_units", []), values.pop("support_units", [])
        return services.create_task(
            plan,
            actor=self.request.user,
            values=values,
            lead_units=lead,
            support_units=support,
            reason=reason,
        )

    def update_with_service(self, obj, values, version):
        values.pop("plan", None)
        reason = values.pop("reason", "")
        lead, support = values.pop("lead_units", None), values.pop("support_units", None)
        return services.update_task(
            obj,
            actor=self.request.user,
            version=version,
            changes=values,
            lead_units=lead,
            support_units=support,
            reason=reason,
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
    parser_classes = [JSONParser, MultiPartParser, FormParser]  # core.api: text cleaned

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
