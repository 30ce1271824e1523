"""The station register (消防站台账): list with filters, detail, edit and create. Views parse
input and call stations.services; outside the scope is 404, lacking the role 403."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import redirect, render

from accounts.scope import CHANGE, can, require
from fireplan.history import history_entries
from planning.editing import editable_or_404, may_change_region, run_service, visible_or_404

from . import services
from .filtersets import StationFilterSet
from .forms import StationForm
from .models import Station

PAGE_SIZE = 50


def station_list(request):
    if request.GET.get("export") == "xlsx":
        # The same FilterSet and scope as this page (reports.excel_views).
        from reports.excel_views import station_register_export

        return station_register_export(request)
    queryset = Station.objects.for_user(request.user).select_related("region", "plan")
    filterset = StationFilterSet(request.GET, queryset=queryset, request=request)
    page = Paginator(filterset.qs.order_by("region__name", "name", "pk"), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    for station in page:
        station.can_change = may_change_region(request.user, station.region_id)
    context = {"filterset": filterset, "page": page, "can_create": can(request.user, CHANGE)}
    return render(request, "stations/station_list.html", context)


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
            messages.success(request, f"已保存：{saved.name}")
            return redirect("station_detail", pk=saved.pk)
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
            messages.success(request, f"已新增消防站：{saved.name}")
            return redirect("station_detail", pk=saved.pk)
    return render(request, "stations/station_form.html", {"form": form}, status=status)
