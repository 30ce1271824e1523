"""Django's model backend, loading the user's profile with the user.

Every request computes the user's scope from the profile (core.scope); reading both in
one query keeps every page and endpoint one query shorter, whatever it shows.
"""

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend


class ProfileModelBackend(ModelBackend):
    def get_user(self, user_id):
        user_model = get_user_model()
        try:
            user = user_model._default_manager.select_related("profile").get(pk=user_id)
        except user_model.DoesNotExist:
            return None
        return user if self.user_can_authenticate(user) else None
