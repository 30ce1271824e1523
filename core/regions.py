"""The region tree in memory: one query, then sub-tree and ancestor look-ups without more."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from core.models import Region


@dataclass
class RegionTree:
    parent: dict[int, int | None] = field(default_factory=dict)
    children: dict[int, list[int]] = field(default_factory=lambda: defaultdict(list))
    names: dict[int, str] = field(default_factory=dict)

    @classmethod
    def load(cls) -> RegionTree:
        tree = cls()
        for pk, parent_id, name in Region.objects.values_list("pk", "parent_id", "name"):
            tree.parent[pk] = parent_id
            tree.names[pk] = name
            if parent_id is not None:
                tree.children[parent_id].append(pk)
        return tree

    def subtree(self, region_id: int) -> set[int]:
        """The region and every region below it."""
        found, stack = set(), [region_id]
        while stack:
            current = stack.pop()
            if current in found:
                continue
            found.add(current)
            stack.extend(self.children.get(current, ()))
        return found

    def ancestors(self, region_id: int) -> list[int]:
        chain, current = [], self.parent.get(region_id)
        while current is not None and current not in chain:
            chain.append(current)
            current = self.parent.get(current)
        return chain
