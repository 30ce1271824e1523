"""What the station register shows above its list: counts by status and by class, and the
stations drawn on the map with their coordinates (the map's text alternative). Three queries
whatever the number of stations: counts by status (with how many have coordinates), counts by
class, the stations with coordinates.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count, Q, QuerySet

from stations.choices import StationClass, StationStatus
from stations.models import Station

# Every status its own point shape on the map, so colour is never the only signal; the
# legend and the table name the shape in words.
STATUS_SYMBOLS: dict[str, tuple[str, str, str]] = {
    StationStatus.IN_SERVICE: ("circle", "圆形", "#198754"),
    StationStatus.BUILT: ("rect", "方形", "#0d6efd"),
    StationStatus.UNDER_CONSTRUCTION: ("triangle", "三角形", "#b35900"),
    StationStatus.PLANNED: ("diamond", "菱形", "#6c757d"),
    StationStatus.RELOCATING: ("pin", "水滴形", "#6f42c1"),
    StationStatus.UPGRADING: ("arrow", "箭头形", "#0f766e"),
}
LOCATED = Q(lat__isnull=False, lon__isnull=False)


@dataclass
class Tally:
    value: str
    label: str
    count: int


@dataclass
class MappedStation:
    pk: int
    name: str
    status: str
    status_label: str
    symbol_label: str
    lon: Decimal
    lat: Decimal


@dataclass
class RegisterSummary:
    total: int = 0
    located: int = 0
    by_status: list[Tally] = field(default_factory=list)
    by_class: list[Tally] = field(default_factory=list)
    mapped: list[MappedStation] = field(default_factory=list)

    @property
    def not_located(self) -> int:
        return self.total - self.located


def legend() -> list[dict]:
    """Status, label, ECharts symbol, its name and colour: the map script's legend."""
    return [
        {"value": status.value, "label": str(status.label), "symbol": symbol, "shape": shape,
         "color": color}
        for status in StationStatus
        for symbol, shape, color in [STATUS_SYMBOLS[status]]
    ]  # fmt: skip


def register_summary(stations: QuerySet[Station]) -> RegisterSummary:
    """Counts of the (filtered, scoped) stations and those with coordinates."""
    stations = stations.order_by()
    summary = RegisterSummary()
    status_rows = {
        row["status"]: row
        for row in stations.values("status").annotate(
            n=Count("pk"), located=Count("pk", filter=LOCATED)
        )
    }
    for status in StationStatus:
        row = status_rows.get(status.value)
        if row:
            summary.by_status.append(Tally(status.value, str(status.label), row["n"]))
            summary.total += row["n"]
            summary.located += row["located"]
    class_counts = {
        row["station_class"]: row["n"]
        for row in stations.values("station_class").annotate(n=Count("pk"))
    }
    for value, label in [*StationClass.choices, ("", "未填站级")]:
        if class_counts.get(value):
            summary.by_class.append(Tally(value, str(label), class_counts[value]))
    labels = dict(StationStatus.choices)
    summary.mapped = [
        MappedStation(pk, name, status, str(labels[status]), STATUS_SYMBOLS[status][1], lon, lat)
        for pk, name, status, lon, lat in stations.filter(LOCATED)
        .order_by("name", "pk")
        .values_list("pk", "name", "status", "lon", "lat")
    ]
    return summary
