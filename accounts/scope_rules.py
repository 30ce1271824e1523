"""Who may see and manage people: those of regions inside the scope (core.scope)."""

from core.scope import in_regions, inside, register

register("accounts.profile", inside("region_id"))
register("auth.user", lambda scope, action: in_regions("profile__region_id", scope.region_ids))
