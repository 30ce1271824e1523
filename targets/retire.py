"""Retiring (停用), restoring (恢复) and deleting targets, milestones and allocations — the
rule of planning.services (``set_retired``, ``delete_part``: delete only when nothing is
attached, else refuse with code ``has_attachments`` and offer 停用), applied to targets' models.

What retirement means here: a retired target is owed by nobody and a retired allocation's
region owes nothing (``targets.owed``, and the tallies' SQL, ``targets/tally_store.py``); they
are not in 我的填报, the figures template or a figure saved through any door; the dashboards
do not count a retired target (``targets.rollups.StatusBoard`` judges live targets only) and the
pages show it struck through. Its figures, allocations and history stay.
"""

from __future__ import annotations

from django.db import models, transaction

from planning.services import attachments, delete_part, has_attachments_error, set_retired
from targets.models import Allocation, Milestone, ProgressReport, Target


@transaction.atomic
def retire_target(target: Target, *, actor, version: int | None, reason: str = "") -> Target:
    return set_retired(target, actor=actor, version=version, retired=True, reason=reason)


@transaction.atomic
def restore_target(target: Target, *, actor, version: int | None, reason: str = "") -> Target:
    return set_retired(target, actor=actor, version=version, retired=False, reason=reason)


@transaction.atomic
def delete_target(target: Target, *, actor, version: int | None, reason: str = "") -> None:
    delete_part(target, actor=actor, version=version, reason=reason)


@transaction.atomic
def retire_milestone(
    milestone: Milestone, *, actor, version: int | None, reason: str = ""
) -> Milestone:
    return set_retired(milestone, actor=actor, version=version, retired=True, reason=reason)


@transaction.atomic
def restore_milestone(
    milestone: Milestone, *, actor, version: int | None, reason: str = ""
) -> Milestone:
    return set_retired(milestone, actor=actor, version=version, retired=False, reason=reason)


@transaction.atomic
def delete_milestone(milestone: Milestone, *, actor, version: int | None, reason: str = "") -> None:
    delete_part(milestone, actor=actor, version=version, reason=reason)


def _allocation_figures(allocation: Allocation) -> list[tuple[str, int]]:
    """Figures the allocation's region reported for its target: nothing points at an
    allocation row, but these figures were owed because of it."""
    count = ProgressReport.objects.filter(
        target_id=allocation.target_id, region_id=allocation.region_id
    ).count()
    return [(str(ProgressReport._meta.verbose_name), count)] if count else []


@transaction.atomic
def retire_allocation(allocation: Allocation, *, actor, reason: str = "") -> Allocation:
    return set_retired(
        allocation,
        actor=actor,
        version=None,
        retired=True,
        reason=reason,
        plan=allocation.target.plan,
    )


@transaction.atomic
def restore_allocation(allocation: Allocation, *, actor, reason: str = "") -> Allocation:
    return set_retired(
        allocation,
        actor=actor,
        version=None,
        retired=False,
        reason=reason,
        plan=allocation.target.plan,
    )


@transaction.atomic
def delete_allocation(allocation: Allocation, *, actor, reason: str = "") -> None:
    delete_part(
        allocation,
        actor=actor,
        version=None,
        extra=_allocation_figures(allocation),
        reason=reason,
        plan=allocation.target.plan,
    )


def deletion_refusal(obj: models.Model) -> str | None:
    """Why ``obj`` cannot be deleted — the services' rule, for the admin's guard — or None."""
    found = attachments(obj, parts=("assignments",) if hasattr(obj, "assignments") else ())
    if isinstance(obj, Allocation):
        found += _allocation_figures(obj)
    return has_attachments_error(obj, found).message if found else None
