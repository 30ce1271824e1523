"""Target cascade (指标分解, issue 17): a target split among the regions below it, to any depth
(province → city → county → town), and a target that implements a higher-level one.

The levels of the split are the region tree's: an allocation's whole is the allocation of the
nearest region above it that has one for the same target, else the target itself. No
``Allocation.parent`` key: the figures roll up the region tree (``targets/rollup_store.py``,
own else the children's), so an allocation tree of its own could disagree with the tree the
figures are summed over — a county filed under another city's allocation would be judged
against figures that never reach it. Keyed by region, the two trees are one by construction,
"who owes a figure" stays the target's region ∪ its allocation regions at any depth
(``targets/owed.py``, unchanged) and the unique (target, region) key still holds.

Writes (staff in whose scope the target's plan lies, one transaction, a history row with the
reason on every allocation created, changed or removed): ``split_allocation`` sets the parts of
one level — the parts' sum over the whole is refused (``allocation_sum_exceeds``): a split that
gives out more than there is is a typing error or a plan error to settle first; less is allowed
(the rest stays with the whole) and the integrity check reports it. ``link_parent_target``
links a target under the higher-level one it implements.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from core.models import Region
from core.scope import VIEW, allows
from core.services import (
    InvalidInput,
    NotAllowed,
    ServiceError,
    check_may_change,
    checked_reason,
    lock_for_edit,
    save_versioned,
    validate,
)
from planning.services import check_plan_writable
from targets.models import Allocation, Target
from targets.status import compute_allocations, compute_status, load_status_inputs

ZERO = Decimal(0)


@dataclass
class CascadeNode:
    """One level of a target's split: the target itself (``allocation`` None) or an allocation,
    with the parts directly below it."""

    region_id: int
    region_name: str
    value: Decimal | None
    allocation: Allocation | None = None
    depth: int = 0
    children: list[CascadeNode] = field(default_factory=list)

    @property
    def parts_total(self) -> Decimal | None:
        if not self.children:
            return None
        return sum((child.value or ZERO for child in self.children), ZERO)

    @property
    def adds_up(self) -> bool | None:
        """None when there is nothing to compare (no parts, or no value for the whole)."""
        if not self.children or self.value is None:
            return None
        return self.parts_total == self.value

    def walk(self) -> Iterable[CascadeNode]:
        """This node and every node below it, depth first, in display order."""
        yield self
        for child in self.children:
            yield from child.walk()


def whole_regions(
    target_region_id: int, allocations: Iterable[Allocation], parent_of: Mapping[int, int | None]
) -> dict[int, int | None]:
    """Each allocation's region → the region of its whole: the nearest region above it with an
    allocation of the same target, or None for the target itself."""
    allocations = list(allocations)
    allocated = {a.region_id for a in allocations}
    wholes: dict[int, int | None] = {}
    for allocation in allocations:
        above, seen = parent_of.get(allocation.region_id), {allocation.region_id}
        while above is not None and above not in allocated and above != target_region_id:
            if above in seen:  # a cycle in the tree (forbidden): stop at the target
                break
            seen.add(above)
            above = parent_of.get(above)
        wholes[allocation.region_id] = above if above in allocated else None
    return wholes


def cascade_tree(
    target: Target,
    allocations: Iterable[Allocation],
    parent_of: Mapping[int, int | None],
    names: Mapping[int, str],
) -> CascadeNode:
    """The target and its allocations as a tree (no query: the caller passes what it loaded)."""
    allocations = sorted(allocations, key=lambda a: names.get(a.region_id, ""))
    wholes = whole_regions(target.region_id, allocations, parent_of)
    root = CascadeNode(target.region_id, names.get(target.region_id, ""), target.target_value)
    nodes = {
        a.region_id: CascadeNode(a.region_id, names.get(a.region_id, ""), a.value, a)
        for a in allocations
    }
    for allocation in allocations:
        whole = wholes[allocation.region_id]
        (root if whole is None else nodes[whole]).children.append(nodes[allocation.region_id])
    for node in root.walk():
        for child in node.children:
            child.depth = node.depth + 1
    return root


def _parent_map() -> dict[int, int | None]:
    return dict(Region.objects.values_list("pk", "parent_id"))


def _as_value(raw: Any, name: str) -> Decimal | None:
    if raw is None or raw == "":
        return None
    value = raw if isinstance(raw, Decimal) else Decimal(str(raw))
    if not value.is_finite() or value < 0:
        raise InvalidInput.for_model(
            Allocation, {"value": [_("%(region)s 的分解值应为非负数字") % {"region": name}]}
        )
    return value


@transaction.atomic
def split_allocation(
    target: Target,
    *,
    actor,
    whole_region_id: int | None,
    values: Mapping[int, Any],
    reason: str,
) -> list[Allocation]:
    """Set the parts of one level of ``target``'s split: ``values`` maps regions below the
    whole (the target's region when ``whole_region_id`` is None, else that allocation's
    region) to their value, None or "" to remove a part. Regions must be children of the
    whole's region or parts it already has. Returns the level's parts after the change.

    Refused: out of scope (403); no reason; a region not directly below the whole; removing a
    part that is itself split (remove its parts first); parts adding up to more than the
    whole. The target row is locked for the transaction: two splits of one target run one
    after the other, each checking the sum the other left."""
    check_may_change(actor, target)
    check_plan_writable(target.plan)
    target = Target.objects.select_for_update().select_related("region").get(pk=target.pk)
    reason = checked_reason(reason)  # ≤ 100 characters, the history's column
    if not reason:
        raise InvalidInput({"reason": [_("请填写分解或调整的理由")]}, {"reason": _("理由")})
    parent_of = _parent_map()
    allocations = list(Allocation.objects.filter(target=target).select_related("region"))
    by_region = {a.region_id: a for a in allocations}
    wholes = whole_regions(target.region_id, allocations, parent_of)
    if whole_region_id is None or whole_region_id == target.region_id:
        whole_region_id, whole_key = target.region_id, None
    elif whole_region_id in by_region:
        whole_key = whole_region_id
    else:
        raise ServiceError("allocation_not_found", _("该区划没有这一指标的分解值，无法继续分解"))
    current_parts = {r for r, whole in wholes.items() if whole == whole_key}
    children = {r for r, p in parent_of.items() if p == whole_region_id}
    names = dict(Region.objects.filter(pk__in=list(values)).values_list("pk", "name"))
    errors: dict[str | None, list[str]] = {}
    parsed: dict[int, Decimal | None] = {}
    for region_id, raw in values.items():
        name = names.get(region_id, str(region_id))
        if region_id not in children and region_id not in current_parts:
            errors.setdefault(None, []).append(
                _("%(region)s 不是 %(whole)s 的直接下级，不能在这一级分解")
                % {"region": name, "whole": _region_name(whole_region_id, target, by_region)}
            )
            continue
        try:
            parsed[region_id] = _as_value(raw, name)
        except InvalidInput as error:
            errors.setdefault("value", []).extend(error.errors["value"])
    for region_id, value in parsed.items():
        below = [r for r, whole in wholes.items() if whole == region_id]
        if value is None and region_id in by_region and below:
            errors.setdefault(None, []).append(
                _("%(region)s 已继续分解到下级，请先删除其下级分解")
                % {"region": names.get(region_id, str(region_id))}
            )
    if errors:
        raise InvalidInput.for_model(Allocation, errors)
    for region_id, value in sorted(parsed.items()):
        existing = by_region.get(region_id)
        if value is None:
            if existing is not None:
                existing._history_user, existing._change_reason = actor, reason
                existing.delete()
            continue
        if existing is None:
            allocation = Allocation(target=target, region_id=region_id, value=value)
            validate(allocation)
            allocation._history_user, allocation._change_reason = actor, reason
            allocation.save()
        elif existing.value != value:
            existing.value = value
            existing._history_user, existing._change_reason = actor, reason
            existing.save(update_fields=["value"])
    # The sums on the tree as it is now (a new part may have gathered parts that sat one level
    # up): the whole, and every part given a value, must hold at least what is split below it.
    # A refusal rolls the writes above back with the transaction. Retired parts (停用) no
    # longer count.
    allocations = list(
        Allocation.objects.filter(target=target, retired_on__isnull=True).select_related("region")
    )
    names = {a.region_id: a.region.name for a in allocations}
    names[target.region_id] = target.region.name
    tree = cascade_tree(target, allocations, parent_of, names)
    checked = {whole_region_id, *(r for r, v in parsed.items() if v is not None)}
    for node in tree.walk():
        total = node.parts_total
        if node.region_id in checked and node.value is not None and total is not None:
            if total > node.value:
                raise ServiceError(
                    "allocation_sum_exceeds",
                    _("分解合计 %(total)s 超过 %(whole)s 的 %(value)s，未保存")
                    % {
                        "total": _plain(total),
                        "whole": node.region_name,
                        "value": _plain(node.value),
                    },
                    field="value",
                )
    level = next(node for node in tree.walk() if node.region_id == whole_region_id)
    return [child.allocation for child in level.children]


def _plain(value: Decimal) -> str:
    return format(value.normalize(), "f")


def _region_name(region_id: int, target: Target, by_region: Mapping[int, Allocation]) -> str:
    if region_id == target.region_id:
        return target.region.name
    return by_region[region_id].region.name


def parent_target_problem(target: Target, parent: Target | None) -> str | None:
    """Why ``parent`` cannot be the target ``target`` implements, or None: it must be set for
    the target's region or a region above it, and be neither the target nor one below it."""
    if parent is None:
        return None
    chain, node = set(), parent
    while node is not None and node.pk not in chain:
        if node.pk == target.pk:
            return _("上级指标不能是本指标或其下级指标")
        chain.add(node.pk)
        node = node.parent_target
    parent_of = _parent_map()
    above, seen = target.region_id, set()
    while above is not None and above != parent.region_id and above not in seen:
        seen.add(above)
        above = parent_of.get(above)
    if above != parent.region_id:
        return _("上级指标的区划应为本指标区划或其上级区划")
    return None


