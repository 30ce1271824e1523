"""The API actions that read plans together with their targets: plan and region summaries
(status engine) and the plan integrity check. They extend planning's viewsets, which know no
target (fireplan/api_urls.py routes these classes)."""

import datetime

from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from core.scope import EXPORT, VIEW, require
from core.services import ServiceError
from planning.api import views as planning_api
from planning.models import Plan
from reports import charts
from reports.api_serializers import (
    ChartsSerializer,
    IntegrityFindingSerializer,
    PlanSummarySerializer,
    RegionSummarySerializer,
)
from reports.evaluation import DOCX_TYPE, docx_response, parse_kind
from targets.integrity import check_plan_integrity
from targets.rollups import StatusBoard
from targets.successor import create_successor

ON_PARAMETER = OpenApiParameter(
    "on", OpenApiTypes.DATE, description="判断日期 YYYY-MM-DD（默认今天）"
)


SINCE_PARAMETER = OpenApiParameter(
    "since",
    OpenApiTypes.DATE,
    description="「本月变化」的起始日期 YYYY-MM-DD（默认判断日期所在月的 1 日）",
)


def date_param(request, name: str = "on") -> datetime.date | None:
    raw = request.query_params.get(name)
    if not raw:
        return timezone.localdate() if name == "on" else None
    try:
        return datetime.date.fromisoformat(raw)
    except ValueError:
        raise ServiceError(
            "invalid", _("%(name)s 应为 YYYY-MM-DD 格式的日期") % {"name": name}, field=name
        ) from None


CHARTS_SCHEMA = {
    "parameters": [ON_PARAMETER, SINCE_PARAMETER],
    "responses": {200: ChartsSerializer},
    "filters": False,
}


class OverviewChartsView(APIView):
    """总览的图表数据（范围内全部规划）。"""

    @extend_schema(
        summary="总览图表数据：各规划状态、区划进度、约束性指标逐年、按时率、本月变化",
        **CHARTS_SCHEMA,
    )
    def get(self, request):
        return Response(
            charts.for_overview(
                request.user, on=date_param(request), since=date_param(request, "since")
            )
        )


def summary_data(parts: dict, board: StatusBoard) -> dict:
    data = {name: part.as_dict() for name, part in parts.items()}
    data["on"] = board.on.isoformat()
    return data


class RegionViewSet(planning_api.RegionViewSet):
    """行政区划（含上级与下级，范围内可见）。"""

    @extend_schema(
        parameters=[ON_PARAMETER],
        summary="区划汇总：本区划及下级的指标状态与分解",
        responses={200: RegionSummarySerializer},
    )
    @action(detail=True, methods=["get"])
    def summary(self, request, pk=None):
        region = self.get_object()
        plans = Plan.objects.for_user(request.user, VIEW).exclude(status="reference")
        board = StatusBoard(plans, on=date_param(request))
        return Response(summary_data(board.region_summary(region.pk), board))

    @extend_schema(summary="区划图表数据：下级区划并列比较", **CHARTS_SCHEMA)
    @action(detail=True, methods=["get"], pagination_class=None)
    def charts(self, request, pk=None):
        region = self.get_object()
        return Response(
            charts.for_region(
                request.user, region, on=date_param(request), since=date_param(request, "since")
            )
        )


class SuccessorRequestSerializer(serializers.Serializer):
    start_year = serializers.IntegerField(help_text="下一期规划起始年度（晚于本规划终止年度）")
    end_year = serializers.IntegerField(help_text="下一期规划终止年度")
    code = serializers.CharField(
        required=False, allow_blank=True, help_text="编码（默认由本规划编码换年度而得）"
    )
    title = serializers.CharField(
        required=False, allow_blank=True, help_text="标题（默认如“十四五”换为“十五五”）"
    )


KIND_PARAMETER = OpenApiParameter(
    "kind",
    OpenApiTypes.STR,
    enum=["mid", "final"],
    description="mid 中期评估 / final 终期评估（默认：规划期已结束为 final，否则 mid）",
)


class PlanViewSet(planning_api.PlanViewSet):
    """规划：委员会办公室工作人员可新建、修改；含状态汇总、一致性检查、编制下一期规划、
    评估报告（Word）。"""

    @extend_schema(
        request=SuccessorRequestSerializer,
        responses={201: planning_api.PlanSerializer},
        summary="编制下一期规划：复制章节、任务、指标为草稿，基期值取本规划期末实际值",
    )
    @action(detail=True, methods=["post"])
    def successor(self, request, pk=None):
        plan = self.get_object()
        serializer = SuccessorRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        successor = create_successor(plan, actor=request.user, **serializer.validated_data)
        return self._respond(successor, status.HTTP_201_CREATED)

    @extend_schema(
        parameters=[ON_PARAMETER, KIND_PARAMETER],
        summary="评估报告（Word .docx）：评估表、约束性指标图、分地区图、未完成原因、任务",
        responses={(200, DOCX_TYPE): OpenApiTypes.BINARY},
        filters=False,
    )
    @action(
        detail=True,
        methods=["get"],
        url_path="evaluation-report",
        url_name="evaluation_report",  # "plan-evaluation_report": tests/url_map.py's basename
        pagination_class=None,
    )
    def evaluation_report(self, request, pk=None):
        require(request.user, EXPORT)
        # Not ``get_object()``: it applies the list filters, and the plan FilterSet's own
        # ``kind`` (five-year plan …) would read this action's ``kind`` (mid / final).
        if not str(pk).isdigit():  # get_object() would say 404 too; a bad id is not a 500
            raise Http404
        plan = get_object_or_404(self.get_queryset(), pk=pk)
        self.check_object_permissions(request, plan)
        on = date_param(request)
        return docx_response(
            plan,
            user=request.user,
            on=on,
            kind=parse_kind(request.query_params.get("kind"), plan, on),
        )

    @extend_schema(
        parameters=[ON_PARAMETER],
        summary="规划汇总：按状态计数、约束性指标滞后、填报完整率",
        responses={200: PlanSummarySerializer},
    )
    @action(detail=True, methods=["get"])
    def summary(self, request, pk=None):
        plan = self.get_object()
        board = StatusBoard([plan], on=date_param(request))
        return Response(summary_data(board.plan_summary(plan), board))

    @extend_schema(summary="规划图表数据（简报）", **CHARTS_SCHEMA)
    @action(detail=True, methods=["get"], pagination_class=None)
    def charts(self, request, pk=None):
        plan = self.get_object()
        return Response(
            charts.for_plan(
                request.user, plan, on=date_param(request), since=date_param(request, "since")
            )
        )

    @extend_schema(
        summary="规划一致性检查结果（节点合计、分解合计、重复表述、日期）",
        # A plain list (not paged, not filtered): the plan's findings, whole.
        responses={200: IntegrityFindingSerializer(many=True)},
        filters=False,
    )
    @action(detail=True, methods=["get"], pagination_class=None)
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
