"""The user list's filters (search, role, region, active); one FilterSet, as for every list."""

import django_filters
from django.contrib.auth.models import User
from django.db.models import Q

from core.choices import Role
from core.filters import RegionTreeFilter
from core.models import Region
from core.scope import MANAGE_USERS

ACTIVE_CHOICES = [("1", "启用"), ("0", "停用")]


class UserFilterSet(django_filters.FilterSet):
    search = django_filters.CharFilter(method="filter_search", label="搜索")
    role = django_filters.ChoiceFilter(
        field_name="profile__role", choices=Role.choices, label="角色"
    )
    region = RegionTreeFilter(
        field_name="profile__region_id", queryset=Region.objects.none(), label="区划"
    )
    active = django_filters.ChoiceFilter(
        field_name="is_active", choices=ACTIVE_CHOICES, method="filter_active", label="状态"
    )

    class Meta:
        model = User
        fields = ["search", "role", "region", "active"]

    def __init__(self, *args, request=None, **kwargs):
        super().__init__(*args, request=request, **kwargs)
        user = getattr(request, "user", None)
        self.filters["region"].queryset = Region.objects.for_user(user, MANAGE_USERS)
        for field in self.form.fields.values():
            css = "form-select form-select-sm" if hasattr(field, "choices") else "form-control"
            field.widget.attrs["class"] = css

    def filter_search(self, queryset, name, value):
        return queryset.filter(
            Q(username__icontains=value)
            | Q(first_name__icontains=value)
            | Q(last_name__icontains=value)
            | Q(email__icontains=value)
            | Q(profile__unit__name__icontains=value)
        )

    def filter_active(self, queryset, name, value):
        return queryset.filter(is_active=value == "1")
