"""Background jobs through the API: ``GET /api/v1/jobs/`` (the caller's jobs),
``GET /api/v1/jobs/{id}/`` (state and progress), ``POST /api/v1/jobs/{id}/cancel/``.

An export or import the API queues answers 202 with ``Location`` and this body
(``queued_response``); a client polls ``status_url`` until ``state`` is ``succeeded``
(then ``download_url``), ``failed`` or ``cancelled`` (then ``message``). Another user's job is
404; cancelling an ended job is 409 ``job_finished``."""

from __future__ import annotations

from django.urls import reverse
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from core import jobs
from core.choices import JobState
from core.models import Job


class JobSerializer(serializers.ModelSerializer):
    state = serializers.ChoiceField(choices=JobState.choices, help_text="状态")
    percent = serializers.IntegerField(help_text="进度百分比")
    status_url = serializers.SerializerMethodField(help_text="本任务的状态地址（轮询）")
    download_url = serializers.SerializerMethodField(
        help_text="结果文件下载地址（已完成且未过保留期时；浏览器会话或同一用户）"
    )

    class Meta:
        model = Job
        fields = [
            "id", "kind", "title", "state", "done", "total", "percent", "created_at",
            "started_at", "finished_at", "message", "result_name", "expires_at",
            "status_url", "download_url",
        ]  # fmt: skip
        read_only_fields = fields

    def get_status_url(self, job: Job) -> str:
        return self._absolute(reverse("job-detail", args=[job.pk]))

    def get_download_url(self, job: Job) -> str | None:
        if not job.downloadable:
            return None
        return self._absolute(reverse("core:job_download", args=[job.pk]))

    def _absolute(self, path: str) -> str:
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request else path


class IsAuthenticated(permissions.IsAuthenticated):
    """Any role: a job is its owner's (the queryset), whatever started it."""


class JobViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = JobSerializer
    queryset = Job.objects.none()  # names the id's type for the schema; see get_queryset
    permission_classes = [IsAuthenticated]
    filter_backends: list = []

    def get_queryset(self):
        return Job.objects.filter(owner=self.request.user).order_by("-created_at", "-pk")

    def get_object(self):
        return jobs.refresh(super().get_object())

    @extend_schema(request=None, responses={200: JobSerializer})
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        """Cancel a queued or running job (409 ``job_finished`` once it has ended)."""
        job = jobs.cancel_job(self.get_object(), actor=request.user)
        return Response(self.get_serializer(job).data)


def queued_response(job: Job, request) -> Response:
    """202 Accepted for work handed to a job: ``Location`` is its status URL."""
    data = JobSerializer(job, context={"request": request}).data
    return Response(data, status=status.HTTP_202_ACCEPTED, headers={"Location": data["status_url"]})
