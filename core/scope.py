"""The one place that answers "may this user see / change / report / approve this?".

Two levels, as in NetBox's ``restrict(user, action)``:
- the role decides which actions a user may take at all (``can``; lacking it → 403);
- the scope decides which objects (``restrict``; outside it → 404, because the user must not
  learn the object exists).

Scope: a user's region with every region below it. Plans, their targets, tasks and the
register are visible when they belong to a region in the scope *or above it* (a district
liaison reads the city plan whose targets are allocated to the district); they can be
changed only inside the scope. Reports belong to one region: visible, reportable and
approvable only inside the scope. A liaison with a unit reports only for targets of tasks
that unit is assigned to (lead or support).

Every queryset, view, form choice, importer and API endpoint goes through ``restrict``; the
models' ``objects.for_user(user, action)`` is a shortcut for it. The rule of each model is
declared by the app that owns it (``<app>/scope_rules.py``, loaded in its AppConfig.ready());
this module holds the mechanism and knows no domain rule.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.core.exceptions import FieldDoesNotExist, PermissionDenied
from django.db.models import F, Q, QuerySet, Subquery
from django.db.models.constants import LOOKUP_SEP
from django.utils.translation import gettext as _

from core.choices import Role
from core.lookups import Ids
from core.regions import RegionTree

VIEW, CHANGE, REPORT, APPROVE, EXPORT, MANAGE_USERS = (
    "view", "change", "report", "approve", "export", "manage_users",
)  # fmt: skip

ROLE_ACTIONS: dict[str, set[str]] = {
    Role.ADMIN: {VIEW, CHANGE, REPORT, APPROVE, EXPORT, MANAGE_USERS},
    Role.STAFF: {VIEW, CHANGE, REPORT, APPROVE, EXPORT},
    Role.LIAISON: {VIEW, REPORT},
    Role.SUPERVISOR: {VIEW, EXPORT},
    Role.VIEWER: {VIEW},
}


@dataclass(frozen=True)
class Scope:
    role: str | None
    region_id: int | None
    region_ids: frozenset[int]  # the user's region and every region below it
    above_ids: frozenset[int]  # the regions above it
    unit_id: int | None
    everything: bool = False  # superusers

    @property
    def visible_region_ids(self) -> frozenset[int]:
        return self.region_ids | self.above_ids

    def covers(self, region) -> bool:
        """Whether ``region`` (a region or its id) is in the scope: the user's region or one
        below it (every region for superusers)."""
        region_id = getattr(region, "pk", region)
        return self.everything or region_id in self.region_ids


NO_SCOPE = Scope(None, None, frozenset(), frozenset(), None)


def scope_of(user) -> Scope:
    """The user's scope, computed once per request (cached on the user object)."""
    cached = getattr(user, "_fireplan_scope", None)
    if cached is not None:
        return cached
    scope = _compute_scope(user)
    if user is not None and getattr(user, "is_authenticated", False):
        user._fireplan_scope = scope
    return scope


def _compute_scope(user) -> Scope:
    if user is None or not user.is_authenticated or not user.is_active:
        return NO_SCOPE
    if user.is_superuser:
        return Scope(Role.ADMIN, None, frozenset(), frozenset(), None, everything=True)
    profile = getattr(user, "profile", None)
    if profile is None:
        return NO_SCOPE
    tree = RegionTree.load()
    return Scope(
        role=profile.role,
        region_id=profile.region_id,
        region_ids=tree.subtree_ids(profile.region_id),
        above_ids=frozenset(tree.ancestors(profile.region_id)),
        unit_id=profile.unit_id,
    )


def forget_scope(user) -> None:
    """Drop the cached scope (after a profile or region change in the same request)."""
    if hasattr(user, "_fireplan_scope"):
        del user._fireplan_scope


def can(user, action: str) -> bool:
    scope = scope_of(user)
    return scope.everything or action in ROLE_ACTIONS.get(scope.role, set())


def require(user, action: str) -> None:
    if not can(user, action):
        raise PermissionDenied(_("角色无权执行此操作（%(action)s）") % {"action": action})


def role_of(user) -> str | None:
    return scope_of(user).role


