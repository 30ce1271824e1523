"""User management forms: they parse what the admin typed; accounts.services decides.

Region and unit choices come from the admin's scope (``for_user``), labelled with their
full path (河南省/南阳市/南召县) from one region-tree query, so two places of the same name
can be told apart.
"""

from django import forms
from django.forms.models import ModelChoiceIterator
from django.utils.translation import gettext as _

from core.choices import Role
from core.forms import BootstrapFormMixin
from core.models import Region, Unit
from core.regions import RegionTree
from core.scope import MANAGE_USERS, VIEW


def region_path(tree: RegionTree, region_id: int) -> str:
    chain = [region_id, *tree.ancestors(region_id)]
    return "/".join(tree.names.get(pk, "?") for pk in reversed(chain))


class SortedChoiceIterator(ModelChoiceIterator):
    """Choices sorted by their label (the path), so a region's children follow it."""

    def __iter__(self):
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        yield from sorted((self.choice(obj) for obj in self.queryset), key=lambda c: str(c[1]))


class RegionField(forms.ModelChoiceField):
    iterator = SortedChoiceIterator

    def __init__(self, *args, tree: RegionTree, **kwargs):
        super().__init__(*args, **kwargs)
        self.tree = tree

    def label_from_instance(self, obj: Region) -> str:
        return region_path(self.tree, obj.pk)


class UnitField(RegionField):
    def label_from_instance(self, obj: Unit) -> str:
        return f"{obj.name}（{region_path(self.tree, obj.region_id)}）"


class ScopeFieldsMixin:
    """Role, region and unit fields limited to what the acting admin may hand out. Listed
    after BootstrapFormMixin in the bases, so the mixin styles these fields too."""

    def __init__(self, *args, actor, **kwargs):
        super().__init__(*args, **kwargs)
        tree = RegionTree.load()
        self.fields["role"] = forms.ChoiceField(label="角色", choices=Role.choices)
        self.fields["region"] = RegionField(
            label="管辖区划",
            queryset=Region.objects.for_user(actor, MANAGE_USERS),
            tree=tree,
            help_text="可查看和办理该区划及其下级区划的事项",
        )
        self.fields["unit"] = UnitField(
            label="所属单位",
            queryset=Unit.objects.for_user(actor, VIEW),
            tree=tree,
            required=False,
            help_text="联络员代表的责任单位（可选），须在管辖区划内或其上级",
        )


class PasswordPairMixin:
    def clean(self):
        data = super().clean()
        first, second = data.get("password1"), data.get("password2")
        if first and second and first != second:
            self.add_error("password2", _("两次输入的密码不一致"))
        return data


def _password_field(label: str, help_text: str = "") -> forms.CharField:
    return forms.CharField(
        label=label,
        strip=False,
        help_text=help_text,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )


PASSWORD_HELP = "至少 10 个字符，不能全为数字、过于常见或与用户名、姓名相近"


class UserCreateForm(PasswordPairMixin, BootstrapFormMixin, ScopeFieldsMixin, forms.Form):
    username = forms.CharField(
        label="用户名", max_length=150, help_text="登录用，可用字母、数字和 @ . + - _"
    )
    full_name = forms.CharField(label="姓名", max_length=150, required=False)
    email = forms.CharField(label="电子邮箱", max_length=254, required=False)
    password1 = _password_field("密码", PASSWORD_HELP)
    password2 = _password_field("确认密码")


class UserEditForm(BootstrapFormMixin, ScopeFieldsMixin, forms.Form):
    full_name = forms.CharField(label="姓名", max_length=150, required=False)
    email = forms.CharField(label="电子邮箱", max_length=254, required=False)
    is_active = forms.BooleanField(label="启用（停用后不能登录）", required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.order_fields(["full_name", "email", "role", "region", "unit", "is_active"])

    @staticmethod
    def initial_for(user) -> dict:
        profile = user.profile
        return {
            "full_name": user.first_name,
            "email": user.email,
            "role": profile.role,
            "region": profile.region_id,
            "unit": profile.unit_id,
            "is_active": user.is_active,
        }


class SetPasswordForm(PasswordPairMixin, BootstrapFormMixin, forms.Form):
    password1 = _password_field("新密码", PASSWORD_HELP)
    password2 = _password_field("确认新密码")