@transaction.atomic
def link_parent_target(
    target: Target, *, actor, parent: Target | None, version: int | None, reason: str
) -> Target:
    """Link ``target`` under the higher-level target it implements (None unlinks), with a
    reason for the history: the parent must be visible to the actor and pass
    ``parent_target_problem``. (The edit page and the API's PATCH set it too, through
    ``targets.upkeep.update_target``, which applies the same rule.)"""
    check_may_change(actor, target)
    check_plan_writable(target.plan)
    target = lock_for_edit(Target, target.pk, version)
    reason = checked_reason(reason)
    if not reason:
        raise InvalidInput({"reason": [_("请填写理由")]}, {"reason": _("理由")})
    if parent is not None and not allows(actor, parent, VIEW):
        raise NotAllowed("related_out_of_scope", _("所选上级指标不在您的范围内"))
    problem = parent_target_problem(target, parent)
    if problem:
        raise InvalidInput.for_model(Target, {"parent_target": [problem]})
    if target.parent_target_id == (parent.pk if parent else None):
        return target
    target.parent_target = parent
    save_versioned(target, ["parent_target"], actor=actor, reason=reason)
    return target


def related_targets(target: Target, user) -> list[Target]:
    """The target it implements (when the user may see it) and the targets implementing it
    that the user may see, with their plans and regions: two queries at most."""
    related = []
    if target.parent_target_id:
        parent = (
            Target.objects.for_user(user, VIEW)
            .select_related("plan", "region")
            .filter(pk=target.parent_target_id)
            .first()
        )
        related += [parent] if parent is not None else []
    related += (
        Target.objects.for_user(user, VIEW)
        .filter(parent_target=target)
        .select_related("plan", "region")
        .order_by("plan__start_year", "region__name", "pk")
    )
    return related


