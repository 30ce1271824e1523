"""Who may see and change regions and units (core.scope)."""

from core.scope import located, register

register("core.region", located("id"))
register("core.unit", located("region_id"))
