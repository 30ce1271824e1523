"""The whole URL map, walked: every pattern of ``get_resolver()`` (pages, admin, API) with its
path parameters filled in from a set of objects of one region (连州), so that a test can send
each URL as a user inside that region (every page works) or outside it (every page refuses).

A pattern with parameters this module cannot fill makes ``unmapped()`` name it: a new page
must say here which object its parameters point at, so no page escapes the scope walk.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import URLPattern, URLResolver, get_resolver, resolve

from core.models import Job, Region, Unit
from core.regions import RegionTree
from plan_import.models import PlanDraft
from planning import services as planning_services
from planning.models import Plan, Section, Stage, Task
from reports.models import ImportBatch
from stations.models import Station
from targets import services as target_services
from targets.models import Allocation, BaseFigure, FireStatistic, Milestone, Target

SENTINEL = "越界哨兵"  # in names and notes of the 连州 objects: must never show outside 连州
PLAN = "lianzhou-2021-2025"

# Deliberately public (Django's login and password-reset pages, the API schema and docs, the
# load balancer's probe): no login, no object of any region.
PUBLIC = {
    "login",
    "logout",
    "password_reset",
    "password_reset_done",
    "password_reset_confirm",
    "password_reset_complete",
    "api_schema",
    "api_docs",
    "api_redoc",
    "healthz",
    "api_auth_token",  # POST username and password → token (axes counts failures)
}
PUBLIC_VALUES = {"uidb64": "MQ", "token": "set-password"}


@dataclass
class Lianzhou:
    """Objects of 连州 (plan, its parts, figures, a report, an import, a user)."""

    plan: Plan
    stage: Stage
    section: Section
    task: Task
    target: Target
    milestone: Milestone
    region: Region
    unit: Unit
    station: Station
    allocation: Allocation
    fire_statistic: FireStatistic
    base_figure: BaseFigure
    report: object
    evidence: object
    period: object
    batch: ImportBatch
    task_update: object
    user: object
    year: int = 2024
    plan_draft: object = None  # an imported plan document under review, owned by ``staff``
    job: object = None  # a background job (an export), owned by ``staff``


Objects = Lianzhou


def build_objects(*, reporter, staff, period) -> Objects:
    """The 连州 objects, with a report (and its evidence file: set MEDIA_ROOT first), a task
    update and an import batch created for the test (as ``reporter`` and ``staff`` of 连州);
    ``period`` is the open 2024 period of its plan."""
    plan = Plan.objects.get(code=PLAN)
    region = Region.objects.get(name="连州市")
    inside = RegionTree.load().subtree(region.pk)
    target = Target.objects.get(plan=plan, code="t-hydrants")
    report = target_services.save_report(
        actor=reporter, target=target, region=region, period="2024", value=2,
        note=SENTINEL, submit=True,
        evidence=[SimpleUploadedFile(f"{SENTINEL}.pdf", b"%PDF-1.7\n%%EOF\n")],
    )  # fmt: skip
    task = Task.objects.filter(plan=plan).order_by("pk").first()
    task_update = planning_services.post_task_update(task, actor=staff, text=SENTINEL)
    station = Station.objects.filter(region_id__in=inside).order_by("pk").first()
    Station.objects.filter(pk=station.pk).update(name=f"{SENTINEL}消防站")  # no history: fixture
    batch = ImportBatch.objects.create(
        file="imports/walk.xlsx", original_name=f"{SENTINEL}.xlsx", sha256="0" * 64,
        plan=plan, region=region, period="2024", uploaded_by=reporter,
    )  # fmt: skip
    return Objects(
        plan=plan,
        stage=Stage.objects.filter(plan=plan).order_by("pk").first(),
        section=Section.objects.filter(plan=plan).order_by("pk").first(),
        task=task,
        target=target,
        milestone=Milestone.objects.filter(plan=plan).order_by("pk").first(),
        region=region,
        unit=Unit.objects.filter(region=region).order_by("pk").first(),
        station=station,
        allocation=Allocation.objects.filter(target__plan=plan).order_by("pk").first(),
        fire_statistic=FireStatistic.objects.filter(region_id__in=inside).order_by("pk").first(),
        base_figure=BaseFigure.objects.filter(region_id__in=inside).order_by("pk").first(),
        report=report,
        evidence=report.evidence.get(),
        period=period,
        batch=batch,
        task_update=task_update,
        user=staff,
        plan_draft=PlanDraft.objects.create(
            owner=staff,
            file_name=f"{SENTINEL}.docx",
            document_text=SENTINEL,
            data={"plan": {"title": SENTINEL, "start_year": 2021, "end_year": 2025}},
        ),
        job=Job.objects.create(
            owner=staff,
            kind="ledger_export",
            title=f"{SENTINEL}导出",
            parameters={"ledger": "stations", "query": ""},
        ),
    )


def _pk(name: str) -> Callable[[Objects], dict]:
    return lambda o: {"pk": getattr(o, name).pk}


# Every page with path parameters (by its namespaced name) → the 连州 object(s) they name. The
# old addresses of moved pages (namespace "moved", fireplan/moved_urls.py) take the parameters
# of the page they lead to.
PAGE_PARAMS: dict[str, Callable[[Objects], dict]] = {
    "targets:report_edit": lambda o: {
        "target_id": o.target.pk,
        "region_id": o.region.pk,
        "period": "2024",
    },
    "targets:report_submit": _pk("report"),
    "targets:report_approve": _pk("report"),
    "targets:report_return": _pk("report"),
    "targets:report_reopen": _pk("report"),
    "accounts:user_edit": _pk("user"),
    "accounts:user_password": _pk("user"),
    "reports:lock_exception_grant": _pk("period"),
    "reports:plan_detail": _pk("plan"),
    "reports:plan_briefing": _pk("plan"),
    "reports:plan_successor": _pk("plan"),
    "reports:plan_evaluation_report": _pk("plan"),
    "planning:plan_edit": _pk("plan"),
    "planning:section_edit": _pk("section"),
    "planning:section_create": _pk("plan"),
    "planning:stage_create": _pk("plan"),
    "planning:stage_edit": _pk("stage"),
    "planning:task_create": _pk("plan"),
    "planning:section_move": _pk("section"),
    "reports:task_detail": _pk("task"),
    "planning:task_edit": _pk("task"),
    "reports:task_update_create": _pk("task"),
    "reports:region_detail": _pk("region"),
    "reports:region_briefing": _pk("region"),
    "reports:unit_detail": _pk("unit"),
    "stations:station_detail": _pk("station"),
    "stations:station_edit": _pk("station"),
    "targets:target_detail": _pk("target"),
    "targets:target_edit": _pk("target"),
    "targets:target_adjust": _pk("target"),
    "targets:allocation_split": _pk("target"),
    "targets:allocation_split_region": lambda o: {
        "pk": o.allocation.target_id,
        "region_id": o.allocation.region_id,
    },
    "targets:target_evaluation_note": _pk("target"),
    "targets:milestone_edit": _pk("milestone"),
    "plan_import:review": _pk("plan_draft"),
    "targets:target_create": lambda o: {"plan_id": o.plan.pk},
    "targets:milestone_create": lambda o: {"target_id": o.target.pk},
    "targets:task_milestone_create": lambda o: {"task_id": o.task.pk},
    "targets:base_figures": lambda o: {"region_id": o.region.pk, "year": o.year},
    "reports:excel_preview": _pk("batch"),
    "reports:excel_commit": _pk("batch"),
    "reports:excel_scheme": lambda o: {"plan_id": o.plan.pk, "year": o.year},
    "core:evidence_download": _pk("evidence"),
    "core:job_detail": _pk("job"),
    "core:job_progress": _pk("job"),
    "core:job_cancel": _pk("job"),
    "core:job_download": _pk("job"),
    # 停用 / 恢复 / 删除 / 归档 (POST): the walk's outsiders try the most destructive one
    "planning:plan_archive": lambda o: {"pk": o.plan.pk, "action": "archive"},
    "planning:section_action": lambda o: {"pk": o.section.pk, "action": "delete"},
    "planning:task_action": lambda o: {"pk": o.task.pk, "action": "delete"},
    "targets:target_action": lambda o: {"pk": o.target.pk, "action": "delete"},
    "targets:milestone_action": lambda o: {"pk": o.milestone.pk, "action": "delete"},
    "targets:allocation_action": lambda o: {"pk": o.allocation.pk, "action": "delete"},
}

# Every API resource (router basename) with a detail route → its 连州 object.
API_OBJECTS: dict[str, str] = {
    "region": "region",
    "unit": "unit",
    "plan": "plan",
    "section": "section",
    "task": "task",
    "task-update": "task_update",
    "target": "target",
    "milestone": "milestone",
    "allocation": "allocation",
    "report": "report",
    "fire-statistic": "fire_statistic",
    "base-figure": "base_figure",
    "station": "station",
    "job": "job",
}
# API paths (schema) by their first segment → basename.
API_SEGMENTS = {
    "regions": "region",
    "units": "unit",
    "plans": "plan",
    "sections": "section",
    "tasks": "task",
    "task-updates": "task-update",
    "targets": "target",
    "milestones": "milestone",
    "allocations": "allocation",
    "reports": "report",
    "fire-statistics": "fire-statistic",
    "base-figures": "base-figure",
    "stations": "station",
    "jobs": "job",
}


@dataclass
class Pattern:
    route: str  # the pattern's text, prefixes joined: "plans/<int:pk>/edit/"
    name: str  # "planning:plan_edit", "admin:planning_plan_change", "" when unnamed
    pattern: URLPattern

    @property
    def kind(self) -> str:
        if self.name.split(":")[-1] in PUBLIC:  # the admin's login and logout too
            return "public"
        if self.moved_to:
            return "moved"
        if self.route.startswith("admin/"):
            return "admin"
        if self.route.startswith("api/"):
            return "api"
        return "page"

    @property
    def moved_to(self) -> str:
        """For an old address (fireplan/moved_urls.py): the name of the page it leads to."""
        if not self.name.startswith("moved:"):
            return ""
        return self.pattern.callback.view_initkwargs["pattern_name"]

    @property
    def params(self) -> list[str]:
        names = re.findall(r"<(?:\w+:)?(\w+)>", self.route)
        return names + ["_"] * len(re.findall(r"\((?!\?)", self.route))

    @property
    def object_params(self) -> list[str]:
        return [p for p in self.params if p != "format"]

    @property
    def basename(self) -> str:
        return self.name.rsplit("-", 1)[0] if "-" in self.name else ""

    def __str__(self) -> str:
        return f"{self.name or '(unnamed)'} {self.route}"


def patterns() -> list[Pattern]:
    def walk(resolver, prefix: str, namespaces: tuple) -> Iterator[Pattern]:
        for entry in resolver.url_patterns:
            if isinstance(entry, URLResolver):
                space = (*namespaces, entry.namespace) if entry.namespace else namespaces
                yield from walk(entry, prefix + str(entry.pattern), space)
            else:
                name = ":".join((*namespaces, entry.name)) if entry.name else ""
                yield Pattern(prefix + str(entry.pattern), name, entry)

    return list(walk(get_resolver(), "", ()))


def fill(route: str, values: dict, positional: list | tuple = ()) -> str:
    """The URL of ``route`` with its parameters set: path converters, named regex groups and
    (simple-history's admin) unnamed groups."""
    queue = list(positional)
    url = route.replace("<drf_format_suffix:format>", ".json")
    url = re.sub(r"\(\?P<(\w+)>[^()]*\)", lambda m: str(values[m.group(1)]), url)
    url = re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(values[m.group(1)]), url)
    url = re.sub(r"\((?!\?)[^()]*\)", lambda m: str(queue.pop(0)), url)
    url = url.replace("^", "").replace("$", "").replace("\\.", ".").replace("/?", "/")
    return "/" + url


