"""Who may see and manage people: those of regions inside the scope (core.scope)."""

from django.db.models import Q

from core.scope import inside, register

register("accounts.profile", inside("region_id"))
register("auth.user", lambda scope, action: Q(profile__region_id__in=scope.region_ids))
