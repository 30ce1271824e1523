"""API permission and throttle classes, named in settings.REST_FRAMEWORK.

Kept apart from core.api: DRF imports these while ``rest_framework.views`` is still
loading, so this module must not import DRF views.
"""

from rest_framework import permissions
from rest_framework.throttling import UserRateThrottle

from core.scope import VIEW, can


class RoleAndScope(permissions.BasePermission):
    """Reads need the VIEW action; writes need the view's ``write_action`` (CHANGE or
    REPORT). Scope is applied by the querysets (outside → 404), not here."""

    def has_permission(self, request, view) -> bool:
        if not request.user or not request.user.is_authenticated:
            return False
        if request.method in permissions.SAFE_METHODS:
            return can(request.user, VIEW)
        action = getattr(view, "write_actions", {}).get(getattr(view, "action", None))
        action = action or getattr(view, "write_action", None)
        return bool(action) and can(request.user, action)


class TokenRateThrottle(UserRateThrottle):
    """Throttle token-authenticated traffic (outside systems); browser sessions are not."""

    scope = "token"

    def allow_request(self, request, view):
        if request.auth is None:
            return True
        return super().allow_request(request, view)