# --------------------------------------------------------------------------- per model


Rule = Callable[[Scope, str], Q]

# Filled by each app's ``scope_rules`` module (imported in its AppConfig.ready()): the app
# that owns a model says who may see and change it. This module knows no domain rule.
RULES: dict[str, Rule] = {}
# Models whose rule may join through to-many relations and repeat rows (for some actions or
# scopes; ``restrict`` checks each rule's filter with ``crosses_to_many``).
DISTINCT: set[str] = set()


def register(label: str, rule: Rule, *, distinct: bool = False) -> None:
    """Declare the scope rule of the model ``label`` ("app_label.model_name")."""
    RULES[label] = rule
    if distinct:
        DISTINCT.add(label)


def in_regions(prefix: str, ids: frozenset[int]) -> Q:
    """One array parameter, not one per region (``core.lookups``: thousands at national
    scale)."""
    return Q(**{f"{prefix}__in_ids": Ids(ids)})


def located(field: str) -> Rule:
    """Objects in a region: readable in or above the scope, changeable only inside it."""

    def rule(scope: Scope, action: str) -> Q:
        ids = scope.visible_region_ids if action in (VIEW, EXPORT) else scope.region_ids
        return in_regions(field, ids)

    return rule


def inside(field: str) -> Rule:
    """Objects of one region (figures, exceptions, profiles): only inside the scope."""
    return lambda scope, action: in_regions(field, scope.region_ids)


def crosses_to_many(model, q: Q) -> bool:
    """Whether filtering ``model`` by ``q`` joins a to-many relation (a reverse foreign key or
    a many-to-many), which repeats a row once per related row that matches.

    A rule registered ``distinct`` may cross one for some actions only (a liaison's unit
    joins the task's assignments; a staff member's view does not): ``restrict`` keeps the
    ``pk__in`` wrapper for those and filters the others with a plain WHERE. Anything it cannot
    read (an expression other than a subquery) counts as crossing: the wrapper is always right,
    only slower."""
    for child in q.children:
        if isinstance(child, Q):
            if crosses_to_many(model, child):
                return True
        elif isinstance(child, tuple) and len(child) == 2:
            lookup, value = child
            if _path_crosses_to_many(model, lookup):
                return True
            if isinstance(value, F):
                if _path_crosses_to_many(model, value.name):
                    return True
            elif hasattr(value, "resolve_expression") and not isinstance(
                value, (QuerySet, Subquery)
            ):
                return True
        elif not isinstance(child, Subquery):  # EXISTS (…) never repeats a row
            return True
    return False


def _path_crosses_to_many(model, lookup: str) -> bool:
    opts = model._meta
    for name in lookup.split(LOOKUP_SEP):
        if name == "pk":
            return False
        try:
            field = opts.get_field(name)
        except FieldDoesNotExist:
            return False  # a lookup or transform (in, isnull, year…): the path ends here
        if not field.is_relation:
            return False
        if field.one_to_many or field.many_to_many:
            return True
        opts = field.related_model._meta
    return False


def restrict(queryset: QuerySet, user, action: str = VIEW) -> QuerySet:
    """The objects of ``queryset`` that ``user`` may take ``action`` on (none if the role
    lacks the action)."""
    if not can(user, action):
        return queryset.none()
    scope = scope_of(user)
    if scope.everything:
        return queryset
    label = queryset.model._meta.label_lower
    if label not in RULES:
        raise LookupError(f"no scope rule for {label}")
    rule = RULES[label](scope, action)
    filtered = queryset.filter(rule)
    if label in DISTINCT and crosses_to_many(queryset.model, rule):
        # Joins through allocations and assignments can repeat rows; keep each object once.
        return queryset.filter(pk__in=filtered.values("pk"))
    # A plain WHERE (joins to one row at most): the planner uses the indexes of the filter and
    # of the ordering directly, and the capped count reads the table once (issue 19).
    return filtered


def allows(user, obj, action: str = VIEW) -> bool:
    """Whether ``user`` may take ``action`` on this one object (one query)."""
    return restrict(type(obj)._default_manager.filter(pk=obj.pk), user, action).exists()