def target_cascade(target: Target, *, user, on) -> dict:
    """The API's view of the cascade (``TargetCascadeSerializer``): the target above, those
    below and the split as a depth-first list, each with the engine's figure and light.
    A fixed number of queries, whatever the depth and width of the tree."""
    related = related_targets(target, user)
    inputs = load_status_inputs([target, *related])
    allocations = compute_allocations(target, inputs, on=on)
    judged = {a.region_id: p for a, p in allocations}
    judged[target.region_id] = compute_status(target, inputs, on=on)
    tree = cascade_tree(
        target, (a for a, _ in allocations), inputs.regions.parent, inputs.regions.names
    )

    def brief(other: Target) -> dict:
        progress = compute_status(other, inputs, on=on)
        return {
            "id": other.pk,
            "code": other.code,
            "name": other.name,
            "plan": other.plan_id,
            "region": other.region_id,
            "region_name": other.region.name,
            "target_value": other.target_value,
            "actual": progress.actual,
            "status": progress.status,
        }

    levels = []

    def visit(node: CascadeNode, whole: int | None) -> None:
        progress = judged[node.region_id] if node.allocation or whole is None else None
        levels.append(
            {
                "region": node.region_id,
                "region_name": node.region_name,
                "whole_region": whole,
                "depth": node.depth,
                "value": node.value,
                "parts_total": node.parts_total,
                "adds_up": node.adds_up,
                "actual": progress.actual if progress else None,
                "status": progress.status if progress else None,
            }
        )
        for child in node.children:
            visit(child, node.region_id)

    visit(tree, None)
    parent = next((t for t in related if t.pk == target.parent_target_id), None)
    return {
        "target": target.pk,
        "on": on,
        "parent": brief(parent) if parent is not None else None,
        "children": [brief(t) for t in related if t.parent_target_id == target.pk],
        "levels": levels,
    }
