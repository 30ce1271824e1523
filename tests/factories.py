"""Small builders for rows the tests need beyond the seed plans."""

from core.models import Region
from planning.models import Plan, Task
from targets.models import Target


def region(name: str = "测试市", *, level: str = "city", parent: Region | None = None) -> Region:
    return Region.objects.create(name=name, level=level, parent=parent)


def plan(code: str = "test-plan", **fields) -> Plan:
    fields.setdefault("region", fields.get("region") or region())
    fields = {
        "title": "测试规划",
        "kind": "five_year",
        "start_year": 2021,
        "end_year": 2025,
    } | fields
    return Plan.objects.create(code=code, **fields)


def task(owner: Plan, code: str = "t1", **fields) -> Task:
    return Task.objects.create(plan=owner, code=code, title=fields.pop("title", "任务"), **fields)


def target(owner: Plan, code: str = "g1", **fields) -> Target:
    fields = {
        "name": "新建消防站",
        "measure": "increment",
        "target_value": 10,
        "target_year": 2025,
        "region": owner.region,
    } | fields
    return Target.objects.create(plan=owner, code=code, **fields)
