"""Writes on user accounts: create a user with a role and a scope, change it, set a password.

Admins only (``manage_users``), and only inside their own scope: the new or changed user's
region must lie in the admin's region or below it, so an admin can never hand out more than
they hold. Each function is one transaction and leaves a history record on the user's
Profile (who, when, what) — the account fields themselves (name, e-mail, active, password)
live on Django's User, which keeps no history, so the Profile record's reason names them.

``actor=None`` is the command line (``manage.py create_scoped_user``): the operator of the
server, outside every scope, recorded as 系统 in the history.
"""

from __future__ import annotations

import datetime
import secrets

from django.conf import settings
from django.contrib.auth import password_validation
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.models import ApiToken, Profile
from core.choices import Role
from core.models import Region, Unit
from core.regions import RegionTree
from core.scope import MANAGE_USERS, forget_scope, require, restrict, scope_of
from core.services import NotAllowed, ServiceError, attribute_change

FULL_NAME_MAX = 150


# ------------------------------------------------------------------------------ checks


def _check_may_manage(actor, region: Region) -> None:
    if actor is None:  # the command line
        return
    require(actor, MANAGE_USERS)
    if not scope_of(actor).covers(region):
        raise NotAllowed(
            "out_of_scope", _("区划“%(region)s”不在您的用户管理范围内") % {"region": region.name}
        )


def managed_users(actor):
    """The users ``actor`` may manage: those whose region lies in the actor's scope."""
    return restrict(User.objects.all(), actor, MANAGE_USERS)


def _role(role: str) -> str:
    if role not in Role.values:
        labels = "、".join(
            _("%(value)s（%(label)s）") % {"value": value, "label": label}
            for value, label in Role.choices
        )
        raise ServiceError(
            "bad_role",
            _("未知角色“%(role)s”，应为 %(labels)s 之一") % {"role": role, "labels": labels},
            field="role",
        )
    return role


def _unit(unit: Unit | None, region: Region) -> Unit | None:
    """A unit must sit in the user's region, below it or above it (a county liaison may
    represent a city department's county office)."""
    if unit is None:
        return None
    tree = RegionTree.load()
    allowed = tree.subtree(region.pk) | set(tree.ancestors(region.pk))
    if unit.region_id not in allowed:
        raise ServiceError(
            "unit_outside_region",
            _("单位“%(unit)s”属于%(unit_region)s，与管辖区划“%(region)s”无上下级关系")
            % {"unit": unit.name, "unit_region": unit.region.name, "region": region.name},
            field="unit",
        )
    return unit


def _username(username: str) -> str:
    username = (username or "").strip()
    if not username:
        raise ServiceError("username_required", _("请填写用户名"), field="username")
    if len(username) > 150:
        raise ServiceError("username_too_long", _("用户名不能超过 150 个字符"), field="username")
    try:
        User.username_validator(username)
    except ValidationError:
        raise ServiceError(
            "bad_username",
            _("用户名“%(username)s”含有不允许的字符，只能使用字母、数字和 @ . + - _")
            % {"username": username},
            field="username",
        ) from None
    if User.objects.filter(username__iexact=username).exists():
        raise ServiceError(
            "username_taken",
            _("用户名“%(username)s”已被使用") % {"username": username},
            field="username",
        )
    return username


def _email(email: str) -> str:
    email = (email or "").strip()
    if email:
        try:
            validate_email(email)
        except ValidationError:
            raise ServiceError(
                "bad_email",
                _("“%(email)s”不是有效的电子邮箱地址") % {"email": email},
                field="email",
            ) from None
    return email


def _full_name(full_name: str) -> str:
    full_name = (full_name or "").strip()
    if len(full_name) > FULL_NAME_MAX:
        raise ServiceError("full_name_too_long", _("姓名不能超过 150 个字符"), field="full_name")
    return full_name


def check_password(password: str, user: User) -> None:
    """Django's validators (settings.AUTH_PASSWORD_VALIDATORS), with their messages in
    Chinese whatever language the page is shown in: the service contract speaks Chinese."""
    if not password:
        raise ServiceError("password_required", _("请填写密码"), field="password")
    with translation.override("zh-hans"):
        try:
            password_validation.validate_password(password, user)
        except ValidationError as error:
            raise ServiceError(
                "weak_password",
                _("密码强度不足：%(problems)s") % {"problems": "".join(error.messages)},
                field="password",
            ) from None


def _attribute(profile: Profile, actor, reason: str) -> None:
    attribute_change(profile, actor=actor, reason=reason)


# ------------------------------------------------------------------------------ writes


@transaction.atomic
def create_user(
    *,
    actor,
    username: str,
    full_name: str,
    email: str,
    password: str,
    role: str,
    region: Region,
    unit: Unit | None = None,
) -> User:
    _check_may_manage(actor, region)
    role = _role(role)
    unit = _unit(unit, region)
    username = _username(username)
    user = User(username=username, first_name=_full_name(full_name), email=_email(email))
    check_password(password, user)
    user.set_password(password)
    user.save()
    profile = Profile(user=user, role=role, region=region, unit=unit)
    _attribute(profile, actor, "创建用户")
    profile.save()
    return user


