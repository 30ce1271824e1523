"""The station register (消防站台账): list with filters, detail, edit and create. Views parse
input and call stations.services; outside the scope is 404, lacking the role 403."""

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.api import StandardPagination
from core.editing import (
    editable_or_404,
    export_redirect,
    may_change_region,
    run_service,
    visible_or_404,
)
from core.history import history_entries
from core.scope import CHANGE, can, require
from stations import dashboards, services
from stations.filtersets import StationFilterSet
from stations.forms import StationForm
from stations.models import Station

PAGE_SIZE = 50


def station_list(request):
    if request.GET.get("export") == "xlsx":
        # Old links: the register export is a reports view (same filters).
        return export_redirect(request, "reports:excel_station_register")
    queryset = Station.objects.for_user(request.user).select_related("region", "plan")
    filterset = StationFilterSet(request.GET, queryset=queryset, request=request)
    stations = filterset.qs
    sort = filterset.form.cleaned_data.get("sort") if filterset.is_valid() else None
    if sort:  # the chosen column, then a stable tie-break so pages never overlap
        stations = stations.order_by(*stations.query.order_by, "name", "pk")
    else:
        stations = stations.order_by("region__name", "name", "pk")
    page = Paginator(stations, PAGE_SIZE).get_page(request.GET.get("page"))
    for station in page:
        station.can_change = may_change_region(request.user, station.region_id)
    context = {
        "filterset": filterset,
        "page": page,
        "can_create": can(request.user, CHANGE),
        "summary": dashboards.register_summary(filterset.qs),
        "columns": sort_columns(request, sort[0] if sort else ""),
        "map_legend": dashboards.legend(),
        "map_data_url": map_data_url(request),
        "map_tile_url": settings.STATION_MAP_TILE_URL,
    }
    return render(request, "stations/station_list.html", context)


SORT_COLUMNS = [
    ("name", gettext_lazy("名称")),
    ("region", gettext_lazy("区划")),
    ("station_class", gettext_lazy("站级")),
    ("force_type", gettext_lazy("队伍性质")),
    ("status", gettext_lazy("状态")),
    ("build_type", gettext_lazy("建设方式")),
    ("planned_year", gettext_lazy("计划年度")),
    ("completed_year", gettext_lazy("建成年度")),
    ("floor_area", gettext_lazy("建筑面积（㎡）")),
]


def sort_columns(request, current: str) -> list[dict]:
    """Header links of the register: a click sorts by the column, a second click reverses it;
    ``aria_sort`` tells screen readers which column is sorted and how."""
    columns = []
    for key, label in SORT_COLUMNS:
        query = request.GET.copy()
        query.pop("page", None)
        ascending, descending = current == key, current == f"-{key}"
        query["sort"] = f"-{key}" if ascending else key
        columns.append(
            {
                "key": key,
                "label": label,
                "url": f"?{query.urlencode()}",
                "aria_sort": "ascending" if ascending else "descending" if descending else "",
                "arrow": "↑" if ascending else "↓" if descending else "",
            }
        )
    return columns


def map_data_url(request) -> str:
    """The API's station list with this page's filters, only stations with coordinates, in
    the largest pages the API gives (the map script follows ``next``)."""
    query = request.GET.copy()
    for name in ("page", "export", "page_size", "sort"):
        query.pop(name, None)
    query["has_coordinates"] = "true"
    query["page_size"] = str(StandardPagination.max_page_size)
    return f"{reverse('station-list')}?{query.urlencode()}"


def station_detail(request, pk: int):
    station = visible_or_404(request, Station.objects.select_related("region", "plan"), pk)
    context = {
        "station": station,
        "can_change": may_change_region(request.user, station.region_id),
        "history": history_entries(station),
    }
    return render(request, "stations/station_detail.html", context)


def station_edit(request, pk: int):
    station = editable_or_404(request, Station.objects.select_related("region", "plan"), pk)
    form = StationForm(
        request.POST if request.method == "POST" else None, instance=station, user=request.user
    )
    status = 200
    if request.method == "POST":
        saved, status = run_service(
            form,
            lambda changes, version: services.update_station(
                station, actor=request.user, version=version, changes=changes
            ),
        )
        if saved is not None:
            messages.success(request, _("已保存：%(name)s") % {"name": saved.name})
            return redirect("stations:station_detail", pk=saved.pk)
    context = {"station": station, "form": form, "history": history_entries(station)}
    return render(request, "stations/station_form.html", context, status=status)


def station_create(request):
    require(request.user, CHANGE)
    form = StationForm(request.POST if request.method == "POST" else None, user=request.user)
    status = 200
    if request.method == "POST":
        saved, status = run_service(
            form,
            lambda values, version: services.create_station(actor=request.user, values=values),
        )
        if saved is not None:
            messages.success(request, _("已新增消防站：%(name)s") % {"name": saved.name})
            return redirect("stations:station_detail", pk=saved.pk)
    return render(request, "stations/station_form.html", {"form": form}, status=status)
