"""A draft being reviewed: what the extractor made of an uploaded document, kept server-side
between the upload and 「发布」 (the draft JSON in the shape of ``Draft.as_json``, the
document's text for the review page, who uploaded it). A draft is a scratch pad of its
owner, not a record of the plan: it has no history rows; publishing writes the plan through
the services, each row with its history."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class PlanDraft(models.Model):
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="plan_drafts"
    )
    file_name = models.CharField(max_length=255)
    document_text = models.TextField(blank=True)
    data = models.JSONField(default=dict)
    created = models.DateTimeField(auto_now_add=True)
    # Bumped by every saved review: a form sent from an older page (another tab) is refused
    # instead of overwriting the newer review (plan_import.review.submit_review).
    version = models.PositiveIntegerField(default=1)
    published_plan = models.ForeignKey(
        "planning.Plan", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created", "-pk"]

    def __str__(self) -> str:
        return self.file_name
