"""``Model.objects.for_user(user, action)``: the scope rule of core.scope, as a queryset
method. Kept apart from core.scope so models can import it without an import cycle."""

from django.db.models import QuerySet


class ScopedQuerySet(QuerySet):
    def for_user(self, user, action: str = "view") -> QuerySet:
        from core.scope import restrict

        return restrict(self, user, action)