def url_of(pattern: Pattern, objects: Objects) -> str | None:
    """The URL of ``pattern`` naming the 连州 objects (None: parameters not mapped)."""
    params = pattern.object_params
    if pattern.kind == "admin":
        values = {
            "app_label": "planning",
            "object_id": objects.plan.pk,
            "id": objects.user.pk,
            "content_type_id": 1,
            "url": "nowhere/",
        }
        url = fill(pattern.route, values, [objects.plan.pk, 1])
    elif pattern.kind == "public":
        url = fill(pattern.route, PUBLIC_VALUES | {"format": "json"})
    elif not params:
        url = fill(pattern.route, {"format": "json"})
    elif (pattern.moved_to or pattern.name) in PAGE_PARAMS:
        url = fill(pattern.route, PAGE_PARAMS[pattern.moved_to or pattern.name](objects))
    elif pattern.kind == "api" and params == ["pk"] and pattern.basename in API_OBJECTS:
        obj = getattr(objects, API_OBJECTS[pattern.basename])
        url = fill(pattern.route, {"pk": obj.pk, "format": "json"})
    else:
        return None
    match = resolve(url.split("?")[0])
    assert match.func == pattern.pattern.callback, f"{url} resolves elsewhere than {pattern}"
    return url


def unmapped(objects: Objects) -> list[str]:
    return [str(p) for p in patterns() if url_of(p, objects) is None]
