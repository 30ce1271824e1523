"""A user's API tokens end when the password changes and when the account is deactivated,
whichever way that happens: the user's own password change, a reset by e-mail, an admin's
reset on the user page (accounts.services.set_password), Django's admin, ``changepassword``.

Every one of those saves the User, so one receiver covers them all. It runs before the save
and inside its transaction when there is one (the services' writes): the tokens end together
with the change or not at all; outside a transaction (Django's own password views) they end
just before it, never after. A reactivated account therefore has no token to come back.
(A change made with ``QuerySet.update()`` bypasses signals; nothing in the app does that to
a password or ``is_active``, and the token check refuses inactive users anyway.)
"""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models.signals import pre_save
from django.dispatch import receiver

from accounts.services import end_api_tokens

WATCHED_FIELDS = {"password", "is_active"}


@receiver(pre_save, sender=settings.AUTH_USER_MODEL, dispatch_uid="accounts.end_api_tokens")
def end_tokens_on_password_change_or_deactivation(sender, instance, raw=False, **kwargs):
    if raw or instance.pk is None:  # fixtures; a new user has no token yet
        return
    update_fields = kwargs.get("update_fields")
    if update_fields is not None and not WATCHED_FIELDS & set(update_fields):
        return  # e.g. the login's last_login: no query
    with transaction.atomic():
        # The user's row locked, as accounts.services.issue_api_token locks it: a token being
        # issued at this moment is committed before this reads, and so ended too.
        stored = (
            get_user_model()
            ._default_manager.select_for_update()
            .filter(pk=instance.pk)
            .values_list("password", flat=True)
            .first()
        )
        if stored is not None and (not instance.is_active or stored != instance.password):
            end_api_tokens(instance)
