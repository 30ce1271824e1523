"""User management pages for admins: the list, create, edit (role, scope, active), password.

Views parse input and call accounts.services. A role without ``manage_users`` gets 403 on
every page; a user outside the admin's scope is 404.
"""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts import services
from accounts.filtersets import UserFilterSet
from accounts.forms import SetPasswordForm, UserCreateForm, UserEditForm
from core.history import history_entries
from core.scope import MANAGE_USERS, require
from core.services import NotAllowed, ServiceError

# The service names a field by its own name; the forms name the password pair.
FORM_FIELD = {"password": "password1"}


def _add_error(form, error: ServiceError) -> None:
    name = FORM_FIELD.get(error.field, error.field)
    form.add_error(name if name in form.fields else None, error.message)


def user_list(request):
    require(request.user, MANAGE_USERS)
    queryset = (
        services.managed_users(request.user)
        .select_related("profile__region", "profile__unit")
        .order_by("username")
    )
    filterset = UserFilterSet(request.GET, queryset=queryset, request=request)
    page = Paginator(filterset.qs, 50).get_page(request.GET.get("page"))
    return render(request, "accounts/user_list.html", {"filterset": filterset, "page": page})


def user_create(request):
    require(request.user, MANAGE_USERS)
    form = UserCreateForm(request.POST or None, actor=request.user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            user = services.create_user(
                actor=request.user,
                username=data["username"],
                full_name=data["full_name"],
                email=data["email"],
                password=data["password1"],
                role=data["role"],
                region=data["region"],
                unit=data["unit"],
            )
        except NotAllowed as error:
            raise PermissionDenied(error.message) from None
        except ServiceError as error:
            _add_error(form, error)
        else:
            messages.success(request, _("已创建用户 %(username)s") % {"username": user.username})
            return redirect("accounts:user_edit", pk=user.pk)
    return render(
        request, "accounts/user_form.html", {"form": form}, status=400 if form.errors else 200
    )


def _managed(request, pk: int):
    require(request.user, MANAGE_USERS)
    return get_object_or_404(
        services.managed_users(request.user).select_related("profile__region", "profile__unit"),
        pk=pk,
    )


def _edit_page(request, user, form, password_form):
    context = {
        "managed": user,
        "form": form,
        "password_form": password_form,
        "history": history_entries(user.profile),
    }
    status = 400 if form.errors or password_form.errors else 200
    return render(request, "accounts/user_edit.html", context, status=status)


def user_edit(request, pk: int):
    user = _managed(request, pk)
    if request.method != "POST":
        form = UserEditForm(initial=UserEditForm.initial_for(user), actor=request.user)
        return _edit_page(request, user, form, SetPasswordForm())
    form = UserEditForm(request.POST, actor=request.user)
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.update_user(
                user,
                actor=request.user,
                role=data["role"],
                region=data["region"],
                unit=data["unit"],
                is_active=data["is_active"],
                full_name=data["full_name"],
                email=data["email"],
            )
        except NotAllowed as error:
            raise PermissionDenied(error.message) from None
        except ServiceError as error:
            _add_error(form, error)
        else:
            messages.success(request, _("已保存用户 %(username)s") % {"username": user.username})
            return redirect("accounts:user_edit", pk=user.pk)
    return _edit_page(request, user, form, SetPasswordForm())


@require_POST
def user_password(request, pk: int):
    user = _managed(request, pk)
    password_form = SetPasswordForm(request.POST)
    if password_form.is_valid():
        try:
            services.set_password(
                user, actor=request.user, password=password_form.cleaned_data["password1"]
            )
        except NotAllowed as error:
            raise PermissionDenied(error.message) from None
        except ServiceError as error:
            _add_error(password_form, error)
        else:
            messages.success(request, _("已重置 %(username)s 的密码") % {"username": user.username})
            return redirect("accounts:user_edit", pk=user.pk)
    form = UserEditForm(initial=UserEditForm.initial_for(user), actor=request.user)
    return _edit_page(request, user, form, password_form)