@transaction.atomic
def update_user(
    user: User,
    *,
    actor,
    role: str,
    region: Region,
    unit: Unit | None = None,
    is_active: bool = True,
    full_name: str | None = None,
    email: str | None = None,
) -> User:
    """Change a user's role, scope, activity and (optionally) name and e-mail."""
    user = User.objects.select_for_update().get(pk=user.pk)
    profile = Profile.objects.select_for_update().filter(user=user).first()
    if profile is None:
        raise NotAllowed("no_profile", _("该账号没有角色与范围（超级用户），请在后台管理"))
    _check_may_manage(actor, profile.region)  # may manage the user as they are …
    _check_may_manage(actor, region)  # … and as they will be
    role = _role(role)
    unit = _unit(unit, region)
    if actor is not None and actor.pk == user.pk:
        if role != profile.role or region.pk != profile.region_id or not is_active:
            raise ServiceError(
                "own_account",
                _("不能修改自己的角色、管辖区划或停用自己的账号，请由其他管理员办理"),
            )

    notes = []
    account_fields = []
    if full_name is not None and _full_name(full_name) != user.first_name:
        notes.append(f"姓名：{user.first_name or '—'} → {full_name.strip() or '—'}")
        user.first_name = full_name.strip()
        account_fields.append("first_name")
    if email is not None and _email(email) != user.email:
        notes.append(f"邮箱：{user.email or '—'} → {email.strip() or '—'}")
        user.email = email.strip()
        account_fields.append("email")
    if is_active != user.is_active:
        notes.append("启用账号" if is_active else "停用账号")
        user.is_active = is_active
        account_fields.append("is_active")
    if account_fields:
        user.save(update_fields=account_fields)

    profile_fields = [
        name
        for name, new in (("role", role), ("region_id", region.pk), ("unit_id", unit and unit.pk))
        if getattr(profile, name) != new
    ]
    profile.role, profile.region, profile.unit = role, region, unit
    if profile_fields or notes:
        _attribute(profile, actor, "；".join(["修改用户", *notes]))
        # The Profile record is the account's audit trail, so write one even when only the
        # account fields changed (``update_fields`` may not be empty, "role" is harmless).
        profile.save(update_fields=[f.removesuffix("_id") for f in profile_fields] or ["role"])
    forget_scope(user)
    return user


@transaction.atomic
def set_password(user: User, *, actor, password: str) -> User:
    user = User.objects.select_for_update().get(pk=user.pk)
    profile = Profile.objects.select_for_update().filter(user=user).first()
    if profile is None:
        raise NotAllowed("no_profile", _("该账号没有角色与范围（超级用户），请在后台管理"))
    _check_may_manage(actor, profile.region)
    check_password(password, user)
    user.set_password(password)
    user.save(update_fields=["password"])
    _attribute(profile, actor, "重置密码")
    profile.save(update_fields=["role"])
    return user


# ------------------------------------------------------------------------------ API tokens

# Live tokens a user may hold at once (one per outside system is the idea); expired ones do
# not count and are cleared whenever the user gets a new one.
MAX_API_TOKENS = 20


@transaction.atomic
def issue_api_token(user: User) -> ApiToken:
    """A new API token for ``user``, valid for settings.API_TOKEN_TTL_DAYS; the user's other
    tokens stay valid. The key is on the returned token as ``.key`` — the only time it is
    known: the database keeps its digest. The user's row is locked (as accounts.signals locks
    it when a password changes or the account is deactivated), so a token issued at that very
    moment is ended with the others, never left behind."""
    user = User.objects.select_for_update().get(pk=user.pk)
    if not user.is_active:
        raise NotAllowed("inactive_user", _("该用户已停用，不能获取访问令牌"))
    now = timezone.now()
    ApiToken.objects.filter(user=user, expires__lte=now).delete()
    if ApiToken.objects.filter(user=user).count() >= MAX_API_TOKENS:
        raise ServiceError(
            "too_many_tokens",
            _("已有 %(count)s 个有效的访问令牌，请先在“API 访问令牌”页面撤销不再使用的令牌")
            % {"count": MAX_API_TOKENS},
        )
    key = secrets.token_hex(20)
    token = ApiToken.objects.create(
        user=user,
        digest=ApiToken.digest_of(key),
        prefix=key[:8],
        created=now,
        expires=now + datetime.timedelta(days=settings.API_TOKEN_TTL_DAYS),
    )
    token.key = key
    return token


@transaction.atomic
def revoke_api_token(user: User, token_id: int | None = None) -> int:
    """End one of the user's own tokens (``token_id``), or all of them; how many ended."""
    tokens = ApiToken.objects.filter(user=user)
    if token_id is not None:
        tokens = tokens.filter(pk=token_id)
    deleted, _rows = tokens.delete()
    return deleted


def end_api_tokens(user: User) -> int:
    """Every token of the user ends (password changed or reset, account deactivated); called
    inside the write that changes the user (accounts.signals)."""
    deleted, _rows = ApiToken.objects.filter(user_id=user.pk).delete()
    return deleted
