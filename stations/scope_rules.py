"""Who may see and change stations: located by the station's region (core.scope)."""

from core.scope import located, register

register("stations.station", located("region_id"))
